#!/usr/bin/env bash
# What CTest's `fuzz_graph_json_clang` test runs in a normal (gcc) build:
# builds the libFuzzer target with clang in a build directory of its own, then
#   1. replays every file of tests/fuzz/corpus/ through it (ASan + UBSan +
#      LeakSanitizer), and
#   2. fuzzes for a fixed number of executions from a fixed seed.
# Fails if clang or the fuzzer runtime is missing, if the target does not
# build, or if any input crashes, trips a sanitizer, leaks or hangs.
#
#   build-and-replay.sh SOURCE_DIR FUZZ_BUILD_DIR [CXX]
#
# CXX defaults to clang++-14. Environment knobs:
#   ANNEAL_FUZZ_RUNS  executions of the fuzzing step (default 20000; 0 skips it)
#   ANNEAL_FUZZ_SEED  its seed (default 1)
#   JOBS              parallel compile jobs (default: all cores)
# See docs/fuzzing.md.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: $0 SOURCE_DIR FUZZ_BUILD_DIR [CXX]" >&2
  exit 2
fi
src="$(cd "$1" && pwd)"
build="$2"
cxx_name="${3:-clang++-14}"
runs="${ANNEAL_FUZZ_RUNS:-20000}"
seed="${ANNEAL_FUZZ_SEED:-1}"
jobs="${JOBS:-$(nproc)}"
fuzzer="$build/tests/fuzz/fuzz_graph_json"
t0=$SECONDS

die() {
  echo "fuzz: FAILED: $*" >&2
  exit 1
}

# --- the toolchain: fail loudly, never skip -------------------------------------
cxx="$(command -v "$cxx_name" || true)"
[[ -n "$cxx" ]] || die "'$cxx_name' not found. The fuzz target needs clang and its fuzzer runtime" \
  "(Debian 12: clang-14 libclang-rt-14-dev); run scripts/setup.sh."
[[ "$("$cxx" --version)" == *clang* ]] || die "'$cxx' is not clang; libFuzzer needs clang."
runtime_dir="$("$cxx" -print-runtime-dir)"
[[ -f "$runtime_dir/libclang_rt.fuzzer-$(uname -m).a" ]] ||
  die "no libFuzzer runtime in $runtime_dir (Debian 12: libclang-rt-14-dev); run scripts/setup.sh."

# --- configure: a clang build directory that owes nothing to the caller's build --
# A fuzz build made by another compiler or for another source tree is thrown
# away rather than reconfigured (CMake cannot switch compilers in place); any
# other build directory is left alone.
if [[ -f "$build/CMakeCache.txt" ]]; then
  grep -q '^ANNEAL_FUZZ:BOOL=ON$' "$build/CMakeCache.txt" ||
    die "$build is a build directory without ANNEAL_FUZZ=ON; give the fuzz build a directory of its own."
  cached_cxx="$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")"
  cached_src="$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")"
  if [[ "$cached_cxx" != "$cxx" || "$cached_src" != "$src" ]]; then
    echo "fuzz: $build was configured with '$cached_cxx' for '$cached_src'; starting it afresh"
    rm -rf "$build"
  fi
fi
mkdir -p "$build"
generator=()
if [[ ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null; then
  generator=(-G Ninja)
fi
# Only the fuzz target is built (backend, graph, ops and the loader's own
# sources), at -O1: instrumented code still runs a few thousand inputs a
# second, and compiles much faster than at -O3. No -DNDEBUG: asserts stay on.
# The caller's compiler and flag variables are dropped so nothing of its build
# leaks in.
env -u CC -u CXX -u CFLAGS -u CXXFLAGS -u CPPFLAGS -u LDFLAGS -u CMAKE_GENERATOR \
  -u CMAKE_BUILD_TYPE -u CMAKE_TOOLCHAIN_FILE -u CMAKE_CXX_COMPILER_LAUNCHER \
  cmake -S "$src" -B "$build" "${generator[@]}" \
  -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
  -DANNEAL_FUZZ=ON -DANNEAL_SANITIZE=OFF -DANNEAL_WERROR=OFF \
  -DANNEAL_BUILD_TESTS=ON -DANNEAL_BUILD_EXAMPLES=OFF -DANNEAL_BUILD_BENCH=OFF \
  >"$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; die "configuring $build with $cxx"; }
echo "fuzz: configured $build with $cxx ($((SECONDS - t0)) s)"

t1=$SECONDS
cmake --build "$build" --parallel "$jobs" --target fuzz_graph_json || die "building fuzz_graph_json"
echo "fuzz: built $fuzzer ($((SECONDS - t1)) s)"

# --- 1. replay the corpus -------------------------------------------------------------
# Files given one by one: libFuzzer runs each once and writes nothing back.
shopt -s nullglob
corpus=("$src"/tests/fuzz/corpus/*)
[[ ${#corpus[@]} -gt 0 ]] || die "no files in $src/tests/fuzz/corpus"
t2=$SECONDS
"$fuzzer" -timeout=10 -rss_limit_mb=2048 "${corpus[@]}" >"$build/replay.log" 2>&1 ||
  { cat "$build/replay.log" >&2; die "replaying the corpus: an input above crashed, leaked, hung or failed a check"; }
executed="$(grep -c '^Executed ' "$build/replay.log" || true)"
[[ "$executed" -eq ${#corpus[@]} ]] ||
  { cat "$build/replay.log" >&2; die "libFuzzer executed $executed of ${#corpus[@]} corpus files"; }
echo "fuzz: replayed ${#corpus[@]} corpus files cleanly ($((SECONDS - t2)) s)"

# --- 2. a short, repeatable fuzzing run -------------------------------------------------
if [[ "$runs" -gt 0 ]]; then
  t3=$SECONDS
  work="$build/fuzz-work"      # new inputs go here, never into the source tree
  rm -rf "$work" "$build"/crash-* "$build"/leak-* "$build"/timeout-* "$build"/oom-*
  mkdir -p "$work"
  if ! "$fuzzer" "$work" "$src/tests/fuzz/corpus" -dict="$src/tests/fuzz/graph_json.dict" \
      -seed="$seed" -runs="$runs" -max_total_time=300 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$build/" >"$build/fuzz.log" 2>&1; then
    tail -n 60 "$build/fuzz.log" >&2
    found=("$build"/crash-* "$build"/leak-* "$build"/timeout-* "$build"/oom-*)
    die "fuzzing (seed $seed, $runs runs) found an input that fails; it is saved as" \
      "${found[*]:-(nothing saved)} (see docs/fuzzing.md)"
  fi
  echo "fuzz: $(grep -E '^Done [0-9]+ runs' "$build/fuzz.log"), seed $seed, nothing found;" \
    "$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$build/fuzz.log" | tail -n 1) ($((SECONDS - t3)) s)"
fi
echo "fuzz: OK ($((SECONDS - t0)) s in all)"
