// Optimizers as graph transformations: an optimizer appends, for each
// parameter, the update math and an assign node, so a training step (loss,
// gradients, updates) is one graph run. Hyper-parameters are scalar state
// ("<name>.lr", "<name>.momentum", ...) so schedules change them between
// steps without rebuilding anything, and checkpoints save them.
//
// Parameter groups are separate optimizers over separate parameter lists
// (e.g. weights with weight decay, biases without), as in PyTorch.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "models/schedule.hpp"

namespace anneal {

class Session;

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0.0;
  bool nesterov = false;
  // L2 penalty added to the gradient. It enters the graph only when nonzero
  // at build time (a zero costs nothing), then it can be scheduled.
  double weight_decay = 0.0;
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

class Optimizer {
 public:
  // The assign nodes of one step: run them as targets with the loss.
  const std::vector<Value>& updates() const { return updates_; }
  const std::string& name() const { return name_; }
  // Hyper-parameter state nodes by short name ("lr", "momentum", ...).
  const std::map<std::string, Value>& hyper() const { return hyper_; }

  // An optimizer records itself in its graph (collections
  // "optimizer.<name>.params" / ".updates", meta "optimizer.<name>.kind"), so
  // a graph loaded from JSON gets its optimizers back.
  static Optimizer from_graph(const Graph& g, const std::string& name);
  static std::vector<std::string> names_in(const Graph& g);

  // Drives a hyper-parameter by a schedule; apply() sets every scheduled
  // value for the given training progress (epochs, fractional).
  void schedule(const std::string& hyper, Schedule s);
  void apply(Session& session, double epoch) const;
  // Sets a hyper-parameter now.
  void set(Session& session, const std::string& hyper, double value) const;

 private:
  friend Optimizer sgd(Graph&, const std::string&, const std::vector<Value>&, const std::vector<Value>&, SgdOptions);
  friend Optimizer adam(Graph&, const std::string&, const std::vector<Value>&, const std::vector<Value>&,
                        AdamOptions);
  Value add_hyper(Graph& g, const std::string& key, double value);
  void record(Graph& g, const std::string& kind, const std::vector<Value>& params) const;

  std::string name_;
  std::vector<Value> updates_;
  std::map<std::string, Value> hyper_;
  std::map<std::string, Schedule> schedules_;
};

// SGD as PyTorch defines it: d = g + wd*p; v = momentum*v + d;
// p -= lr * (nesterov ? d + momentum*v : v).
Optimizer sgd(Graph& g, const std::string& name, const std::vector<Value>& params, const std::vector<Value>& grads,
              SgdOptions options = {});

// Adam (Kingma & Ba 2015) with bias correction, PyTorch's semantics.
Optimizer adam(Graph& g, const std::string& name, const std::vector<Value>& params, const std::vector<Value>& grads,
               AdamOptions options = {});

// Splits parameters into matrices (rank >= 2: weights) and the rest (biases),
// the usual groups for "weight decay on weights only".
std::vector<Value> weights_only(const std::vector<Value>& params);
std::vector<Value> biases_only(const std::vector<Value>& params);

}  // namespace anneal
