#!/usr/bin/env bash
# Installs, with apt-get, whatever loom's build, tests, examples and benchmarks need and this Debian
# machine lacks (run as root). Everything comes from Debian's archive; nothing is downloaded at build time.
set -euo pipefail
packages=(g++ clang-14 libclang-rt-14-dev make cmake libomp-dev zlib1g-dev libpng-dev libstb-dev libeigen3-dev doctest-dev libbenchmark-dev
          libopenblas-dev dataset-fashion-mnist python3-onnx python3-torch python3-numpy nodejs
          openmpi-bin libopenmpi-dev)
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
# The ONNX tests' onnxruntime: npm's onnxruntime-node (Debian has no onnxruntime), pinned in
# tests/onnx/package.json and installed into tests/onnx/node_modules. Its Linux x64 binaries ship in the
# package, so --ignore-scripts skips only the optional GPU download and the tests then run offline.
# Debian's nodejs may already bring npm; installing the npm package beside such a nodejs conflicts.
if ! command -v npm >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends npm
fi
onnx_dir="$(dirname "$0")/../tests/onnx"
if [ ! -f "$onnx_dir/node_modules/onnxruntime-node/package.json" ]; then
  echo "installing onnxruntime-node into tests/onnx/node_modules"
  npm install --prefix "$onnx_dir" --ignore-scripts --no-audit --no-fund --loglevel=error
fi
