#!/usr/bin/env bash
# Compile-time measurement of docs/performance.md ("Compile time"): the median of 5 compilations of
#   ten_lines.cpp              the 10-line program, plain header-only (-O2 and -O0)
#   ten_lines.cpp, extern      the same unit with -DLOOM_EXTERN_TEMPLATES (its instantiations elsewhere)
#   instantiate.cpp            the one unit that holds the instantiations (LOOM_INSTANTIATE_TEMPLATES)
#   include_only.cpp           the umbrella header alone
# Usage: bench/compile_time/measure.sh [include dir] (default: this checkout's include/). Run it on an
# idle machine: it measures wall time, which other jobs inflate.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
include=${1:-$here/../../include}
cxx=${CXX:-g++}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '#define LOOM_INSTANTIATE_TEMPLATES\n#include <loom/loom.hpp>\n' > "$out/instantiate.cpp"
median() {  # median wall seconds of 5 runs of the compile command "$@"
    local times=()
    for _ in 1 2 3 4 5; do
        local start end
        start=$(date +%s.%N)
        "$@" > /dev/null
        end=$(date +%s.%N)
        times+=("$(awk "BEGIN { print $end - $start }")")
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n 3p
}
flags=(-std=c++20 -fopenmp -I"$include" -c -o "$out/x.o")
echo "compiler: $($cxx --version | head -1); include: $include"
printf '%-34s %6.2f s\n' "ten_lines.cpp -O2" "$(median "$cxx" -O2 "${flags[@]}" "$here/ten_lines.cpp")"
printf '%-34s %6.2f s\n' "ten_lines.cpp -O0" "$(median "$cxx" -O0 "${flags[@]}" "$here/ten_lines.cpp")"
printf '%-34s %6.2f s\n' "include_only.cpp -O2" "$(median "$cxx" -O2 "${flags[@]}" "$here/include_only.cpp")"
if grep -q LOOM_EXTERN_TEMPLATES "$include/loom/instantiate.hpp" 2>/dev/null; then
    printf '%-34s %6.2f s\n' "ten_lines.cpp -O2, extern" \
        "$(median "$cxx" -O2 -DLOOM_EXTERN_TEMPLATES "${flags[@]}" "$here/ten_lines.cpp")"
    printf '%-34s %6.2f s\n' "instantiate.cpp -O2" "$(median "$cxx" -O2 "${flags[@]}" "$out/instantiate.cpp")"
fi
