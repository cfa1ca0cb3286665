// The partition function of a trained RBM: exactly, by enumerating the
// smaller layer, or estimated by annealed importance sampling; and the test
// log-likelihood log p(v) = -F(v) - log Z that either gives.
//
// Both build graphs of their own (a replica of the RBM holding the trained
// parameters, copied from `trained`), so the trained graph is not touched.
// RBMs with replicated-softmax visibles have one partition function per
// document length and are not supported here.
#pragma once
#include <cstdint>
#include <limits>
#include <vector>

#include "models/rbm.hpp"

namespace anneal::rbm {

struct ExactOptions {
  // The most configurations the enumerated side may have (2^25 by default).
  double max_configurations = 33554432.0;
  std::int64_t chunk = 1 << 14;  // configurations per graph run
};

// log Z = logsumexp over the enumerated side x of -F(x) (F_h when the hidden
// side is enumerated), in double, chunk by chunk in a fixed order: parallel
// (the configurations and the free energies are computed on the thread
// budget) and deterministic for a given thread count. Throws InvalidInput
// when the smaller side is continuous or too large.
double exact_log_z(Session& trained, const Rbm& rbm, const ExactOptions& options = {});

// Mean over `data` of log p(v) = -F(v) - log_z, in nats per example.
double mean_log_prob(Session& trained, const Rbm& rbm, const Dataset& data, double log_z);

// Inverse temperatures β_0 = 0 < ... < β_K = 1.
// The schedule of Salakhutdinov & Murray (2008): 14,500 values, 500 evenly
// in [0, 0.5), 4,000 in [0.5, 0.9) and 10,000 in [0.9, 1].
std::vector<double> ais_betas_paper();
// `count` values (>= 2) in the paper's proportions, for quick runs.
std::vector<double> ais_betas(std::int64_t count);
std::vector<double> ais_betas_linear(std::int64_t count);

struct AisOptions {
  std::vector<double> betas = ais_betas_paper();
  std::int64_t runs = 100;      // independent annealing runs, simulated side by side as one batch
  std::uint64_t seed = 0;
  double base_rate_prior = 1.0;  // pseudo-counts smoothing the base-rate model's marginals
};

struct AisResult {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  double log_z = kNone;
  // log(Ẑ ∓ 3σ̂), σ̂ the standard error of Ẑ from the spread of the importance
  // weights (computed relative to the largest, in log space); lo is -inf
  // when Ẑ - 3σ̂ <= 0.
  double log_z_lo = kNone, log_z_hi = kNone;
  double log_z_base = kNone;  // log Z of the base-rate model (with the hidden units: + H log 2)
  std::int64_t temperatures = 0, runs = 0;
  std::vector<double> log_weights;  // log w per run
};

// AIS (Neal 2001; Salakhutdinov & Murray 2008) from the base-rate model of
// `base_data` (independent visibles matching its marginals, the same unit
// types, W = 0) to the RBM, through p_β(v) ∝ p*_A(v)^(1-β) p*_B(v)^β. One
// compiled graph is run once per temperature: β and the previous β are
// scalar state (Session::set_scalar), the runs' visible states are state
// updated by a block Gibbs step at β, and each run returns the log-weight
// increments, accumulated in double. Needs Bernoulli hidden units.
AisResult ais_log_z(Session& trained, const Rbm& rbm, const Dataset& base_data, const AisOptions& options = {});

}  // namespace anneal::rbm
