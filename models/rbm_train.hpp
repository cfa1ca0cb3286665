// Training RBMs by contrastive divergence, through the ordinary autodiff:
// the update is the gradient of
//
//     mean F(v_data) - mean F(stop_gradient(v_model))
//
// where v_model ends a k-step block Gibbs chain that starts at the data (CD-k,
// Hinton 2002) or continues persistent chains kept in graph state (PCD,
// Tieleman 2008). With sampled hidden statistics the free energies become
// energies at gradient-stopped hidden samples, E(v, h). The optimizers come
// in two groups, weights (with weight decay) and biases (without): SGD with
// momentum (the classic recipe, Hinton 2010) or Adam, with scheduled learning
// rate and momentum.
#pragma once
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "models/optim.hpp"
#include "models/rbm.hpp"
#include "models/schedule.hpp"

namespace anneal {
class Session;
struct Dataset;
}  // namespace anneal

namespace anneal::rbm {

enum class HiddenStats { mean, sampled };

struct CdOptions {
  int k = 1;
  // PCD: `chains` persistent chains in the state "<name>.pcd.chains"
  // (saved in checkpoints), advanced k Gibbs steps per update.
  bool persistent = false;
  std::int64_t chains = 100;
  // mean: <v p(h|v)> statistics (the free energy); sampled: <v h> at hidden
  // samples (the energy), as in the textbook CD-1 update.
  HiddenStats hidden_stats = HiddenStats::mean;
  // CD: whether the chain's last visible step is a sample or its mean E[v|h]
  // (Hinton 2010, §3.2, uses the mean). PCD chains always hold samples, and
  // so do Gaussian visibles with learned σ (a noise-free reconstruction would
  // make σ grow without bound).
  bool sample_last_visible = false;
  // Sparsity (Lee, Ekanadham & Ng 2008): adds cost · Σ_j (target - q_j)²,
  // q_j the batch mean of p(h_j = 1 | v_data). Bernoulli hiddens only.
  double sparsity_target = 0.0;
  double sparsity_cost = 0.0;
};

struct CdObjective {
  Value loss;              // scalar: the CD surrogate plus any penalty
  Value v_data, h_data;    // positive-phase statistics (h: p(h|v) or a sample)
  Value v_model, h_model;  // negative-phase statistics (gradient-stopped)
  Value chains;            // PCD chain state; invalid for CD
  std::vector<Value> state_updates;  // assign nodes to run with every step (PCD)
};

CdObjective contrastive_divergence(const Rbm& rbm, Value v_data, const CdOptions& options = {});

enum class Algorithm { sgd, adam };

struct OptimOptions {
  Algorithm algorithm = Algorithm::sgd;
  Schedule lr = Schedule::constant(0.1);                 // decay: e.g. Schedule::exponential(0.1, 0.95)
  Schedule momentum = Schedule::linear(0.5, 0.9, 0, 5);  // SGD (Hinton 2010, §9); Adam: β1
  double weight_decay = 2e-4;                            // L2 on W only (Hinton 2010, §10)
};

// Two optimizer groups, "<algorithm>.<name>.weights" over W (with weight
// decay) and "<algorithm>.<name>.biases" over b, c and log σ (without),
// both following the schedules.
std::vector<Optimizer> make_optimizers(Graph& g, const Rbm& rbm, Value loss, const OptimOptions& options = {});

// Monitors of a batch of visible rows v, as per-batch means.
struct Monitors {
  Value recon_error;  // Σ_i (v_i - E[v_i | h = E[h|v]])² per row
  Value pll;          // Bernoulli data units without labels: V · log p(v_i | v_-i) at one random i per row
  Value free_energy;  // F(v)
};
Monitors make_monitors(const Rbm& rbm, Value v);

// One RBM's training pieces in a graph: what it learns from (an input, or
// the posterior of the layer below in a stack), its objective, optimizers
// and monitors. Recorded in the graph (collections "rbm.<name>.train" and
// "rbm.<name>.state_updates") so a loaded graph gets it back.
struct Training {
  Rbm rbm;
  Value data;
  CdObjective cd;
  Value loss;  // cd.loss plus the extra loss given to make_training
  std::vector<Optimizer> optimizers;
  Monitors monitors;

  // Everything a training step runs for its effect.
  std::vector<Value> targets() const;
  // Schedules are not part of a graph: set them again (set_schedules). A
  // graph built by make_objective gives no optimizers.
  static Training from_graph(const Graph& g, const std::string& name);
};

// loss = cd_weight · CD surrogate + extra_loss (e.g. a discriminative term).
Training make_training(Graph& g, const Rbm& rbm, Value data, const CdOptions& cd = {}, const OptimOptions& optim = {},
                       Value extra_loss = {}, double cd_weight = 1.0);
// make_training without the optimizers: the objective, the PCD state
// updates and the monitors, recorded in the graph the same way, for callers
// that add optimizers of their own (the anneal command adds those its config
// names). training.optimizers stays empty.
Training make_objective(Graph& g, const Rbm& rbm, Value data, const CdOptions& cd = {}, Value extra_loss = {},
                        double cd_weight = 1.0);
// Applies the learning-rate and momentum schedules to every optimizer.
void set_schedules(std::vector<Optimizer>& optimizers, const OptimOptions& optim);

// A single RBM ready to train: inputs "x" [B, visible] (and "labels" i32 [B]
// for a classification RBM), its graph outputs "loss", "recon_error",
// "free_energy" ("pll", "class_logits" where they apply).
struct ModelOptions {
  std::string name = "rbm";
  RbmSpec spec;
  CdOptions cd;
  OptimOptions optim;
  // loss = generative · CD + discriminative · mean cross-entropy of p(y|x)
  // (the latter for classification RBMs: the hybrid of Larochelle & Bengio 2008).
  double generative_weight = 1.0;
  double discriminative_weight = 0.0;
  // false: the graph gets no optimizers (make_objective); the caller adds its own.
  bool optimizers = true;
};

struct Model {
  std::unique_ptr<Graph> graph;
  Value x;             // input "x"
  Value labels;        // input "labels" (classification RBMs), else invalid
  Training training;
  Value class_logits;  // classification RBMs: [B, classes]
};

Model build_model(const ModelOptions& options);
// The model of a graph built by build_model (e.g. loaded from JSON). Its
// optimizers have no schedules until set_schedules.
Model model_from_graph(std::unique_ptr<Graph> graph, const std::string& name = "rbm");

struct TrainOptions {
  int epochs = 10;
  int first_epoch = 0;            // epochs already done (resume; schedules and batch order follow it)
  std::int64_t batch = 100;
  std::uint64_t seed = 0;         // batch order (the session's seed drives the sampling)
  std::int64_t monitor_examples = 1000;  // examples of each dataset the epoch's monitors read
  // At first_epoch 0: base-rate visible biases from the training data (when
  // the RBM's visible rows are the data, not a posterior of a stack).
  bool init_visible_bias = true;
};

struct EpochReport {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  int epoch = 0;                        // 1-based
  double loss = 0;                      // mean training objective over the epoch's steps
  double recon_error = kNone;           // on the first monitor_examples training examples
  double pll = kNone;                   // ditto; Bernoulli data units only
  double free_energy_train = kNone;     // mean F on those examples
  double free_energy_valid = kNone;     // mean F on the validation examples
  double free_energy_gap = kNone;       // valid - train: grows when the model overfits
  double seconds = 0;                   // training time (monitors excluded)
};

using EpochCallback = std::function<void(const EpochReport&)>;

// Trains `t` on batches of `train` fed to `x` (and `labels`, if valid), for
// epochs first_epoch+1 .. epochs, calling `report` after each.
void train(Session& s, const Training& t, Value x, Value labels, const Dataset& train, const Dataset* validation,
           const TrainOptions& options, const EpochCallback& report = {});
void train(Session& s, const Model& m, const Dataset& train, const Dataset* validation, const TrainOptions& options,
           const EpochCallback& report = {});

// The monitors' means over (the first `max_examples` of) `data`.
struct MonitorValues {
  double recon_error = EpochReport::kNone, pll = EpochReport::kNone, free_energy = EpochReport::kNone;
};
MonitorValues evaluate_monitors(Session& s, const Training& t, Value x, Value labels, const Dataset& data,
                                std::int64_t max_examples = -1);

// Fraction of `data` whose most probable class under the classification RBM
// is its label.
double classification_accuracy(Session& s, const Model& m, const Dataset& data);

}  // namespace anneal::rbm
