#!/usr/bin/env bash
# Installs every Debian 12 package Anneal needs to build, test, run its
# examples and benchmarks. Idempotent: when everything is already installed it
# does nothing (and needs no network); set ANNEAL_SETUP_FORCE=1 to run apt-get
# anyway. Uses sudo only when not root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build
  libdnnl-dev          # oneDNN 2.6 (OpenMP-threaded): the GEMM/conv kernels
  ocl-icd-opencl-dev   # oneDNN's CMake config requires OpenCL; Debian only recommends it
  libtbb-dev           # the runtime's executor
  nlohmann-json3-dev   # graph JSON, safetensors headers
  doctest-dev          # tests
  libbenchmark-dev     # bench/
  dataset-fashion-mnist  # /usr/share/datasets/fashion-mnist/ for the demo
  libpng-dev zlib1g-dev  # PNG pictures, gzipped IDX files
  libcli11-dev         # the `anneal` command's flags
  python3-numpy        # the independent safetensors reader in the tests
  git                  # provenance (git revision) in a run's config.json
  clang-14 libclang-rt-14-dev  # the libFuzzer target (tests/fuzz/); the -rt package has the fuzzer runtime
)

missing=()
for p in "${packages[@]}"; do
  if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != installed ]]; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 && "${ANNEAL_SETUP_FORCE:-0}" != 1 ]]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "setup: not root and no sudo; install these packages first: ${missing[*]}" >&2
  exit 1
fi

echo "setup: installing ${missing[*]:-${packages[*]}}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "setup: done"
