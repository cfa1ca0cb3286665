// model.kind "rbm", "grbm", "softmax_rbm", "replicated_softmax" and
// "class_rbm": one restricted Boltzmann machine (models/rbm.hpp) trained by
// CD-k or PCD through the ordinary autodiff, the kinds differing in their
// visible units: Bernoulli, Gaussian, softmax groups, replicated softmax
// (word counts), Bernoulli plus one-hot label units (a classification RBM).
// Metrics: rbm_metrics (cli/rbm_metrics.hpp). Pictures: filters,
// reconstructions, samples. It samples by block Gibbs from random states.
#include <algorithm>
#include <cmath>

#include "backend/error.hpp"
#include "cli/config.hpp"
#include "cli/data.hpp"
#include "cli/model_kind.hpp"
#include "cli/rbm_config.hpp"
#include "cli/rbm_metrics.hpp"
#include "cli/rbm_pictures.hpp"
#include "models/rbm_sample.hpp"
#include "ops/ops.hpp"
#include "runtime/session.hpp"

namespace anneal::cli {

namespace {

using rbm::UnitType;

constexpr const char* kRbm = "rbm";  // the RBM's name: parameters rbm.W, rbm.b, rbm.c
constexpr std::int64_t kMaxUnits = std::int64_t{1} << 24;

// What tells the single-RBM kinds apart.
struct Variant {
  const char* kind;
  UnitType visible;
  bool labels;  // class_rbm: label units joined to the visible layer
  double lr;    // the default optimizers' learning rate
};

// The model section of a single RBM: the shared keys plus the variant's own.
struct RbmModel {
  RbmModelKeys common;
  std::int64_t hidden = 500;
  bool learn_sigma = false;                     // grbm
  std::optional<std::int64_t> group_size;      // softmax_rbm
  std::optional<std::int64_t> max_doc_length;  // replicated_softmax
  std::optional<std::int64_t> classes;         // class_rbm

  RbmModel(Section& m, const Variant& v) {
    hidden = m.integer("hidden", hidden, 1, kMaxUnits);
    common.read(m);
    if (v.visible == UnitType::gaussian) {
      learn_sigma = m.boolean("learn_sigma", false);
      if (common.hidden_type == UnitType::gaussian)
        fail_at(m.path("hidden_type"), "gaussian visible and gaussian hidden units make an improper model (no "
                                       "partition function); use bernoulli hidden units");
    }
    if (v.visible == UnitType::softmax) group_size = m.optional_integer("group_size", 2, kMaxUnits);
    if (v.visible == UnitType::replicated_softmax) max_doc_length = m.optional_integer("max_doc_length", 1, kMaxUnits);
    if (v.labels) classes = m.optional_integer("classes", 2, kMaxUnits);
  }

  Json json(const Variant& v) const {
    auto opt = [](const std::optional<std::int64_t>& x) { return x ? Json(*x) : Json(nullptr); };
    Json j;
    j["kind"] = v.kind;
    j["hidden"] = hidden;
    common.write(j);
    if (v.visible == UnitType::gaussian) j["learn_sigma"] = learn_sigma;
    if (v.visible == UnitType::softmax) j["group_size"] = opt(group_size);
    if (v.visible == UnitType::replicated_softmax) j["max_doc_length"] = opt(max_doc_length);
    if (v.labels) j["classes"] = opt(classes);
    return j;
  }

  // Fills in (or checks) what comes from the data.
  void fill_from(const Splits& data, const Variant& v) {
    common.fill_from(data.info);
    const std::int64_t units = *common.visible;
    if (v.visible == UnitType::softmax) {
      const Dims& shape = *common.item_shape;
      if (!group_size) {
        if (shape.size() != 2 || shape[1] < 2)
          fail_at("model.group_size", "required: the data's examples are " + dims_str(shape) +
                                          ", not [groups, categories] to take it from");
        group_size = shape[1];
      }
      if (units % *group_size != 0)
        fail_at("model.group_size", std::to_string(*group_size) + " does not divide the " + std::to_string(units) +
                                        " visible units into groups");
    }
    if (v.visible == UnitType::replicated_softmax) {
      // The longest training document: CD resamples documents at their own length.
      const float* x = data.train.x.data<float>();
      std::int64_t longest = 0, which = 0;
      for (std::int64_t i = 0; i < data.train.size(); ++i) {
        double words = 0;
        for (std::int64_t j = 0; j < units; ++j) words += x[i * units + j];
        if (std::llround(words) > longest) {
          longest = std::llround(words);
          which = i;
        }
      }
      if (!max_doc_length) max_doc_length = std::max<std::int64_t>(longest, 1);
      if (longest > *max_doc_length)
        fail_at("model.max_doc_length", std::to_string(*max_doc_length) + " words, but training document " +
                                            std::to_string(which) + " has " + std::to_string(longest));
    }
    if (v.labels) {
      if (data.info.classes == 0)
        fail_at("data", std::string("model kind ") + v.kind + " learns labels with the data; give labelled data");
      if (!classes) classes = std::max<std::int64_t>(data.info.classes, 2);
      if (*classes < data.info.classes)
        fail_at("model.classes", std::to_string(*classes) + " classes, but the training labels go up to " +
                                     std::to_string(data.info.classes - 1));
    }
  }

  rbm::RbmSpec spec(const Variant& v) const {
    return {.visible = *common.visible,
            .hidden = hidden,
            .visible_type = v.visible,
            .hidden_type = common.hidden_type,
            .learn_sigma = learn_sigma,
            .group_size = group_size.value_or(0),
            .max_doc_length = max_doc_length.value_or(0),
            .label_classes = v.labels ? *classes : 0,
            .init_std = common.init_std};
  }
};

// The train section of a single RBM: the shared keys plus, for a
// classification RBM, the weights of its hybrid objective.
struct RbmTrain {
  RbmTrainKeys keys;
  double generative_weight = 1.0, discriminative_weight = 0.0;

  RbmTrain(Section& t, const Json& model, const Variant& v) {
    keys.read(t, rbm::unit_type_from_name(model.at("hidden_type").get<std::string>()));
    if (v.visible == UnitType::replicated_softmax && keys.cd.persistent)
      fail_at(t.path("cd") + ".persistent", "persistent chains of a replicated softmax would need document lengths "
                                            "of their own; use CD (\"persistent\": false)");
    if (v.labels) {
      generative_weight = t.in_range("generative_weight", t.number("generative_weight", 1.0), 0, INFINITY);
      discriminative_weight = t.in_range("discriminative_weight", t.number("discriminative_weight", 0.0), 0, INFINITY);
      if (generative_weight == 0 && discriminative_weight == 0)
        fail_at(t.path("generative_weight"), "with discriminative_weight 0 too, nothing is learned");
    }
  }
  // From a resolved config.
  static RbmTrain of(const Config& c, const Variant& v) {
    Section t(c.train.options, "train");
    return RbmTrain(t, c.model, v);
  }

  Json json(const Variant& v) const {
    Json j;
    keys.write(j);
    if (v.labels) {
      j["generative_weight"] = generative_weight;
      j["discriminative_weight"] = discriminative_weight;
    }
    return j;
  }
};

class RbmKind final : public ModelKind {
 public:
  explicit RbmKind(Variant v) : v_(v) {}

  std::string name() const override { return v_.kind; }

  Json resolve(Section& m) const override { return RbmModel(m, v_).json(v_); }
  Json resolve_train(Section& t, const Json& model, const TrainConfig&) const override {
    return RbmTrain(t, model, v_).json(v_);
  }
  Json default_optimizers(const Json&) const override { return classic_rbm_optimizers(v_.lr); }

  std::unique_ptr<Graph> build(Config& c, const Splits& data) const override {
    Section section(c.model, "model");
    RbmModel m(section, v_);
    m.fill_from(data, v_);
    c.model = m.json(v_);
    const RbmTrain t = RbmTrain::of(c, v_);
    rbm::Model model;
    try {
      model = rbm::build_model({.name = kRbm,
                                .spec = m.spec(v_),
                                .cd = t.keys.cd,
                                .generative_weight = t.generative_weight,
                                .discriminative_weight = t.discriminative_weight,
                                .optimizers = false});
    } catch (const InvalidInput& e) {
      fail_at("model", e.what());
    }
    Graph& g = *model.graph;
    const rbm::Training& tr = model.training;
    if (model.class_logits.valid()) g.output("logits", model.class_logits);  // the convention's name: accuracy
    g.output("reconstruction", tr.rbm.mean_v(tr.rbm.mean_h(tr.data), tr.rbm.length(tr.data)));
    if (!tr.cd.state_updates.empty()) g.set_collection("state_updates", tr.cd.state_updates);
    return std::move(model.graph);
  }

  void initialize(ModelRun& run, const Splits& data) const override {
    if (run.config.model.at("visible_bias") == "base_rate")
      rbm::init_visible_bias(run.session, rbm::Rbm::from_graph(run.graph, kRbm), data.train);
  }

  std::vector<std::string> metrics(const Graph& g) const override {
    return rbm_metrics(rbm::Rbm::from_graph(g, kRbm));
  }
  std::vector<std::string> metric_options(const std::string& metric) const override {
    return rbm_metric_options(metric);
  }
  bool metric_needs_training_data(const std::string& metric) const override { return metric == "ais"; }

  Json evaluate(ModelRun& run, const std::string& metric, const Dataset& data, const Options& options) const override {
    if (metric == "accuracy") return metric_accuracy(run, data);
    if (metric == "pll") return metric_output_mean(run, data, "pll", "pll");
    if (metric == "recon") return metric_output_mean(run, data, "recon_error", "recon");
    const rbm::Rbm r = rbm::Rbm::from_graph(run.graph, kRbm);
    return metric == "exact" ? metric_exact(run, r, data) : metric_ais(run, r, data, options);
  }

  // The monitors, and the metric on the validation split where it is cheap
  // (not the partition functions: those are for `anneal eval`).
  std::string epoch_report(ModelRun& run, const Splits& data, const TrainingStage& stage, const std::string& metric,
                           Json& line) const override {
    const RbmTrain t = RbmTrain::of(run.config, v_);
    std::string summary = report_monitors(run, rbm::Training::from_graph(run.graph, kRbm), data,
                                          t.keys.monitor_examples, line);
    if (metric != "exact" && metric != "ais") {
      const std::string valid = ModelKind::epoch_report(run, data, stage, metric, line);
      if (!valid.empty()) summary += "  " + valid;
    }
    return summary;
  }

  bool can_sample() const override { return true; }
  std::vector<std::string> sample_options() const override {
    if (v_.visible == UnitType::replicated_softmax) return {"gibbs-steps", "doc-length"};
    return {"gibbs-steps"};
  }
  Image sample(ModelRun& run, std::int64_t n, std::uint64_t seed, const Options& options) const override {
    const int steps = static_cast<int>(integer_option(options, "gibbs-steps", 1000, 0, 100'000'000));
    std::int64_t doc_length = 0;
    if (v_.visible == UnitType::replicated_softmax) {
      const std::int64_t longest = run.config.model.at("max_doc_length").get<std::int64_t>();
      doc_length = integer_option(options, "doc-length", longest, 1, longest);
    }
    return rows_grid(sampler(run, doc_length)(n, steps, seed), layout(run.config));
  }

  std::vector<std::pair<std::string, Image>> pictures(ModelRun& run, const Splits& data) const override {
    const Json& model = run.config.model;
    const std::int64_t doc_length = model.contains("max_doc_length") ? model["max_doc_length"].get<std::int64_t>() : 0;
    return rbm_pictures(run, data, run.session.get(std::string(kRbm) + ".W"), layout(run.config),
                        RbmTrain::of(run.config, v_).keys, sampler(run, doc_length));
  }

 private:
  RbmPictureLayout layout(const Config& c) const { return picture_layout(c.model, v_.visible); }

  static Sampler sampler(ModelRun& run, std::int64_t doc_length) {
    return [&run, doc_length](std::int64_t count, int steps, std::uint64_t seed) {
      return rbm::sample(run.session, rbm::Rbm::from_graph(run.graph, kRbm),
                         {.count = count, .gibbs_steps = steps, .seed = seed, .doc_length = doc_length})
          .mean;
    };
  }

  Variant v_;
};

}  // namespace

// Learning rates of the classic SGD recipe: binary data takes larger steps
// than real values (unit variance) and word counts (long documents add up
// large gradients).
const ModelKind& rbm_model_kind() {
  static const RbmKind kind({"rbm", UnitType::bernoulli, false, 0.05});
  return kind;
}
const ModelKind& grbm_model_kind() {
  static const RbmKind kind({"grbm", UnitType::gaussian, false, 0.005});
  return kind;
}
const ModelKind& softmax_rbm_model_kind() {
  static const RbmKind kind({"softmax_rbm", UnitType::softmax, false, 0.05});
  return kind;
}
const ModelKind& replicated_softmax_model_kind() {
  static const RbmKind kind({"replicated_softmax", UnitType::replicated_softmax, false, 0.005});
  return kind;
}
const ModelKind& class_rbm_model_kind() {
  static const RbmKind kind({"class_rbm", UnitType::bernoulli, true, 0.05});
  return kind;
}

}  // namespace anneal::cli
