#!/usr/bin/env bash
# Configures and builds Anneal: the shared step of demo.sh and test.sh.
#   BUILD_DIR   build directory (default: build)
#   BUILD_TYPE  CMAKE_BUILD_TYPE (default: Release)
#   CMAKE_ARGS  extra configure arguments, word-split, applied last so they
#               override the defaults (e.g. "-DANNEAL_SANITIZE=ON")
#   JOBS        parallel build jobs (default: all cores)
# Any arguments are build targets (default: all).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

build_dir="${BUILD_DIR:-build}"
generator=()
# An existing build directory keeps its generator; a new one uses Ninja if present.
if [[ ! -f "$build_dir/CMakeCache.txt" ]] && command -v ninja >/dev/null; then
  generator=(-G Ninja)
fi
# shellcheck disable=SC2206  # CMAKE_ARGS is deliberately word-split
extra=(${CMAKE_ARGS:-})

cmake -S . -B "$build_dir" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" "${extra[@]}" >/dev/null

targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$build_dir" --parallel "${JOBS:-$(nproc)}" "${targets[@]}"
