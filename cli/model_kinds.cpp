// The registry of model kinds and what kinds share.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "backend/error.hpp"
#include "cli/config.hpp"
#include "cli/data.hpp"
#include "cli/model_kind.hpp"
#include "data/batches.hpp"
#include "runtime/session.hpp"

namespace anneal::cli {

// One line per kind (each defined in its own cli/kind_*.cpp).
const ModelKind& mlp_model_kind();
const ModelKind& rbm_model_kind();
const ModelKind& grbm_model_kind();
const ModelKind& softmax_rbm_model_kind();
const ModelKind& replicated_softmax_model_kind();
const ModelKind& class_rbm_model_kind();
const ModelKind& rbm_stack_model_kind();

const std::vector<const ModelKind*>& model_kinds() {
  static const std::vector<const ModelKind*> kinds = {
      &mlp_model_kind(),
      &rbm_model_kind(),
      &grbm_model_kind(),
      &softmax_rbm_model_kind(),
      &replicated_softmax_model_kind(),
      &class_rbm_model_kind(),
      &rbm_stack_model_kind(),
  };
  return kinds;
}

const ModelKind& model_kind(const std::string& name) {
  std::string known;
  for (const ModelKind* k : model_kinds()) {
    if (k->name() == name) return *k;
    known += (known.empty() ? "" : ", ") + k->name();
  }
  throw InvalidInput("unknown model kind \"" + name + "\" (known: " + known + ")");
}

Image ModelKind::sample(ModelRun&, std::int64_t, std::uint64_t, const Options&) const {
  throw InvalidInput("model kind " + name() + " cannot sample");
}

std::vector<TrainingStage> ModelKind::stages(const Graph& g, const Config&) const {
  TrainingStage s;
  s.loss = g.output("loss");
  if (g.collections().count("monitors")) s.monitors = g.collection("monitors");
  if (g.collections().count("state_updates")) s.state_updates = g.collection("state_updates");
  return {s};
}

std::string ModelKind::epoch_report(ModelRun& run, const Splits& data, const TrainingStage&, const std::string& metric,
                                    Json& line) const {
  if (data.valid.size() == 0) return "";
  Json r = evaluate(run, metric, data.valid, {});
  line["valid_" + metric] = r["value"];
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", r["value"].get<double>());
  return "valid " + metric + " " + buf;
}

void batch_feeds(const Graph& g, const Tensor& x, const Tensor& y, std::map<std::string, Tensor>& feeds) {
  feeds["x"] = x;
  if (g.find("labels").valid()) {
    if (!y.defined()) throw InvalidInput("the model needs labels (graph input 'labels'), the data has none");
    feeds["labels"] = y;
  }
}

std::int64_t integer_option(const Options& options, const std::string& key, std::int64_t def, std::int64_t lo,
                            std::int64_t hi) {
  auto it = options.find(key);
  if (it == options.end()) return def;
  const std::string& text = it->second;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi)
    throw InvalidInput("--" + key + " " + text + ": expected an integer in [" + std::to_string(lo) + ", " +
                       std::to_string(hi) + "]");
  return v;
}

Json metric_output_mean(ModelRun& run, const Dataset& data, const std::string& output, const std::string& metric) {
  Value out = run.graph.output(output);
  Batches batches(data, run.eval_batch, 0, 0, false, /*shuffle=*/false);
  std::map<std::string, Tensor> feeds;
  double sum = 0;
  for (const Batch& b : batches) {
    batch_feeds(run.graph, b.x, b.y, feeds);
    sum += run.session.run(feeds, out).item() * static_cast<double>(b.x.dim(0));
  }
  Json j;
  j["metric"] = metric;
  j["value"] = sum / static_cast<double>(data.size());
  j["n"] = data.size();
  return j;
}

Json metric_loss(ModelRun& run, const Dataset& data) { return metric_output_mean(run, data, "loss", "loss"); }

Json metric_accuracy(ModelRun& run, const Dataset& data) {
  Value logits = run.graph.output("logits");
  if (!data.labeled()) throw InvalidInput("accuracy needs labels; the data has none");
  Batches batches(data, run.eval_batch, 0, 0, false, /*shuffle=*/false);
  std::map<std::string, Tensor> feeds;
  std::int64_t correct = 0;
  for (const Batch& b : batches) {
    feeds["x"] = b.x;
    Tensor out = run.session.run(feeds, logits);
    const std::int64_t rows = out.dim(0), k = out.dim(1);
    const float* p = out.data<float>();
    const std::int32_t* y = b.y.data<std::int32_t>();
    for (std::int64_t r = 0; r < rows; ++r) {
      std::int64_t best = 0;
      for (std::int64_t j = 1; j < k; ++j)
        if (p[r * k + j] > p[r * k + best]) best = j;
      correct += best == y[r];
    }
  }
  Json j;
  j["metric"] = "accuracy";
  j["value"] = static_cast<double>(correct) / static_cast<double>(data.size());
  j["n"] = data.size();
  j["correct"] = correct;
  return j;
}

Dims tile_shape(const DataInfo& data) {
  const Dims& s = data.item_shape;
  if (s.size() == 2) return s;
  if (s.size() == 3 && s[2] == 1) return {s[0], s[1]};
  if (s.size() == 3 && s[0] == 1) return {s[1], s[2]};
  auto side = static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(data.features))));
  if (side > 0 && side * side == data.features) return {side, side};
  return {};
}

Image filter_grid(const Tensor& W, std::int64_t inputs, const Dims& tile, std::int64_t max_units) {
  const std::int64_t all = W.dim(1), units = std::min(all, max_units);
  Tensor rows = Tensor::empty(DType::f32, {units, inputs});
  const float* src = W.data<float>();
  float* dst = rows.data<float>();
  for (std::int64_t u = 0; u < units; ++u)
    for (std::int64_t i = 0; i < inputs; ++i) dst[u * inputs + i] = src[i * all + u];
  return image_grid(rows, tile, {.scale = GridScale::per_tile});
}

}  // namespace anneal::cli
