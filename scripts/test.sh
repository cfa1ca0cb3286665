#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a tested build: installs the
# packages, configures, builds everything and runs the whole CTest suite.
#   BUILD_DIR=build-asan CMAKE_ARGS="-DANNEAL_SANITIZE=ON" ./scripts/test.sh
# reuses it for the sanitizer build. More knobs: BUILD_TYPE, JOBS,
# TEST_TIMEOUT (seconds per test, default 900), CTEST_ARGS (e.g. "-R install").
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

"$here/setup.sh"
"$here/configure-build.sh"

cd "$here/.." && cd "${BUILD_DIR:-build}"
# shellcheck disable=SC2206
extra=(${CTEST_ARGS:-})
ctest --output-on-failure -j2 --timeout "${TEST_TIMEOUT:-900}" "${extra[@]}"
