#include "cli/rbm_metrics.hpp"

#include <cmath>
#include <cstdio>

#include "backend/error.hpp"
#include "cli/data.hpp"
#include "models/rbm_eval.hpp"
#include "runtime/session.hpp"

namespace anneal::cli {

namespace {

// The most configurations exact log Z enumerates: 2^25, 25 binary units.
const double kExactLimit = rbm::ExactOptions{}.max_configurations;

bool enumerable(const rbm::Rbm& r) {
  const double smaller = std::min(r.visible->log_configurations(), r.hidden->log_configurations());
  return smaller <= std::log(kExactLimit) + 1e-9;
}

bool has_partition_function(const rbm::Rbm& r) { return r.spec.visible_type != rbm::UnitType::replicated_softmax; }

// "500 bernoulli hidden units (2^500 configurations)"; `type` "" for a
// layer of mixed types (data and label units).
std::string layer_text(const rbm::Units& u, const std::string& type, const char* role) {
  const double log2 = u.log_configurations() / std::log(2.0);
  char conf[64];
  if (std::isfinite(log2)) std::snprintf(conf, sizeof conf, "2^%.4g configurations", log2);
  else std::snprintf(conf, sizeof conf, "continuous");
  return std::to_string(u.size()) + " " + (type.empty() ? "" : type + " ") + role + " units (" + conf + ")";
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

Json loglik_result(const std::string& metric, double test_loglik, std::int64_t n, double log_z) {
  Json j;
  j["metric"] = metric;
  j["value"] = test_loglik;
  j["n"] = n;
  j["test_loglik"] = test_loglik;
  j["log_z"] = log_z;
  return j;
}

}  // namespace

std::vector<std::string> rbm_metrics(const rbm::Rbm& r) {
  const bool labels = r.spec.label_classes > 0;
  const bool exact = has_partition_function(r);
  const bool ais = exact && r.spec.hidden_type == rbm::UnitType::bernoulli;
  const bool pll = r.spec.visible_type == rbm::UnitType::bernoulli && !labels;
  const std::string first = labels                    ? "accuracy"
                            : exact && enumerable(r) ? "exact"
                            : ais                    ? "ais"
                                                     : "recon";
  std::vector<std::string> m = {first};
  for (const auto& [name, available] : std::vector<std::pair<std::string, bool>>{
           {"accuracy", labels}, {"exact", exact}, {"ais", ais}, {"recon", true}, {"pll", pll}})
    if (available && name != first) m.push_back(name);
  return m;
}

std::vector<std::string> rbm_metric_options(const std::string& metric) {
  if (metric == "ais") return {"ais-betas", "ais-runs"};
  return {};
}

Json metric_exact(ModelRun& run, const rbm::Rbm& r, const Dataset& data) {
  if (!enumerable(r))
    throw InvalidInput("--metric exact: exact log Z enumerates the smaller layer, at most 2^25 configurations (25 "
                       "binary units); rbm '" + r.name + "' has " + layer_text(*r.visible, r.spec.label_classes > 0 ? "" : rbm::unit_type_name(r.spec.visible_type), "visible") +
                       " and " + layer_text(*r.hidden, rbm::unit_type_name(r.spec.hidden_type), "hidden") +
                       (r.spec.hidden_type == rbm::UnitType::bernoulli ? "; use --metric ais" : ""));
  const double log_z = rbm::exact_log_z(run.session, r);
  return loglik_result("exact", rbm::mean_log_prob(run.session, r, data, log_z), data.size(), log_z);
}

Json metric_ais(ModelRun& run, const rbm::Rbm& r, const Dataset& data, const Options& options) {
  if (!run.train) throw InvalidInput("--metric ais: the base-rate model needs the training split");
  rbm::AisOptions o;
  o.betas = rbm::ais_betas(integer_option(options, "ais-betas", kAisBetas, 2, 100'000'000));
  o.runs = integer_option(options, "ais-runs", kAisRuns, 1, 1'000'000);
  o.seed = run.session.seed();
  const rbm::AisResult a = rbm::ais_log_z(run.session, r, *run.train, o);
  const double test_loglik = rbm::mean_log_prob(run.session, r, data, a.log_z);
  Json j = loglik_result("ais", test_loglik, data.size(), a.log_z);
  // log_z_lo is -inf (JSON null) when the 3-sigma interval reaches Z = 0.
  j["log_z_lo"] = a.log_z_lo;
  j["log_z_hi"] = a.log_z_hi;
  j["test_loglik_lo"] = test_loglik - (a.log_z_hi - a.log_z);
  j["test_loglik_hi"] = test_loglik - (a.log_z_lo - a.log_z);
  j["betas"] = a.temperatures;
  j["runs"] = a.runs;
  j["log_z_base"] = a.log_z_base;
  return j;
}

std::string report_monitors(ModelRun& run, const rbm::Training& t, const Splits& data, std::int64_t examples,
                            Json& line) {
  const Value x = run.graph.find("x"), labels = run.graph.find("labels");
  const rbm::MonitorValues train = rbm::evaluate_monitors(run.session, t, x, labels, data.train, examples);
  line["recon_error"] = train.recon_error;
  std::string summary = "recon " + fixed(train.recon_error, 4);
  if (t.monitors.pll.valid()) {
    line["pll"] = train.pll;
    summary += "  pll " + fixed(train.pll, 4);
  }
  line["free_energy"] = train.free_energy;
  if (data.valid.size() > 0) {
    const double valid = rbm::evaluate_monitors(run.session, t, x, labels, data.valid, examples).free_energy;
    line["free_energy_valid"] = valid;
    line["free_energy_gap"] = valid - train.free_energy;
    summary += "  free-energy gap " + fixed(valid - train.free_energy, 4);
  }
  return summary;
}

}  // namespace anneal::cli
