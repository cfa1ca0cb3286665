// model.kind "mlp": a multilayer perceptron classifier
// (models/mlp_classifier.hpp). Metrics: accuracy (default), loss. Pictures:
// the first layer's filters. It cannot sample.
#include <algorithm>

#include "backend/error.hpp"
#include "cli/config.hpp"
#include "cli/data.hpp"
#include "cli/model_kind.hpp"
#include "models/mlp_classifier.hpp"
#include "runtime/session.hpp"

namespace anneal::cli {

namespace {

constexpr std::int64_t kMaxWidth = 1 << 20;

class MlpKind final : public ModelKind {
 public:
  std::string name() const override { return "mlp"; }

  Json resolve(Section& m) const override {
    Json r;
    r["kind"] = "mlp";
    std::vector<std::int64_t> hidden = {500, 500};
    if (const Json* h = m.find("hidden")) {
      if (!h->is_array()) fail_at(m.path("hidden"), "expected an array of layer widths, got " + json_type_name(*h));
      hidden.clear();
      for (std::size_t i = 0; i < h->size(); ++i)
        hidden.push_back(as_integer((*h)[i], index_path(m.path("hidden"), i), 1, kMaxWidth));
    }
    r["hidden"] = hidden;
    r["activation"] = m.choice("activation", "relu", {"relu", "sigmoid", "tanh", "leaky_relu"});
    auto inputs = m.optional_integer("inputs", 1, kMaxWidth);
    auto classes = m.optional_integer("classes", 2, kMaxWidth);
    r["inputs"] = inputs ? Json(*inputs) : Json(nullptr);
    r["classes"] = classes ? Json(*classes) : Json(nullptr);
    return r;
  }

  std::unique_ptr<Graph> build(Config& c, const Splits& splits) const override {
    Json& model = c.model;
    const DataInfo& data = splits.info;
    MlpClassifierOptions o;
    if (data.classes == 0) fail_at("data", "model kind mlp is a classifier and needs labels (data.train_labels)");
    o.inputs = model["inputs"].is_null() ? data.features : model["inputs"].get<std::int64_t>();
    if (o.inputs != data.features)
      fail_at("model.inputs", std::to_string(o.inputs) + " inputs, but the data's examples have " +
                                  std::to_string(data.features) + " values");
    o.classes = model["classes"].is_null() ? std::max<std::int64_t>(data.classes, 2) : model["classes"].get<std::int64_t>();
    if (o.classes < data.classes)
      fail_at("model.classes", std::to_string(o.classes) + " classes, but the training labels go up to " +
                                   std::to_string(data.classes - 1));
    o.hidden = model["hidden"].get<std::vector<std::int64_t>>();
    o.activation = activation_from_name(model["activation"].get<std::string>());
    model["inputs"] = o.inputs;
    model["classes"] = o.classes;
    return std::move(build_mlp_classifier(o).graph);
  }

  std::vector<std::string> metrics(const Graph&) const override { return {"accuracy", "loss"}; }

  Json evaluate(ModelRun& run, const std::string& metric, const Dataset& data, const Options&) const override {
    return metric == "accuracy" ? metric_accuracy(run, data) : metric_loss(run, data);
  }

  // The first layer's weights, one tile per hidden unit (its incoming
  // weights), each scaled to its own range.
  std::vector<std::pair<std::string, Image>> pictures(ModelRun& run, const Splits& splits) const override {
    const DataInfo& data = splits.info;
    Dims tile = tile_shape(data);
    Value w = run.graph.find("fc1.W");
    if (!w.valid()) w = run.graph.find("out.W");
    if (tile.empty() || !w.valid() || w.rank() != 2 || w.shape()[0] != data.features) return {};
    return {{"filters.png", filter_grid(run.session.get(w.name()), data.features, tile)}};
  }
};

}  // namespace

const ModelKind& mlp_model_kind() {
  static const MlpKind kind;
  return kind;
}

}  // namespace anneal::cli
