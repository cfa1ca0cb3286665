// model.kind "rbm_stack": RBMs stacked greedily (models/rbm_stack.hpp, the
// pretraining of a deep belief net): layer l (named "rbm<l>") learns from
// the hidden posterior of the layer below, and the layers train one after
// another, each for its train.layer_epochs, as the stages of the run.
// Metric: recon (the deterministic up pass to the top and down again).
// Samples: Gibbs steps in the top RBM, then one down pass to the data.
#include <algorithm>

#include "backend/error.hpp"
#include "cli/config.hpp"
#include "cli/data.hpp"
#include "cli/model_kind.hpp"
#include "cli/rbm_config.hpp"
#include "cli/rbm_metrics.hpp"
#include "cli/rbm_pictures.hpp"
#include "models/rbm_stack.hpp"
#include "ops/ops.hpp"
#include "runtime/session.hpp"

namespace anneal::cli {

namespace {

using rbm::UnitType;

constexpr std::int64_t kMaxUnits = std::int64_t{1} << 24;
constexpr std::int64_t kMaxLayers = 64;

std::string layer_name(std::size_t l) { return "rbm" + std::to_string(l + 1); }

struct StackModel {
  RbmModelKeys common;  // hidden_type: the top layer's hidden units (the code layer)
  std::vector<std::int64_t> hidden = {500, 500};
  UnitType visible_type = UnitType::bernoulli;  // the first layer's visible units
  bool sample_posterior = false;

  explicit StackModel(Section& m) {
    if (const Json* h = m.find("hidden")) {
      if (!h->is_array() || h->empty() || h->size() > static_cast<std::size_t>(kMaxLayers))
        fail_at(m.path("hidden"), "expected a list of 1 to " + std::to_string(kMaxLayers) +
                                      " layer sizes (hidden units per RBM, bottom first), got " + json_type_name(*h));
      hidden.clear();
      for (std::size_t i = 0; i < h->size(); ++i)
        hidden.push_back(as_integer((*h)[i], index_path(m.path("hidden"), i), 1, kMaxUnits));
    }
    visible_type = unit_type_key(m, "visible_type", UnitType::bernoulli, {UnitType::bernoulli, UnitType::gaussian});
    common.read(m);
    if (hidden.size() == 1 && visible_type == UnitType::gaussian && common.hidden_type == UnitType::gaussian)
      fail_at(m.path("hidden_type"), "a single RBM with gaussian visible and gaussian hidden units is improper");
    sample_posterior = m.boolean("sample_posterior", false);
  }

  Json json() const {
    Json j;
    j["kind"] = "rbm_stack";
    j["hidden"] = hidden;
    j["visible_type"] = rbm::unit_type_name(visible_type);
    common.write(j);
    j["sample_posterior"] = sample_posterior;
    return j;
  }

  rbm::RbmSpec spec(std::size_t l) const {
    const bool top = l + 1 == hidden.size();
    return {.visible = l == 0 ? *common.visible : hidden[l - 1],
            .hidden = hidden[l],
            .visible_type = l == 0 ? visible_type : UnitType::bernoulli,
            .hidden_type = top ? common.hidden_type : UnitType::bernoulli,
            .init_std = common.init_std};
  }
};

struct StackTrain {
  RbmTrainKeys keys;
  std::vector<std::int64_t> layer_epochs;

  // `epochs`: the config file's train.epochs, split evenly by default.
  StackTrain(Section& t, const Json& model, int epochs) {
    keys.read(t, rbm::unit_type_from_name(model.at("hidden_type").get<std::string>()));
    const std::size_t layers = model.at("hidden").size();
    if (const Json* e = t.find("layer_epochs")) {
      if (e->is_number()) {
        layer_epochs.assign(layers, as_integer(*e, t.path("layer_epochs"), 0, 1'000'000));
      } else if (e->is_array() && e->size() == layers) {
        for (std::size_t i = 0; i < layers; ++i)
          layer_epochs.push_back(as_integer((*e)[i], index_path(t.path("layer_epochs"), i), 0, 1'000'000));
      } else {
        fail_at(t.path("layer_epochs"), "expected epochs per layer: a number, or a list of " + std::to_string(layers) +
                                            " (one per model.hidden entry), got " + e->dump());
      }
    } else {
      const auto n = static_cast<std::int64_t>(layers);
      for (std::int64_t l = 0; l < n; ++l) layer_epochs.push_back(epochs / n + (l < epochs % n ? 1 : 0));
    }
  }
  static StackTrain of(const Config& c) {
    Section t(c.train.options, "train");
    return StackTrain(t, c.model, c.train.horizon);
  }

  Json json() const {
    Json j;
    keys.write(j);
    j["layer_epochs"] = layer_epochs;
    return j;
  }
};

// A stack in a graph the caller keeps (sampling, reports).
rbm::Stack view(const Graph& g) {
  rbm::Stack s;
  s.x = g.find("x");
  s.layers = rbm::stack_layers(g);
  return s;
}

class RbmStackKind final : public ModelKind {
 public:
  std::string name() const override { return "rbm_stack"; }

  Json resolve(Section& m) const override { return StackModel(m).json(); }
  Json resolve_train(Section& t, const Json& model, const TrainConfig& train) const override {
    return StackTrain(t, model, train.horizon).json();
  }
  // The classic recipe per layer (each layer is its own stage).
  Json default_optimizers(const Json& model) const override {
    Json all = Json::array();
    const bool gaussian = model.at("visible_type") == "gaussian";
    for (std::size_t l = 0; l < model.at("hidden").size(); ++l) {
      const std::string prefix = layer_name(l) + ".";
      for (Json& o : classic_rbm_optimizers(l == 0 && gaussian ? 0.005 : 0.05, prefix, prefix)) all.push_back(o);
    }
    return all;
  }

  std::unique_ptr<Graph> build(Config& c, const Splits& data) const override {
    Section section(c.model, "model");
    StackModel m(section);
    m.common.fill_from(data.info);
    c.model = m.json();
    const StackTrain t = StackTrain::of(c);
    rbm::Stack st = rbm::make_stack(*m.common.visible);
    Value loss;
    try {
      for (std::size_t l = 0; l < m.hidden.size(); ++l) {
        Value layer = rbm::add_objective_layer(st, layer_name(l), m.spec(l), t.keys.cd, m.sample_posterior).loss;
        loss = loss.valid() ? loss + layer : layer;
      }
    } catch (const InvalidInput& e) {
      fail_at("model", e.what());
    }
    Graph& g = *st.graph;
    g.output("loss", loss);  // each layer's parameters appear only in its own term
    Value recon = st.down(st.up(st.x));
    g.output("reconstruction", recon);
    g.output("recon_error", mean(sum(square(st.x - recon), {1})));
    return std::move(st.graph);
  }

  void initialize(ModelRun& run, const Splits& data) const override {
    if (run.config.model.at("visible_bias") == "base_rate")
      rbm::init_visible_bias(run.session, rbm::Rbm::from_graph(run.graph, layer_name(0)), data.train);
  }

  std::vector<TrainingStage> stages(const Graph& g, const Config& c) const override {
    const StackTrain t = StackTrain::of(c);
    const std::vector<rbm::Training> layers = rbm::stack_layers(g);
    std::vector<TrainingStage> out;
    for (std::size_t l = 0; l < layers.size(); ++l) {
      TrainingStage s;
      s.name = layer_name(l);
      s.params = s.name + ".";
      s.loss = layers[l].loss;
      s.state_updates = layers[l].cd.state_updates;
      s.epochs = static_cast<int>(t.layer_epochs.at(l));
      out.push_back(s);
    }
    return out;
  }

  std::vector<std::string> metrics(const Graph&) const override { return {"recon"}; }
  Json evaluate(ModelRun& run, const std::string&, const Dataset& data, const Options&) const override {
    return metric_output_mean(run, data, "recon_error", "recon");
  }

  // The monitors of the layer in training.
  std::string epoch_report(ModelRun& run, const Splits& data, const TrainingStage& stage, const std::string&,
                           Json& line) const override {
    return report_monitors(run, rbm::Training::from_graph(run.graph, stage.name), data,
                           StackTrain::of(run.config).keys.monitor_examples, line);
  }

  bool can_sample() const override { return true; }
  std::vector<std::string> sample_options() const override { return {"gibbs-steps"}; }
  Image sample(ModelRun& run, std::int64_t n, std::uint64_t seed, const Options& options) const override {
    const int steps = static_cast<int>(integer_option(options, "gibbs-steps", 1000, 0, 100'000'000));
    return rows_grid(sampler(run)(n, steps, seed), layout(run.config));
  }

  std::vector<std::pair<std::string, Image>> pictures(ModelRun& run, const Splits& data) const override {
    return rbm_pictures(run, data, run.session.get(layer_name(0) + ".W"), layout(run.config),
                        StackTrain::of(run.config).keys, sampler(run));
  }

 private:
  static RbmPictureLayout layout(const Config& c) {
    return picture_layout(c.model, rbm::unit_type_from_name(c.model.at("visible_type").get<std::string>()));
  }
  static Sampler sampler(ModelRun& run) {
    return [&run](std::int64_t count, int steps, std::uint64_t seed) {
      return rbm::sample_stack(run.session, view(run.graph), {.count = count, .gibbs_steps = steps, .seed = seed})
          .mean;
    };
  }
};

}  // namespace

const ModelKind& rbm_stack_model_kind() {
  static const RbmStackKind kind;
  return kind;
}

}  // namespace anneal::cli
