// The registry of model kinds and what kinds share.
#include <cmath>

#include "backend/error.hpp"
#include "cli/model_kind.hpp"
#include "data/batches.hpp"
#include "runtime/session.hpp"

namespace anneal::cli {

// One line per kind (each defined in its own cli/kind_*.cpp).
const ModelKind& mlp_model_kind();

const std::vector<const ModelKind*>& model_kinds() {
  static const std::vector<const ModelKind*> kinds = {
      &mlp_model_kind(),
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

void batch_feeds(const Graph& g, const Tensor& x, const Tensor& y, std::map<std::string, Tensor>& feeds) {
  feeds["x"] = x;
  if (g.find("labels").valid()) {
    if (!y.defined()) throw InvalidInput("the model needs labels (graph input 'labels'), the data has none");
    feeds["labels"] = y;
  }
}

Json metric_loss(ModelRun& run, const Dataset& data) {
  Value loss = run.graph.output("loss");
  Batches batches(data, run.eval_batch, 0, 0, false, /*shuffle=*/false);
  std::map<std::string, Tensor> feeds;
  double sum = 0;
  for (const Batch& b : batches) {
    batch_feeds(run.graph, b.x, b.y, feeds);
    sum += run.session.run(feeds, loss).item() * static_cast<double>(b.x.dim(0));
  }
  Json j;
  j["metric"] = "loss";
  j["value"] = sum / static_cast<double>(data.size());
  j["n"] = data.size();
  return j;
}

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

}  // namespace anneal::cli
