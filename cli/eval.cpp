// anneal eval DIR [--metric NAME] [--split test|train|valid] [--limit N]
//             [--seed S] [metric options]
// Prints one JSON object on one line: {"metric", "value", "n", ...}.
#include <iostream>

#include "backend/error.hpp"
#include "cli/commands.hpp"
#include "cli/data.hpp"
#include "cli/run_dir.hpp"

namespace anneal::cli {

namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? "none" : s;
}

}  // namespace

void check_options(const Options& given, const std::vector<std::string>& allowed, const std::string& what) {
  for (const auto& [k, v] : given) {
    bool ok = false;
    for (const auto& a : allowed) ok |= a == k;
    if (!ok) throw InvalidInput("--" + k + ": not an option of " + what + " (its options: " + joined(allowed) + ")");
  }
}

int run_eval(const EvalArgs& a) {
  OpenRun r = open_run(a.dir, a.seed);
  const Config& c = r.config;
  const ModelKind& kind = *c.kind;
  const std::vector<std::string> metrics = kind.metrics(*r.graph);
  const std::string metric = !a.metric.empty() ? a.metric : !c.eval.metric.empty() ? c.eval.metric : metrics.at(0);
  bool known = false;
  for (const auto& m : metrics) known |= m == metric;
  if (!known)
    throw InvalidInput("--metric " + metric + ": model kind " + kind.name() + " has no such metric (it has: " +
                       joined(metrics) + ")");
  check_options(a.options, kind.metric_options(metric), "metric " + metric);
  const std::string split = a.split.empty() ? c.eval.split : a.split;

  const bool needs_train = kind.metric_needs_training_data(metric);
  Splits data = load_data(c, split != "test" || needs_train, split == "test");
  Dataset d = split_by_name(data, c, split);
  if (a.limit) d = take(d, *a.limit);
  if (d.size() == 0) throw InvalidInput(a.dir + ": the " + split + " split is empty");
  ModelRun run{*r.graph, *r.session, c, c.eval.batch_size, needs_train ? &data.train : nullptr};
  Json result = kind.evaluate(run, metric, d, a.options);

  // "metric", "value", "n" first, then the metric's own keys, then the split.
  Json out;
  for (const char* k : {"metric", "value", "n"}) out[k] = result.at(k);
  for (auto it = result.begin(); it != result.end(); ++it)
    if (!out.contains(it.key())) out[it.key()] = it.value();
  out["split"] = split;
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace anneal::cli
