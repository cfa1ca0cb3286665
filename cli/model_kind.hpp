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
  // Builds the graph (see the convention above) for `model` as resolve()
  // returned it, filling in the data-dependent sizes. Throws InvalidInput
  // naming "model.<key>" or "data" on a mismatch.
  virtual std::unique_ptr<Graph> build(Json& model, const DataInfo& data) const = 0;

  // The metrics `anneal eval --metric` accepts; the first is the default
  // (also the validation metric reported while training).
  virtual std::vector<std::string> metrics(const Graph& g) const = 0;
  // Extra options a metric accepts (eval's [metric options]).
  virtual std::vector<std::string> metric_options(const std::string& /*metric*/) const { return {}; }
  // One metric on `data`: a JSON object with at least "metric", "value" and
  // "n" (examples evaluated). Log-probability metrics are nats per example.
  virtual Json evaluate(ModelRun& run, const std::string& metric, const Dataset& data,
                        const Options& options) const = 0;

  // Sampling (`anneal sample`): a grid of n samples.
  virtual bool can_sample() const { return false; }
  virtual std::vector<std::string> sample_options() const { return {}; }
  virtual Image sample(ModelRun& run, std::int64_t n, std::uint64_t seed, const Options& options) const;

  // Pictures a run writes after each epoch, by file name ("filters.png").
  virtual std::vector<std::pair<std::string, Image>> pictures(ModelRun& /*run*/, const DataInfo& /*data*/) const {
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
// "loss": the mean of output "loss" over `data` (batches weighted by size).
Json metric_loss(ModelRun& run, const Dataset& data);
// "accuracy": the fraction whose argmax of output "logits" is the label.
Json metric_accuracy(ModelRun& run, const Dataset& data);
// The feeds of one batch: "x", and "labels" when the graph has that input.
void batch_feeds(const Graph& g, const Tensor& x, const Tensor& y, std::map<std::string, Tensor>& feeds);

// The shape of one example as a picture tile {h, w}: the item shape when it
// is 2-D (or 3-D with one channel), a square when D is one, else empty.
Dims tile_shape(const DataInfo& data);

}  // namespace anneal::cli
