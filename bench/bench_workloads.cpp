// W1..W6 (../shared/bench/README.md): one iteration = one training step;
// the argument is Anneal's thread budget. Scale_W5_b1000 / Scale_W6_b1000:
// the same models at batch 1000, for scaling curves on many cores.
#include <benchmark/benchmark.h>

#include <fstream>
#include <map>
#include <memory>
#include <tuple>
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

// One training run per (workload, batch, threads), kept for the process:
// Google Benchmark calls a benchmark function several times (its first short
// run, then each repetition), and a fresh model per call would leave the
// earlier ones' freed pages and oneDNN primitives in the RSS; the work memory
// is one model's parameters, state, arena and kernels.
struct Run {
  WorkloadData data;  // loaded before the baseline, as torch_ref.py does
  double rss_after_data;
  Workload w;
  Session session;
  std::int64_t step = 0;
  Run(const std::string& id, std::int64_t batch, const Workload& probe)
      : data(probe.binary, probe.batch), rss_after_data(rss_kb()), w(make_workload(id, batch)), session(*w.graph) {}
};

Run& run_for(const std::string& id, std::int64_t batch, int threads) {
  static std::map<std::tuple<std::string, std::int64_t, int>, std::unique_ptr<Run>> runs;
  auto& r = runs[{id, batch, threads}];
  if (!r) {
    r = std::make_unique<Run>(id, batch, make_workload(id, batch));
    for (; r->step < 30; ++r->step)  // warm-up, as torch_ref.py
      r->session.run_views(r->data.batch(r->step), r->w.step_fetches, r->w.step_targets);
  }
  return *r;
}

void run_workload(benchmark::State& state, const std::string& id, std::int64_t batch) {
  set_num_threads(static_cast<int>(state.range(0)));
  Run& r = run_for(id, batch, num_threads());
  for (auto _ : state)
    benchmark::DoNotOptimize(r.session.run_views(r.data.batch(r.step++), r.w.step_fetches, r.w.step_targets).data());
  state.counters["rss_after_data_kb"] = r.rss_after_data;
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
