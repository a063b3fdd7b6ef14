#!/usr/bin/env bash
# Installs, with apt-get, whatever loom's build, tests, examples and benchmarks need and this Debian
# machine lacks (run as root). Everything comes from Debian's archive; nothing is downloaded at build time.
set -euo pipefail
packages=(g++ clang-14 libclang-rt-14-dev make cmake libomp-dev zlib1g-dev libpng-dev libstb-dev libeigen3-dev doctest-dev libbenchmark-dev
          libopenblas-dev dataset-fashion-mnist openmpi-bin libopenmpi-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
