// What the RBM kinds share for `anneal eval` and for the epoch lines of
// metrics.jsonl: the test log-likelihood from the exact or the annealed (AIS)
// partition function, and the training monitors (reconstruction error,
// pseudo-log-likelihood, the free-energy gap between training and
// validation data).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cli/model_kind.hpp"
#include "models/rbm_train.hpp"

namespace anneal::cli {

// AIS defaults: the paper's schedule (Salakhutdinov & Murray 2008) and runs.
inline constexpr std::int64_t kAisBetas = 14500;
inline constexpr std::int64_t kAisRuns = 100;

// The metrics of a single RBM, the default first: accuracy for a
// classification RBM; else exact when the smaller layer can be enumerated
// (at most 2^25 configurations), else ais (bernoulli hidden units), else
// recon. exact and ais are listed wherever Anneal can compute the partition
// function (not for replicated softmax; ais needs bernoulli hidden units),
// pll for bernoulli visibles without label units.
std::vector<std::string> rbm_metrics(const rbm::Rbm& r);
std::vector<std::string> rbm_metric_options(const std::string& metric);

// "exact" and "ais": value = test_loglik, the mean log p(v) over `data` in
// nats per example, with log_z (AIS: log_z_lo, log_z_hi, the 3-sigma
// interval, and the matching test_loglik_lo / _hi, betas, runs, log_z_base).
// AIS anneals from the base-rate model of run.train. exact throws
// InvalidInput, naming the limit, when neither layer can be enumerated.
Json metric_exact(ModelRun& run, const rbm::Rbm& r, const Dataset& data);
Json metric_ais(ModelRun& run, const rbm::Rbm& r, const Dataset& data, const Options& options);

// Adds one RBM's training monitors to an epoch line: recon_error, pll
// (bernoulli visibles) and free_energy on the first `examples` training
// examples; free_energy_valid and free_energy_gap (valid - train: it grows
// as the model overfits) when there is a validation split. Returns the
// summary for the progress line.
std::string report_monitors(ModelRun& run, const rbm::Training& t, const Splits& data, std::int64_t examples,
                            Json& line);

}  // namespace anneal::cli
