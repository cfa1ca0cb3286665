// model.graph: any saved graph that follows the convention of
// cli/model_kind.hpp (input "x", optional input "labels", output "loss").
// Metrics: accuracy when it has an output "logits" and an input "labels"
// (then the default), and loss.
#include "backend/error.hpp"
#include "cli/config.hpp"
#include "cli/data.hpp"
#include "cli/model_kind.hpp"
#include "io/graph_json.hpp"

namespace anneal::cli {

namespace {

class GraphKind final : public ModelKind {
 public:
  std::string name() const override { return "graph"; }

  Json resolve(Section&) const override { return Json::object(); }  // "graph" is read by the config

  std::unique_ptr<Graph> build(Config& c, const Splits& splits) const override {
    const DataInfo& data = splits.info;
    const std::string file = c.model["graph"].get<std::string>();
    std::unique_ptr<Graph> g;
    try {
      g = load_graph(file);
    } catch (const InvalidInput& e) {
      fail_at("model.graph", e.what());
    }
    auto bad = [&](const std::string& what) { fail_at("model.graph", file + ": " + what); };
    Value x = g->find("x");
    if (!x.valid() || x.node().op->name != "input")
      bad("the graph has no input \"x\" (the data's examples, f32 [B, D])");
    if (x.dtype() != DType::f32 || x.rank() != 2 || x.shape()[0] != Dim::batch())
      bad("input \"x\" is " + dims_str(x.shape()) + " " + dtype_name(x.dtype()) + ", expected f32 [B, D]");
    if (x.shape()[1] != data.features)
      bad("input \"x\" takes " + std::to_string(x.shape()[1]) + " values per example, the data has " +
          std::to_string(data.features));
    for (Value in : g->inputs()) {
      if (in.name() == "x") continue;
      if (in.name() != "labels") bad("input \"" + in.name() + "\" is neither \"x\" nor \"labels\"");
      if (in.dtype() != DType::i32 || in.shape() != Dims{Dim::batch()})
        bad("input \"labels\" is " + dims_str(in.shape()) + " " + dtype_name(in.dtype()) + ", expected i32 [B]");
      if (data.classes == 0) fail_at("data", "the graph takes labels (input \"labels\"); give data.train_labels");
    }
    Value loss;
    for (const auto& [name, v] : g->outputs())
      if (name == "loss") loss = v;
    if (!loss.valid()) bad("the graph has no output \"loss\" (the objective to minimize)");
    if (!loss.shape().empty() || loss.dtype() != DType::f32)
      bad("output \"loss\" is " + dims_str(loss.shape()) + " " + dtype_name(loss.dtype()) + ", expected an f32 scalar");
    return g;
  }

  std::vector<std::string> metrics(const Graph& g) const override {
    bool logits = false;
    for (const auto& [name, v] : g.outputs()) logits |= name == "logits";
    if (logits && g.find("labels").valid()) return {"accuracy", "loss"};
    return {"loss"};
  }

  Json evaluate(ModelRun& run, const std::string& metric, const Dataset& data, const Options&) const override {
    return metric == "accuracy" ? metric_accuracy(run, data) : metric_loss(run, data);
  }
};

}  // namespace

const ModelKind& graph_model_kind() {
  static const GraphKind kind;
  return kind;
}

}  // namespace anneal::cli
