// Restricted Boltzmann machines as graph builders. An RBM with visible layer
// v, hidden layer h (unit types in models/rbm_units.hpp) and weights W has
//
//   E(v, h) = base_v(v) + base_h(h) - stat_v(v)·b̃ - stat_h(h)·c̃(v) - stat_v(v)ᵀ W stat_h(h)
//   F(v)    = base_v(v) - stat_v(v)·b̃ - A_h(stat_v(v) W + c̃(v))         (h summed out)
//   F_h(h)  = base_h(h) - stat_h(h)·c  - A_v(b̃ + stat_h(h) Wᵀ)           (v summed out)
//
// with b̃ the visible natural bias (b, or b/σ for Gaussian visibles), c̃(v) = c,
// or D(v)·c for replicated softmax (hidden biases scaled by the document
// length), and A the layer's log-partition. Every method only records graph
// ops, so CD/PCD gradients come from the ordinary autodiff.
//
// Parameters: "<name>.W" [V, H], "<name>.b" [V] (visible bias), "<name>.c"
// [H] (hidden bias), and "<name>.log_sigma" [V] for Gaussian visibles with
// learned σ. A classification RBM (Larochelle & Bengio 2008) appends
// `label_classes` one-hot label units to the visible layer: V = visible +
// label_classes, the label rows of W and b being its U and d.
//
//   Graph g("rbm");
//   Value v0 = g.input("v", {Dim::batch(), 784});
//   auto rbm = rbm::bernoulli(g, "rbm", 784, 500);
//   Value vk = v0;
//   for (int s = 0; s < k; ++s) vk = rbm.sample_v(rbm.sample_h(vk));
//   Value loss = mean(rbm.free_energy(v0)) - mean(rbm.free_energy(stop_gradient(vk)));
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "graph/graph.hpp"
#include "models/rbm_units.hpp"

namespace anneal {
class Session;
struct Dataset;
}  // namespace anneal

namespace anneal::rbm {

struct RbmSpec {
  std::int64_t visible = 784;  // data units (label units not included)
  std::int64_t hidden = 500;
  UnitType visible_type = UnitType::bernoulli;
  // bernoulli, or gaussian: linear units with unit variance (the code layer
  // of a deep autoencoder).
  UnitType hidden_type = UnitType::bernoulli;
  bool learn_sigma = false;          // gaussian visibles: learn log σ per unit
  std::int64_t group_size = 0;       // softmax visibles: K; `visible` counts G×K units
  std::int64_t max_doc_length = 0;   // replicated softmax: the longest document a sample may have
  std::int64_t label_classes = 0;    // > 0: a classification RBM
  double init_std = 0.01;            // W ~ N(0, init_std²); biases start at 0

  // Throws InvalidInput naming `who` and the offending field.
  void check(const std::string& who) const;
  std::int64_t visible_units() const { return visible + label_classes; }
};

struct Rbm {
  std::string name;
  RbmSpec spec;
  Value W, b, c;
  Value log_sigma;   // Gaussian visibles with learned σ; else invalid
  UnitsPtr visible;  // all visible units (data, then labels)
  UnitsPtr hidden;

  // Replicated softmax: words per document D(v) = Σ v [rows, 1] (over the
  // data units only); invalid for the other types.
  Value length(Value v) const;
  // Natural inputs: stat_v(v) W + c̃(v) and b̃ + stat_h(h) Wᵀ.
  Value hidden_input(Value v) const;
  Value visible_input(Value h) const;
  // Conditionals. `length` is the document length the visible sample must
  // have (replicated softmax; pass length(v) of the state being resampled).
  Value mean_h(Value v) const;
  Value sample_h(Value v) const;
  Value mean_v(Value h, Value length = {}) const;
  Value sample_v(Value h, Value length = {}) const;
  // One block Gibbs step v -> h ~ p(h|v) -> v' ~ p(v|h), or v' = E[v|h]
  // when `sample_visible` is false.
  Value gibbs(Value v, bool sample_visible = true) const;

  // Per row [rows]: E(v, h), F(v), F_h(h) as above.
  Value energy(Value v, Value h) const;
  Value free_energy(Value v) const;
  Value free_energy_hidden(Value h) const;

  // Classification RBMs: -F(x, y) for every class y [rows, classes], from
  // the data units x [rows, visible]; its softmax is p(y | x).
  Value class_logits(Value x) const;
  // [x, one_hot(labels)]: the visible vector of a classification RBM.
  Value join_labels(Value x, Value labels) const;

  // The RBM named `name` in a graph built by make_rbm (a loaded graph
  // included): its spec comes from the graph's metadata "rbm.<name>.*".
  static Rbm from_graph(const Graph& g, const std::string& name);
};

// Adds an RBM's parameters to `g` and records its spec in the graph's
// metadata. Throws InvalidInput for a bad spec.
Rbm make_rbm(Graph& g, const std::string& name, const RbmSpec& spec);

// Shorthands.
Rbm bernoulli(Graph& g, const std::string& name, std::int64_t visible, std::int64_t hidden);
Rbm gaussian(Graph& g, const std::string& name, std::int64_t visible, std::int64_t hidden, bool learn_sigma = false);
Rbm softmax(Graph& g, const std::string& name, std::int64_t groups, std::int64_t group_size, std::int64_t hidden);
Rbm replicated_softmax(Graph& g, const std::string& name, std::int64_t vocabulary, std::int64_t hidden,
                       std::int64_t max_doc_length);

// The same RBM in a graph of its own (for evaluation and sampling graphs),
// with the parameter values of `from`.
struct Replica {
  std::unique_ptr<Graph> graph;
  Rbm rbm;
};
Replica replicate(const Rbm& rbm, const std::string& graph_name);
void copy_parameters(Session& from, Session& to, const Rbm& rbm);

// The visible vectors of a dataset as the RBM sees them: x, and for a
// classification RBM [x, one_hot(y)] ([N, visible_units()]). Throws
// InvalidInput when the widths disagree or labels are missing.
Tensor visible_rows(const Rbm& rbm, const Dataset& data);

// Sets the visible biases to those of the base-rate model of `data` (the
// per-unit marginals; Hinton 2010, §8.1).
void init_visible_bias(Session& s, const Rbm& rbm, const Dataset& data, double prior = 1.0);
// The base-rate biases themselves (in the bias' own parameterization), [V].
std::vector<double> base_rate_bias(const Rbm& rbm, const Tensor& rows, double prior = 1.0);

}  // namespace anneal::rbm
