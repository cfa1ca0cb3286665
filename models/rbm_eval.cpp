#include "models/rbm_eval.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "backend/error.hpp"
#include "backend/parallel.hpp"
#include "data/batches.hpp"
#include "data/dataset.hpp"
#include "ops/ops.hpp"
#include "runtime/session.hpp"

namespace anneal::rbm {
namespace {

void check_supported(const Rbm& rbm, const std::string& who) {
  if (rbm.spec.visible_type == UnitType::replicated_softmax)
    throw InvalidInput(who + " of rbm '" + rbm.name +
                       "': a replicated-softmax RBM has one partition function per document length (not supported)");
}

// log Σ exp(x) accumulated in double, one value at a time.
struct LogSumExp {
  double max = -std::numeric_limits<double>::infinity(), sum = 0;
  void add(double x) {
    if (x <= max) {
      sum += std::exp(x - max);
    } else {
      sum = sum * std::exp(max - x) + 1.0;
      max = x;
    }
  }
  double value() const { return max + std::log(sum); }
};

}  // namespace

double exact_log_z(Session& trained, const Rbm& rbm, const ExactOptions& o) {
  check_supported(rbm, "exact log Z");
  const double lv = rbm.visible->log_configurations(), lh = rbm.hidden->log_configurations();
  const bool visible_side = lv <= lh;
  const double lc = std::min(lv, lh);
  if (!(lc <= std::log(o.max_configurations) + 1e-9))
    throw InvalidInput("exact log Z of rbm '" + rbm.name + "': the smaller layer has " +
                       (std::isfinite(lc) ? "e^" + std::to_string(lc) + " configurations" : "continuous units") +
                       ", more than max_configurations = " + std::to_string(o.max_configurations));
  if (o.chunk < 1) throw InvalidInput("exact log Z: chunk must be >= 1");
  Replica rep = replicate(rbm, "rbm_exact");
  const Units& units = visible_side ? *rep.rbm.visible : *rep.rbm.hidden;
  const std::int64_t n = units.size();
  Value x = rep.graph->input("x", {Dim::batch(), n});
  Value log_p = visible_side ? -rep.rbm.free_energy(x) : -rep.rbm.free_energy_hidden(x);
  Session s(*rep.graph);
  copy_parameters(trained, s, rbm);

  const auto total = static_cast<std::uint64_t>(std::llround(std::exp(lc)));
  const auto chunk = static_cast<std::uint64_t>(o.chunk);
  Tensor full = Tensor::empty(DType::f32, {static_cast<std::int64_t>(std::min(chunk, total)), n});
  LogSumExp acc;
  Feeds feeds;
  for (std::uint64_t start = 0; start < total; start += chunk) {
    const auto rows = static_cast<std::int64_t>(std::min(chunk, total - start));
    Tensor batch = rows == full.dim(0) ? full : Tensor::empty(DType::f32, {rows, n});
    float* p = batch.data<float>();
    parallel_for(rows, 256, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t r = b; r < e; ++r) units.configuration(start + static_cast<std::uint64_t>(r), p + r * n);
    });
    feeds["x"] = batch;
    const float* lp = s.run_views(feeds, {log_p})[0].data<float>();
    for (std::int64_t r = 0; r < rows; ++r) acc.add(lp[r]);
  }
  return acc.value();
}

double mean_log_prob(Session& trained, const Rbm& rbm, const Dataset& data, double log_z) {
  check_supported(rbm, "log-probability");
  Replica rep = replicate(rbm, "rbm_log_prob");
  Value x = rep.graph->input("x", {Dim::batch(), rbm.spec.visible_units()});
  Value neg_f = sum(-rep.rbm.free_energy(x));
  Session s(*rep.graph);
  copy_parameters(trained, s, rbm);
  Dataset rows;
  rows.x = visible_rows(rbm, data);
  Batches batches(rows, 1000, 0, 0, false, /*shuffle=*/false);
  double total = 0;
  Feeds feeds;
  for (const Batch& b : batches) {
    feeds["x"] = b.x;
    total += s.run_views(feeds, {neg_f})[0].item();
  }
  return total / static_cast<double>(rows.size()) - log_z;
}

namespace {

// `n` evenly spaced values from `lo`, `hi` included or not.
void linspace(std::vector<double>& out, double lo, double hi, std::int64_t n, bool include_hi) {
  const double d = include_hi ? static_cast<double>(n - 1) : static_cast<double>(n);
  for (std::int64_t i = 0; i < n; ++i) out.push_back(n == 1 ? lo : lo + (hi - lo) * static_cast<double>(i) / d);
}

}  // namespace

std::vector<double> ais_betas_paper() { return ais_betas(14500); }

std::vector<double> ais_betas(std::int64_t count) {
  if (count < 2) throw InvalidInput("AIS needs at least 2 inverse temperatures, got " + std::to_string(count));
  if (count < 3) return ais_betas_linear(count);
  auto part = [&](double share) { return std::max<std::int64_t>(1, std::llround(static_cast<double>(count) * share)); };
  const std::int64_t a = part(500.0 / 14500.0);
  const std::int64_t b = std::max<std::int64_t>(1, std::min(part(4000.0 / 14500.0), count - a - 1));
  std::vector<double> betas;
  linspace(betas, 0.0, 0.5, a, false);
  linspace(betas, 0.5, 0.9, b, false);
  linspace(betas, 0.9, 1.0, count - a - b, true);
  return betas;
}

std::vector<double> ais_betas_linear(std::int64_t count) {
  if (count < 2) throw InvalidInput("AIS needs at least 2 inverse temperatures, got " + std::to_string(count));
  std::vector<double> betas;
  linspace(betas, 0.0, 1.0, count, true);
  return betas;
}

AisResult ais_log_z(Session& trained, const Rbm& rbm, const Dataset& base_data, const AisOptions& o) {
  check_supported(rbm, "AIS");
  const std::string who = "AIS of rbm '" + rbm.name + "'";
  if (rbm.spec.hidden_type != UnitType::bernoulli) throw InvalidInput(who + ": needs bernoulli hidden units");
  if (o.runs < 1) throw InvalidInput(who + ": needs at least one run");
  const auto& betas = o.betas;
  if (betas.size() < 2 || betas.front() != 0.0 || betas.back() != 1.0)
    throw InvalidInput(who + ": the inverse temperatures must run from 0 to 1");
  for (std::size_t k = 1; k < betas.size(); ++k)
    if (!(betas[k] >= betas[k - 1])) throw InvalidInput(who + ": the inverse temperatures must not decrease");

  Replica rep = replicate(rbm, "rbm_ais");
  Graph& g = *rep.graph;
  const Rbm& r = rep.rbm;
  const std::int64_t nv = r.spec.visible_units();
  Value base = g.state("ais.base_bias", {nv});  // the base-rate model's biases
  Value beta = g.state("ais.beta", {}), beta_prev = g.state("ais.beta_prev", {});
  Value v = g.state("ais.v", {o.runs, nv});
  const Units& vis = *r.visible;
  Value b_a = vis.natural_bias(base), b_b = vis.natural_bias(r.b);
  // log p*_β(v) = -base(v) + stat(v)·((1-β) b̃_A + β b̃_B) + A_h(β a(v)): the
  // intermediate model scales model B's whole energy (hidden bias included),
  // and the base-rate model has no hidden term. The increment
  // log p*_β(v) - log p*_β'(v) at the current state:
  Value a = r.hidden_input(v);
  Value increment = (beta - beta_prev) * sum(vis.stat(v) * (b_b - b_a), {-1}) +
                    r.hidden->log_partition(beta * a) - r.hidden->log_partition(beta_prev * a);
  // A block Gibbs step that leaves p_β invariant.
  Value h = r.hidden->sample(beta * a);
  Value step = assign(v, vis.sample((1.0 - beta) * b_a + beta * r.visible_input(h)));
  // Exact samples of the base-rate model start the runs; its log Z (with
  // 2^H from the hidden units, free at β = 0).
  Value init;
  {
    Graph::Scope scope(g, "ais.init/");  // a second assign to v needs a name of its own
    init = assign(v, vis.sample(broadcast_like(b_a, v)));
  }
  Value log_z_a = sum(vis.log_partition(reshape(b_a, {1, nv})));

  Session s(g, {.seed = o.seed});
  copy_parameters(trained, s, rbm);
  s.set(base.name(), Tensor::from(base_rate_bias(rbm, visible_rows(rbm, base_data), o.base_rate_prior), {nv}));
  AisResult res;
  res.temperatures = static_cast<std::int64_t>(betas.size());
  res.runs = o.runs;
  res.log_z_base = s.run({}, log_z_a).item() + static_cast<double>(r.spec.hidden) * std::numbers::ln2;
  s.run({}, {}, {init});
  std::vector<double> log_w(static_cast<std::size_t>(o.runs), 0.0);
  for (std::size_t k = 1; k < betas.size(); ++k) {
    s.set_scalar(beta_prev, betas[k - 1]);
    s.set_scalar(beta, betas[k]);
    const float* inc = s.run_views({}, {increment}, {step})[0].data<float>();
    for (std::size_t i = 0; i < log_w.size(); ++i) log_w[i] += inc[i];
  }

  // Ẑ/Z_A = mean w; with w_i = e^m r_i (m the largest log w) the spread is
  // computed on r_i <= 1, so nothing overflows.
  const double m = *std::max_element(log_w.begin(), log_w.end());
  double mean_r = 0, var_r = 0;
  for (double lw : log_w) mean_r += std::exp(lw - m);
  mean_r /= static_cast<double>(log_w.size());
  for (double lw : log_w) var_r += (std::exp(lw - m) - mean_r) * (std::exp(lw - m) - mean_r);
  var_r = log_w.size() > 1 ? var_r / static_cast<double>(log_w.size() - 1) : 0.0;
  const double se = std::sqrt(var_r / static_cast<double>(log_w.size()));
  const double offset = res.log_z_base + m;
  res.log_z = offset + std::log(mean_r);
  res.log_z_lo = mean_r - 3 * se > 0 ? offset + std::log(mean_r - 3 * se) : -std::numeric_limits<double>::infinity();
  res.log_z_hi = offset + std::log(mean_r + 3 * se);
  res.log_weights = std::move(log_w);
  return res;
}

}  // namespace anneal::rbm
