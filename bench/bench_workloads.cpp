// W1..W6 (../shared/bench/README.md): one iteration = one training step;
// the argument is Anneal's thread budget. Scale_W5_b1000 / Scale_W6_b1000:
// the same models at batch 1000, for scaling curves on many cores.
#include <benchmark/benchmark.h>

#include <fstream>
#include <string>

#include "bench/workloads.hpp"

namespace {

using namespace anneal;
using namespace anneal::bench;

double rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6));
  return -1;
}

void run_workload(benchmark::State& state, const std::string& id, std::int64_t batch) {
  set_num_threads(static_cast<int>(state.range(0)));
  Workload probe = make_workload(id, batch);
  WorkloadData data(probe.binary, probe.batch);
  // Google Benchmark calls this function several times per process; later
  // calls reuse the heap pages the first one freed, so only the first call's
  // baseline shows the model's memory (parameters, state, arena, oneDNN).
  static const double rss_data = rss_kb();
  Workload w = make_workload(id, batch);
  Session s(*w.graph);
  std::int64_t i = 0;
  for (; i < 30; ++i) s.run_views(data.batch(i), w.step_fetches, w.step_targets);  // warm-up, as torch_ref.py
  for (auto _ : state) benchmark::DoNotOptimize(s.run_views(data.batch(i++), w.step_fetches, w.step_targets).data());
  state.counters["rss_after_data_kb"] = rss_data;
  state.counters["rss_end_kb"] = rss_kb();
  state.counters["threads"] = num_threads();
}

const bool registered = [] {
  // Names only: graphs are not built during static initialization.
  const std::vector<std::pair<std::string, std::string>> names = {
      {"W1", "rbm_cd1"}, {"W2", "rbm_pcd1"}, {"W3", "vae"}, {"W4", "gan"}, {"W5", "deep_ae"}, {"W6", "mlp"}};
  for (const auto& [id, slug] : names) {
    benchmark::RegisterBenchmark((id + "_" + slug).c_str(),
                                 [id](benchmark::State& s) { run_workload(s, id, 0); })
        ->Arg(1)->Arg(2)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMillisecond);
  }
  for (const char* id : {"W5", "W6"})
    benchmark::RegisterBenchmark((std::string("Scale_") + id + "_b1000").c_str(),
                                 [id](benchmark::State& s) { run_workload(s, id, 1000); })
        ->Arg(1)->Arg(2)->Arg(4)->Arg(8)->Arg(16)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
