#include "cli/optimizers.hpp"

#include <set>

#include "autodiff/grad.hpp"
#include "backend/error.hpp"
#include "runtime/session.hpp"

namespace anneal::cli {

namespace {

[[noreturn]] void fail_in(const Config& c, const std::string& path, const std::string& msg) {
  throw InvalidInput(c.file + ": " + path + ": " + msg);
}

// The value a hyper-parameter state starts at (its constant initializer).
std::optional<double> initial_value(const Graph& g, const std::string& state) {
  Value v = g.find(state);
  if (!v.valid() || !v.node().attrs.has("init") || v.node().attrs.s("init") != "constant") return std::nullopt;
  const auto& args = v.node().attrs.floats("init_args");
  if (args.empty()) return std::nullopt;
  return args[0];
}

void resolve_schedules(const Config& c, OptimizerConfig& o, const Graph& g) {
  o.resolved_schedules.clear();
  for (const auto& [h, spec] : o.schedules) {
    std::optional<double> base;
    if (o.hyper.count(h)) base = o.hyper.at(h);
    else base = initial_value(g, o.name + "." + h);
    try {
      o.resolved_schedules[h] = resolve_schedule(spec.json, spec.path, base, c.train.horizon);
    } catch (const InvalidInput& e) {
      throw InvalidInput(c.file + ": " + e.what());
    }
  }
}

std::string kind_of(const Graph& g, const std::string& name) {
  auto it = g.meta().find("optimizer." + name + ".kind");
  return it == g.meta().end() ? "" : it->second;
}

void match_recorded(Config& c, const Graph& g, const std::vector<std::string>& recorded) {
  std::string list;
  for (const auto& n : recorded) list += (list.empty() ? "" : ", ") + n;
  std::set<std::string> mentioned;
  for (OptimizerConfig& o : c.train.optimizers) {
    const std::string kind = kind_of(g, o.name);
    if (kind.empty())
      fail_in(c, o.path + ".name", "the graph " + c.graph_file + " records optimizers " + list + ", not '" + o.name +
                                       "'; entries of train.optimizers name recorded optimizers");
    if (!o.kind.empty() && o.kind != kind)
      fail_in(c, o.path + ".kind", "optimizer '" + o.name + "' is recorded as " + kind + ", not " + o.kind);
    for (const char* key : {"params", "select", "nesterov"}) {
      bool given = std::string(key) == "params" ? o.params_given : std::string(key) == "select" ? o.select_given
                                                                                                   : o.nesterov_given;
      if (given)
        fail_in(c, o.path + "." + key, "optimizer '" + o.name + "' is recorded in the graph with its parameters; only "
                                       "hyper-parameter values and schedules may be given");
    }
    Optimizer rec = Optimizer::from_graph(g, o.name);
    for (const auto& [h, v] : o.hyper)
      if (!rec.hyper().count(h)) fail_in(c, o.path + "." + h, "recorded optimizer '" + o.name + "' has no '" + h + "'");
    for (const auto& [h, s] : o.schedules)
      if (!rec.hyper().count(h))
        fail_in(c, s.path, "recorded optimizer '" + o.name + "' has no hyper-parameter '" + h + "' to schedule");
    o.kind = kind;
    o.recorded = true;
    mentioned.insert(o.name);
  }
  // Recorded optimizers the config leaves out still train: list them.
  for (const auto& n : recorded)
    if (!mentioned.count(n)) {
      OptimizerConfig o;
      o.path = "train.optimizers";
      o.name = n;
      o.kind = kind_of(g, n);
      o.recorded = true;
      c.train.optimizers.push_back(o);
    }
  for (OptimizerConfig& o : c.train.optimizers) resolve_schedules(c, o, g);
}

}  // namespace

std::vector<std::string> add_optimizers(Config& c, Graph& g) {
  const std::vector<std::string> recorded = Optimizer::names_in(g);
  if (!recorded.empty()) {
    match_recorded(c, g, recorded);
    std::set<std::string> trained;
    for (const auto& n : recorded)
      for (Value p : g.collection("optimizer." + n + ".params")) trained.insert(p.name());
    std::vector<std::string> untrained;
    for (Value p : g.params())
      if (!trained.count(p.name())) untrained.push_back(p.name());
    return untrained;
  }

  if (!c.train.optimizers_given) {
    OptimizerConfig o;
    o.path = "train.optimizers";
    o.name = "adam";
    o.kind = "adam";
    c.train.optimizers.push_back(o);
  }
  Value loss = g.output("loss");
  std::set<int> taken;
  std::map<int, std::string> owner;
  for (OptimizerConfig& o : c.train.optimizers) {
    if (o.kind.empty()) o.kind = "adam";
    if (o.params.empty()) o.params = {""};
    // Defaults, as PyTorch has them (SGD's lr, which PyTorch requires, is 0.01).
    const bool is_adam = o.kind == "adam";
    const std::map<std::string, double> defaults =
        is_adam ? std::map<std::string, double>{{"lr", 1e-3}, {"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-8},
                                                {"weight_decay", 0.0}}
                : std::map<std::string, double>{{"lr", 0.01}, {"momentum", 0.0}, {"weight_decay", 0.0}};
    for (const auto& [h, v] : o.hyper)
      if (!defaults.count(h)) fail_in(c, o.path + "." + h, o.kind + " has no hyper-parameter '" + h + "'");
    for (const auto& [h, v] : defaults) o.hyper.emplace(h, v);

    std::vector<Value> params;
    for (const std::string& prefix : o.params)
      for (Value p : g.params(prefix)) {
        if (o.select == "weights" && p.rank() < 2) continue;
        if (o.select == "biases" && p.rank() >= 2) continue;
        if (owner.count(p.id) && owner[p.id] == o.name) continue;  // two overlapping prefixes
        if (owner.count(p.id))
          fail_in(c, o.path + ".params", "parameter '" + p.name() + "' is already trained by optimizer '" +
                                             owner[p.id] + "'; parameter groups may not overlap");
        owner[p.id] = o.name;
        params.push_back(p);
      }
    if (params.empty()) {
      std::string names;
      for (Value p : g.params()) names += (names.empty() ? "" : ", ") + p.name();
      fail_in(c, o.path + ".params", "selects no parameter (select \"" + o.select + "\"; the graph has: " + names + ")");
    }
    for (const auto& [h, s] : o.schedules) {
      // A zero weight decay or momentum is left out of the graph entirely.
      if ((h == "weight_decay" && o.hyper.at(h) == 0) || (h == "momentum" && o.hyper.at(h) == 0 && !o.nesterov))
        fail_in(c, s.path, h + " is 0, so the optimizer is built without it and there is nothing to schedule; "
                           "give it a nonzero starting value");
    }
    std::vector<Value> grads = grad(loss, params);
    if (is_adam)
      adam(g, o.name, params, grads,
           {.lr = o.hyper["lr"], .beta1 = o.hyper["beta1"], .beta2 = o.hyper["beta2"], .eps = o.hyper["eps"],
            .weight_decay = o.hyper["weight_decay"]});
    else
      sgd(g, o.name, params, grads,
          {.lr = o.hyper["lr"], .momentum = o.hyper["momentum"], .nesterov = o.nesterov,
           .weight_decay = o.hyper["weight_decay"]});
    resolve_schedules(c, o, g);
  }
  std::vector<std::string> untrained;
  for (Value p : g.params())
    if (!owner.count(p.id)) untrained.push_back(p.name());
  return untrained;
}

std::vector<Optimizer> recover_optimizers(const Config& c, const Graph& g) {
  std::vector<Optimizer> out;
  std::set<std::string> names;
  for (const std::string& n : Optimizer::names_in(g)) {
    names.insert(n);
    Optimizer opt = Optimizer::from_graph(g, n);
    for (const OptimizerConfig& o : c.train.optimizers)
      if (o.name == n)
        for (const auto& [h, s] : o.resolved_schedules) opt.schedule(h, s);
    out.push_back(std::move(opt));
  }
  for (const OptimizerConfig& o : c.train.optimizers)
    if (!names.count(o.name))
      fail_in(c, o.path + ".name", "the run's graph has no optimizer '" + o.name + "'");
  if (out.empty()) throw InvalidInput(c.file + ": train.optimizers: the graph has no optimizer to train it with");
  return out;
}

void apply_recorded_hyper(const Config& c, const std::vector<Optimizer>& opts, Session& s) {
  for (const OptimizerConfig& o : c.train.optimizers) {
    if (!o.recorded) continue;
    for (const Optimizer& opt : opts)
      if (opt.name() == o.name)
        for (const auto& [h, v] : o.hyper) opt.set(s, h, v);
  }
}

}  // namespace anneal::cli
