// The unit types of a restricted Boltzmann machine. One layer of units with
// natural input `a` (bias included) has the conditional
//
//     p(x | a)  ∝  exp( stat(x) · a  -  base(x) )
//
// and every RBM formula (energy, free energy, conditionals, Gibbs steps,
// exact and annealed partition functions) is written once in terms of these
// pieces, so a new unit type is one small class here:
//
//   type                stat(x)   base(x)         log_partition(a)         mean(a)        sample
//   bernoulli           x         0               Σ softplus(a)            sigmoid(a)     bernoulli
//   gaussian (σ)        x/σ       |x/σ|²/2        Σ a²/2 + log(√(2π) σ)    σ a            N(σ a, σ²)
//   softmax (G×K)       x         0               Σ_g logsumexp(a_g)       softmax per g  one-hot per g
//   replicated softmax  x         0               D · logsumexp(a)         D softmax(a)   D words
//
// (replicated softmax: x counts words over a vocabulary, D = Σx is the
// document length, and the model is over ordered words, so there is no
// multinomial coefficient; Salakhutdinov & Hinton 2009.) A Gaussian layer's
// bias parameter is its mean offset: its natural bias is b/σ.
//
// Shapes: x and a are [..., n] (a batch of rows, or [B, L, n] for a label
// sweep); log_partition and base_energy sum over the last axis.
#pragma once
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "graph/graph.hpp"

namespace anneal::rbm {

enum class UnitType { bernoulli, gaussian, softmax, replicated_softmax };
const char* unit_type_name(UnitType t);
UnitType unit_type_from_name(const std::string& name);  // throws InvalidInput

class Units {
 public:
  explicit Units(std::int64_t size) : size_(size) {}
  virtual ~Units() = default;
  virtual UnitType type() const = 0;
  std::int64_t size() const { return size_; }

  // The vector the weights multiply.
  virtual Value stat(Value x) const { return x; }
  // The natural bias of a layer whose bias parameter is `bias` [n].
  virtual Value natural_bias(Value bias) const { return bias; }
  // base(x) per row; an invalid Value means zero.
  virtual Value base_energy(Value x) const { (void)x; return {}; }
  // log Σ_x exp(stat(x)·a - base(x)) per row. `count` [rows, 1] is the
  // document length, used (and required) by replicated softmax only.
  virtual Value log_partition(Value a, Value count = {}) const = 0;
  virtual Value mean(Value a, Value count = {}) const = 0;
  virtual Value sample(Value a, Value count = {}) const = 0;

  // Discrete layers can be enumerated (exact log Z): log of the number of
  // configurations (+inf for continuous or unbounded ones), and the one at
  // `index` written into `row` [n].
  virtual double log_configurations() const { return std::numeric_limits<double>::infinity(); }
  virtual void configuration(std::uint64_t index, float* row) const;

  // The bias (in the layer's own parameterization) of the independent model
  // that matches per-unit data means, smoothed by `prior` pseudo-counts
  // (discrete units): the base-rate model of AIS, and the usual initial
  // visible biases (Hinton 2010, §8.1). `rows` is the number of examples.
  virtual std::vector<double> base_rate_bias(std::span<const double> means, double rows, double prior) const = 0;

 protected:
  std::int64_t size_;
};

using UnitsPtr = std::shared_ptr<const Units>;

UnitsPtr bernoulli_units(std::int64_t n);
// `log_sigma` [n] is a learned parameter, or invalid for unit variance.
UnitsPtr gaussian_units(std::int64_t n, Value log_sigma = {});
UnitsPtr softmax_units(std::int64_t groups, std::int64_t group_size);
// Counts over `vocabulary` words; a sampled document has at most
// `max_length` words (sampling costs rows × max_length × vocabulary).
UnitsPtr replicated_softmax_units(std::int64_t vocabulary, std::int64_t max_length);
// Blocks side by side (e.g. pixels and one-hot label units): every piece is
// the blocks' pieces, sliced and concatenated. `count` goes to every block.
UnitsPtr joint_units(std::vector<UnitsPtr> blocks);

// D draws from softmax(logits) per row, as counts [rows, K]: one categorical
// draw per word slot, masked to the row's length `count` [rows, 1]
// (count <= max_length).
Value multinomial(Value logits, Value count, std::int64_t max_length);

}  // namespace anneal::rbm
