#include "models/optim.hpp"

#include <cmath>

#include "backend/error.hpp"
#include "ops/ops.hpp"
#include "runtime/session.hpp"

namespace anneal {

Value Optimizer::add_hyper(Graph& g, const std::string& key, double value) {
  Value v = g.state(name_ + "." + key, {}, Init::constant(value));
  hyper_[key] = v;
  return v;
}

void Optimizer::schedule(const std::string& hyper, Schedule s) {
  if (!hyper_.count(hyper)) throw InvalidInput("optimizer '" + name_ + "' has no hyper-parameter '" + hyper + "'");
  schedules_[hyper] = s;
}

void Optimizer::apply(Session& session, double epoch) const {
  for (const auto& [key, s] : schedules_) set(session, key, s.at(epoch));
}

void Optimizer::set(Session& session, const std::string& hyper, double value) const {
  auto it = hyper_.find(hyper);
  if (it == hyper_.end()) throw InvalidInput("optimizer '" + name_ + "' has no hyper-parameter '" + hyper + "'");
  session.set_scalar(it->second, value);
}

void Optimizer::record(Graph& g, const std::string& kind, const std::vector<Value>& params) const {
  g.set_collection("optimizer." + name_ + ".params", params);
  g.set_collection("optimizer." + name_ + ".updates", updates_);
  g.set_meta("optimizer." + name_ + ".kind", kind);
  std::string keys;
  for (const auto& [k, v] : hyper_) keys += (keys.empty() ? "" : ",") + k;
  g.set_meta("optimizer." + name_ + ".hyper", keys);
}

Optimizer Optimizer::from_graph(const Graph& g, const std::string& name) {
  auto kind = g.meta().find("optimizer." + name + ".kind");
  if (kind == g.meta().end()) throw InvalidInput("graph '" + g.name() + "' has no optimizer '" + name + "'");
  Optimizer opt;
  opt.name_ = name;
  opt.updates_ = g.collection("optimizer." + name + ".updates");
  std::string keys = g.meta().at("optimizer." + name + ".hyper");
  for (std::size_t b = 0; b <= keys.size();) {
    std::size_t e = keys.find(',', b);
    if (e == std::string::npos) e = keys.size();
    std::string key = keys.substr(b, e - b);
    if (!key.empty()) {
      Value v = g.find(name + "." + key);
      if (!v.valid()) throw InvalidInput("optimizer '" + name + "': hyper-parameter state '" + name + "." + key + "' is missing");
      opt.hyper_[key] = v;
    }
    b = e + 1;
  }
  return opt;
}

std::vector<std::string> Optimizer::names_in(const Graph& g) {
  std::vector<std::string> names;
  const std::string prefix = "optimizer.", suffix = ".kind";
  for (const auto& [k, v] : g.meta())
    if (k.rfind(prefix, 0) == 0 && k.size() > prefix.size() + suffix.size() &&
        k.compare(k.size() - suffix.size(), suffix.size(), suffix) == 0)
      names.push_back(k.substr(prefix.size(), k.size() - prefix.size() - suffix.size()));
  return names;
}

namespace {
void check_pairs(const std::string& name, const std::vector<Value>& params, const std::vector<Value>& grads) {
  if (params.size() != grads.size())
    throw InvalidInput("optimizer '" + name + "': " + std::to_string(params.size()) + " parameters but " +
                       std::to_string(grads.size()) + " gradients");
  for (std::size_t i = 0; i < params.size(); ++i)
    if (params[i].shape() != grads[i].shape())
      throw InvalidInput("optimizer '" + name + "': gradient of '" + params[i].name() + "' has shape " +
                         dims_str(grads[i].shape()) + ", expected " + dims_str(params[i].shape()));
}
}  // namespace

Optimizer sgd(Graph& g, const std::string& name, const std::vector<Value>& params, const std::vector<Value>& grads,
              SgdOptions o) {
  check_pairs(name, params, grads);
  Optimizer opt;
  opt.name_ = name;
  Value lr = opt.add_hyper(g, "lr", o.lr);
  Value mom = opt.add_hyper(g, "momentum", o.momentum);
  Value wd = opt.add_hyper(g, "weight_decay", o.weight_decay);
  // Each rule is one axpby (one loop per element in the fused pass, not a
  // multiply and an add): v' = mom v + d, p' = p - lr step.
  Graph::Scope scope(g, name + "/");
  Value one = g.scalar(1.0), neg_lr = -lr;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Value& p = params[i];
    Value d = o.weight_decay != 0 ? axpby(grads[i], p, one, wd) : grads[i];
    Value step = d;
    if (o.momentum != 0 || o.nesterov) {
      Value v = g.state(p.name() + ".velocity", p.shape());
      Value v_new = axpby(v, d, mom, one);
      opt.updates_.push_back(assign(v, v_new));
      step = o.nesterov ? axpby(d, v_new, one, mom) : v_new;
    }
    opt.updates_.push_back(assign(p, axpby(p, step, one, neg_lr)));
  }
  opt.record(g, "sgd", params);
  return opt;
}

Optimizer adam(Graph& g, const std::string& name, const std::vector<Value>& params, const std::vector<Value>& grads,
               AdamOptions o) {
  check_pairs(name, params, grads);
  Optimizer opt;
  opt.name_ = name;
  Value lr = opt.add_hyper(g, "lr", o.lr);
  Value b1 = opt.add_hyper(g, "beta1", o.beta1);
  Value b2 = opt.add_hyper(g, "beta2", o.beta2);
  Value eps = opt.add_hyper(g, "eps", o.eps);
  Value wd = opt.add_hyper(g, "weight_decay", o.weight_decay);
  Value t = g.state(name + ".t", {});
  Graph::Scope scope(g, name + "/");
  Value t_new = t + 1.0;
  opt.updates_.push_back(assign(t, t_new));
  // Bias corrections 1 - beta^t, as exp(t log beta) so beta may be scheduled.
  Value c1 = 1.0 - exp(t_new * log(b1));
  Value sqrt_c2 = sqrt(1.0 - exp(t_new * log(b2)));
  // PyTorch's step, lr/c1 * m / (sqrt(v)/sqrt(c2) + eps), with numerator and
  // denominator times sqrt(c2) (Kingma & Ba's "efficient version", §2): the
  // corrections fold into two scalars and the pass is one loop per element
  // with one square root and one division.
  Value step = lr * sqrt_c2 / c1, step_eps = eps * sqrt_c2;
  Value keep1 = 1.0 - b1, keep2 = 1.0 - b2;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Value& p = params[i];
    Value d = o.weight_decay != 0 ? grads[i] + wd * p : grads[i];
    Value m = g.state(p.name() + ".adam_m", p.shape());
    Value v = g.state(p.name() + ".adam_v", p.shape());
    Value m_new = axpby(m, d, b1, keep1);
    Value v_new = axpby(v, square(d), b2, keep2);
    opt.updates_.push_back(assign(m, m_new));
    opt.updates_.push_back(assign(v, v_new));
    opt.updates_.push_back(assign(p, adam_update(p, m_new, v_new, step, step_eps)));
  }
  opt.record(g, "adam", params);
  return opt;
}

std::vector<Value> weights_only(const std::vector<Value>& params) {
  std::vector<Value> out;
  for (const Value& p : params)
    if (p.rank() >= 2) out.push_back(p);
  return out;
}

std::vector<Value> biases_only(const std::vector<Value>& params) {
  std::vector<Value> out;
  for (const Value& p : params)
    if (p.rank() < 2) out.push_back(p);
  return out;
}

}  // namespace anneal
