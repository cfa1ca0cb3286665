// Model kinds: what `model.kind` in a config names. A kind knows its model's
// options, builds its graph, evaluates it and, where it can, samples from it
// and draws pictures of it. Each model family adds one ModelKind and one line
// to the registry (cli/model_kinds.cpp); the commands need nothing else.
//
// The graph a kind builds follows the convention every command relies on:
//   input  "x"       f32 [B, D]  one flattened example per row
//   input  "labels"  i32 [B]     only if the model uses labels
//   output "loss"    f32 scalar  the training objective (minimized)
//   collection "monitors"        optional scalars reported with the loss
//   collection "state_updates"   optional assign nodes run with every
//                                training step (PCD's persistent chains)
// train adds the optimizers (from the config) to this graph and saves it as
// graph.json; every later command works from that saved graph, so a run
// never depends on the code that first built it.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/json_check.hpp"
#include "data/dataset.hpp"
#include "graph/graph.hpp"
#include "io/png.hpp"

namespace anneal {
class Session;
}

namespace anneal::cli {

struct Config;
struct TrainConfig;
struct Splits;  // cli/data.hpp

// What the data tells a model about its sizes.
struct DataInfo {
  std::int64_t features = 0;  // D
  Dims item_shape;            // one example's shape in its file, e.g. {28, 28}
  std::int64_t classes = 0;   // max training label + 1; 0 when unlabeled
};

// Extra command-line options of eval and sample ("--gibbs-steps 5" becomes
// {"gibbs-steps": "5"}), validated by the kind.
using Options = std::map<std::string, std::string>;

// A model with its weights, as the commands hand it to its kind.
struct ModelRun {
  const Graph& graph;
  Session& session;
  const Config& config;
  std::int64_t eval_batch = 500;
  // The training split, where the command has loaded it (train always; eval
  // when metric_needs_training_data).
  const Dataset* train = nullptr;
  int epoch = 0;  // while training: the epochs done (pictures)
};

// One stage of training: what its steps optimize and report. Most models
// train everything in a single stage; a stack of RBMs has one per layer,
// trained one after another (greedy layer-wise). A stage's steps run the
// optimizers whose parameters all start with `params`; its schedules count
// epochs from the stage's start.
struct TrainingStage {
  std::string name;             // "" for a single stage, else reported as "stage"
  std::string params;           // the parameter-name prefix it trains ("": every parameter)
  Value loss;                   // reported as "loss"
  std::vector<Value> monitors;  // reported by name, averaged over the epoch's steps
  std::vector<Value> state_updates;  // run with every step
  int epochs = 0;               // its epochs; the last stage takes all that remain
};

class ModelKind {
 public:
  virtual ~ModelKind() = default;
  virtual std::string name() const = 0;

  // Reads the kind's options from the `model` section (its "kind" key is
  // already read; Section::done() follows) and returns the resolved section,
  // "kind" first, every default filled in. Sizes that come from the data may
  // be left null for build() to fill.
  virtual Json resolve(Section& model) const = 0;
  // Reads the kind's own keys of the `train` section (training-algorithm
  // options, e.g. an RBM's "cd"), `model` being the resolved model section
  // and `train` the section's common keys as read so far, and returns them
  // resolved; they are written back into the train section.
  virtual Json resolve_train(Section& /*section*/, const Json& /*model*/, const TrainConfig& /*train*/) const {
    return Json::object();
  }
  // train.optimizers, as a config writes them, for a config that gives none
  // (null: one Adam over every parameter).
  virtual Json default_optimizers(const Json& /*model*/) const { return nullptr; }
  // Builds the graph (see the convention above) for c.model as resolve()
  // returned it, filling in the data-dependent sizes from `data`. Throws
  // InvalidInput naming "model.<key>" or "data" on a mismatch.
  virtual std::unique_ptr<Graph> build(Config& c, const Splits& data) const = 0;
  // Sets what a fresh run starts from beyond the graph's initializers
  // (RBMs: visible biases at the data's base rates), before the first
  // checkpoint.
  virtual void initialize(ModelRun& /*run*/, const Splits& /*data*/) const {}
  // The stages of training (see TrainingStage). By default one stage: output
  // "loss", collections "monitors" and "state_updates", every parameter.
  virtual std::vector<TrainingStage> stages(const Graph& g, const Config& c) const;

  // The metrics `anneal eval --metric` accepts; the first is the default.
  virtual std::vector<std::string> metrics(const Graph& g) const = 0;
  // Extra options a metric accepts (eval's [metric options]).
  virtual std::vector<std::string> metric_options(const std::string& /*metric*/) const { return {}; }
  // Whether `metric` reads the training split too (ModelRun::train).
  virtual bool metric_needs_training_data(const std::string& /*metric*/) const { return false; }
  // One metric on `data`: a JSON object with at least "metric", "value" and
  // "n" (examples evaluated). Log-probability metrics are nats per example.
  virtual Json evaluate(ModelRun& run, const std::string& metric, const Dataset& data,
                        const Options& options) const = 0;
  // What a run reports after each epoch of `stage` beyond the loss and the
  // monitors: keys added to the epoch's metrics.jsonl line, and a short
  // summary for the progress line. By default `metric` on the validation
  // split as "valid_<metric>", when there is one.
  virtual std::string epoch_report(ModelRun& run, const Splits& data, const TrainingStage& stage,
                                   const std::string& metric, Json& line) const;

  // Sampling (`anneal sample`): a grid of n samples.
  virtual bool can_sample() const { return false; }
  virtual std::vector<std::string> sample_options() const { return {}; }
  virtual Image sample(ModelRun& run, std::int64_t n, std::uint64_t seed, const Options& options) const;

  // Pictures a run writes after each epoch (run.epoch), by file name
  // ("filters.png").
  virtual std::vector<std::pair<std::string, Image>> pictures(ModelRun& /*run*/, const Splits& /*data*/) const {
    return {};
  }
};

// The registry.
const std::vector<const ModelKind*>& model_kinds();
// Throws InvalidInput "unknown model kind" listing the known ones.
const ModelKind& model_kind(const std::string& name);
// The kind of a config that gives model.graph instead of model.kind.
const ModelKind& graph_model_kind();

// Shared metrics for graphs that follow the convention.
// The mean of the scalar output `output` over `data` (batches weighted by
// size), reported as `metric`.
Json metric_output_mean(ModelRun& run, const Dataset& data, const std::string& output, const std::string& metric);
// "loss": the mean of output "loss".
Json metric_loss(ModelRun& run, const Dataset& data);
// "accuracy": the fraction whose argmax of output "logits" is the label.
Json metric_accuracy(ModelRun& run, const Dataset& data);
// The feeds of one batch: "x", and "labels" when the graph has that input.
void batch_feeds(const Graph& g, const Tensor& x, const Tensor& y, std::map<std::string, Tensor>& feeds);

// The integer value of option `key` (`def` when absent), or InvalidInput
// naming "--key" when it is not an integer in [lo, hi].
std::int64_t integer_option(const Options& options, const std::string& key, std::int64_t def, std::int64_t lo,
                            std::int64_t hi);

// The shape of one example as a picture tile {h, w}: the item shape when it
// is 2-D (or 3-D with one channel), a square when D is one, else empty.
Dims tile_shape(const DataInfo& data);

// First-layer filters: the incoming weights of up to `max_units` units from
// the first `inputs` rows of W [inputs + more, units], one tile of `tile`
// each, scaled to its own range.
Image filter_grid(const Tensor& W, std::int64_t inputs, const Dims& tile, std::int64_t max_units = 100);

}  // namespace anneal::cli
