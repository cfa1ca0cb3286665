#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to the demo: installs the
# packages, builds Release and trains an MLP classifier on Fashion-MNIST
# (examples/mlp_fashion_mnist.cpp; data from Debian's dataset-fashion-mnist).
# Arguments are passed to the demo program. BUILD_DIR, BUILD_TYPE, CMAKE_ARGS,
# JOBS as for scripts/test.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
demo=mlp_fashion_mnist

"$here/setup.sh"
if [[ ! -f "$here/../examples/$demo.cpp" ]]; then
  echo "demo: examples/$demo.cpp does not exist in this checkout" >&2
  exit 1
fi
"$here/configure-build.sh" "$demo"

cd "$here/.."
exec "${BUILD_DIR:-build}/examples/$demo" "$@"
