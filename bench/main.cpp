// The one main() of anneal-bench; every other bench/*.cpp only registers
// benchmarks. `anneal-bench --check [--steps N]` instead trains each
// workload (W1..W6) for 230 steps and prints one JSON line per workload with
// torch_ref.py's metric, so compare.py can see that fast is also right;
// `anneal-bench --profile W3 [--steps N] [--threads T]` prints the time of
// each step of a workload's compiled program.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "bench/workloads.hpp"

namespace {

int flag(int argc, char** argv, const char* name, int fallback) {
  for (int j = 1; j + 1 < argc; ++j)
    if (std::strcmp(argv[j], name) == 0) return std::stoi(argv[j + 1]);
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  anneal::bounded_omp_spinning(argv);  // backend/threads.hpp: fast parallel regions, robust when cores are shared
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--profile") != 0) continue;
    try {
      std::printf("%s", anneal::bench::profile_workload(argv[i + 1], flag(argc, argv, "--steps", 200),
                                                        flag(argc, argv, "--threads", 1)).c_str());
      return 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "anneal-bench --profile: %s\n", e.what());
      return 1;
    }
  }
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--check") != 0) continue;
    const int steps = flag(argc, argv, "--steps", 230);
    try {
      for (const std::string& id : anneal::bench::workload_ids()) {
        std::printf("%s\n", anneal::bench::check_workload(id, steps).c_str());
        std::fflush(stdout);
      }
      return 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "anneal-bench --check: %s\n", e.what());
      return 1;
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
