#!/usr/bin/env bash
# Compile time of this checkout against another (e.g. the commit before a change), interleaved so that
# both see the same machine: a virtual machine's speed drifts by 20-50% over an hour, which makes
# absolute seconds from different runs incomparable (docs/performance.md, "Compile time").
#   bash bench/compile_time/compare.sh /tmp/old/include     # e.g. after `git worktree add /tmp/old bd6229e`
# For each unit, the median of 5 rounds, each round compiling the unit with both trees back to back.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mine=$here/../../include
theirs=${1:?usage: compare.sh <other include dir>}
cxx=${CXX:-g++}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
seconds() {  # wall seconds of one compile command
    local start end
    start=$(date +%s.%N)
    "$@" > /dev/null
    end=$(date +%s.%N)
    awk "BEGIN { print $end - $start }"
}
median() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
compare() {  # label, extra flags...
    local label=$1
    shift
    local a=() b=()
    for _ in 1 2 3 4 5; do
        b+=("$(seconds "$cxx" -std=c++20 -fopenmp -c -o "$out/x.o" -I"$theirs" "$@")")
        a+=("$(seconds "$cxx" -std=c++20 -fopenmp -c -o "$out/x.o" -I"$mine" "$@")")
    done
    local ma mb
    ma=$(median "${a[@]}")
    mb=$(median "${b[@]}")
    printf '%-30s %7.2f s %7.2f s %6.2f\n' "$label" "$mb" "$ma" "$(awk "BEGIN { print $ma / $mb }")"
}
echo "compiler: $($cxx --version | head -1)"
printf '%-30s %9s %9s %6s\n' unit other this ratio
compare "ten_lines.cpp -O2" -O2 "$here/ten_lines.cpp"
compare "ten_lines.cpp -O0" -O0 "$here/ten_lines.cpp"
compare "include_only.cpp -O2" -O2 "$here/include_only.cpp"
# The extern unit against the other tree's plain unit: what a multi-unit program saves per unit.
a=()
for _ in 1 2 3 4 5; do a+=("$(seconds "$cxx" -std=c++20 -fopenmp -c -o "$out/x.o" -I"$mine" -O2 -DLOOM_EXTERN_TEMPLATES "$here/ten_lines.cpp")"); done
printf '%-30s %9s %7.2f s\n' "ten_lines.cpp -O2, extern" "" "$(median "${a[@]}")"
