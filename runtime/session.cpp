#include "runtime/session.hpp"

#include <cmath>
#include <limits>

#include "backend/error.hpp"
#include "backend/finite.hpp"
#include "backend/threads.hpp"
#include "graph/shape_rules.hpp"

namespace anneal {

Session::Session(const Graph& graph, SessionOptions options) : graph_(graph), options_(options) {
  store_.s = this;
}

namespace {

// Parameter initialization draws from the node's stream at a step no
// training step reaches.
constexpr std::uint32_t kInitStep = std::numeric_limits<std::uint32_t>::max();

std::int64_t dim_or_one(const Dims& s, std::size_t i) { return i < s.size() ? s[i] : 1; }

bool is_finite(const Tensor& t) {
  switch (t.dtype()) {
    case DType::f32: return all_finite(t.data<float>(), t.numel());
    case DType::f64: return all_finite(t.data<double>(), t.numel());
    case DType::i32: return true;
  }
  return true;
}

}  // namespace

Tensor Session::initial_value(const Node& n) const {
  DType t = n.type.dtype == DType::i32 ? DType::i32 : float_type();
  const Dims& shape = n.type.shape;
  Init::Kind kind = init_kind_from_name(n.attrs.s("init"));
  const auto& args = n.attrs.floats("init_args");
  auto arg = [&](std::size_t i) { return i < args.size() ? args[i] : 0.0; };
  RandomStream rng{options_.seed, static_cast<std::uint32_t>(n.id), kInitStep};
  // Written straight into the tensor: a [1000, 784] weight through a
  // vector<double> first left 6 MB of freed heap in the process (W1's RSS).
  Tensor out = Tensor::zeros(t, shape);
  auto fill = [&](auto value_at) {
    for (std::int64_t i = 0; i < out.numel(); ++i) {
      const double x = value_at(static_cast<std::size_t>(i));
      switch (t) {
        case DType::f32: out.data<float>()[i] = static_cast<float>(x); break;
        case DType::f64: out.data<double>()[i] = x; break;
        case DType::i32: out.data<std::int32_t>()[i] = static_cast<std::int32_t>(x); break;
      }
    }
  };
  auto uniform = [&](double lo, double hi) { fill([&](std::size_t i) { return lo + (hi - lo) * rng.uniform_at(i); }); };
  switch (kind) {
    case Init::Kind::zeros: break;
    case Init::Kind::constant: fill([&](std::size_t) { return arg(0); }); break;
    case Init::Kind::normal: fill([&](std::size_t i) { return arg(0) + arg(1) * rng.normal_at(i); }); break;
    case Init::Kind::uniform: uniform(arg(0), arg(1)); break;
    case Init::Kind::glorot_uniform: {
      double b = std::sqrt(6.0 / static_cast<double>(dim_or_one(shape, 0) + dim_or_one(shape, 1)));
      uniform(-b, b);
      break;
    }
    case Init::Kind::torch_linear: {
      double b = 1.0 / std::sqrt(static_cast<double>(dim_or_one(shape, 0)));
      uniform(-b, b);
      break;
    }
  }
  return out;
}

Tensor& Session::persistent(const Node& n) {
  auto it = persistent_.find(n.id);
  if (it == persistent_.end()) it = persistent_.emplace(n.id, initial_value(n)).first;
  return it->second;
}

const Node& Session::persistent_node(const std::string& name) const {
  Value v = graph_.find(name);
  if (!v.valid()) throw InvalidInput("session: no node named '" + name + "'");
  const Node& n = v.node();
  if (n.op->role != OpRole::param && n.op->role != OpRole::state)
    throw InvalidInput("session: node '" + name + "' (op " + n.op->name + ") is not a param or state");
  return n;
}

const Tensor& Session::get(const std::string& name) { return persistent(persistent_node(name)); }

void Session::set(const std::string& name, const Tensor& value) {
  const Node& n = persistent_node(name);
  if (value.shape() != n.type.shape)
    throw InvalidInput("session: '" + name + "' has shape " + dims_str(n.type.shape) + ", got " +
                       dims_str(value.shape()));
  DType t = n.type.dtype == DType::i32 ? DType::i32 : float_type();
  persistent_[n.id] = value.to(t);
}

void Session::set_scalar(Value v, double value) {
  if (v.graph != &graph_ || (v.node().op->role != OpRole::param && v.node().op->role != OpRole::state) ||
      numel(v.shape()) != 1)
    throw InvalidInput("session: set_scalar needs a one-element param or state of this graph");
  Tensor& t = persistent(v.node());
  switch (t.dtype()) {
    case DType::f32: t.data<float>()[0] = static_cast<float>(value); break;
    case DType::f64: t.data<double>()[0] = value; break;
    case DType::i32: t.data<std::int32_t>()[0] = static_cast<std::int32_t>(value); break;
  }
}

std::vector<std::string> Session::persistent_names() const {
  std::vector<std::string> names;
  for (const auto& [id, t] : persistent_) names.push_back(graph_.node(id).name);
  return names;
}

void Session::check_requests(const std::vector<Value>& fetches, const std::vector<Value>& targets) const {
  for (const auto* list : {&fetches, &targets})
    for (const Value& v : *list)
      if (v.graph != &graph_ || !v.valid()) throw InvalidInput("session: a requested value is not in this graph");
}

std::vector<Tensor> Session::run(const Feeds& feeds, const std::vector<Value>& fetches,
                                 const std::vector<Value>& targets) {
  if (!use_compiled()) return interpret(feeds, fetches, targets, true);
  const std::vector<Tensor>& views = run_views(feeds, fetches, targets);
  std::vector<Tensor> out;
  out.reserve(views.size());
  for (const Tensor& t : views) out.push_back(t.clone());
  return out;
}

Program& Session::program_for(const Feeds& feeds, const std::vector<Value>& fetches,
                              const std::vector<Value>& targets) {
  Request* req = nullptr;
  for (Request& r : requests_) {
    if (r.fetches.size() != fetches.size() || r.targets.size() != targets.size()) continue;
    bool same = true;
    for (std::size_t i = 0; same && i < fetches.size(); ++i) same = r.fetches[i] == fetches[i].id;
    for (std::size_t i = 0; same && i < targets.size(); ++i) same = r.targets[i] == targets[i].id;
    if (same) { req = &r; break; }
  }
  if (!req) {
    check_requests(fetches, targets);
    Request r;
    for (const Value& v : fetches) r.fetches.push_back(v.id);
    for (const Value& v : targets) r.targets.push_back(v.id);
    std::vector<char> needed(graph_.size(), 0);
    for (const auto* list : {&fetches, &targets})
      for (const Value& v : *list) needed[static_cast<std::size_t>(v.id)] = 1;
    for (std::size_t i = graph_.size(); i-- > 0;) {
      if (!needed[i]) continue;
      const Node& nd = graph_.node(static_cast<int>(i));
      for (const Value& in : nd.inputs) needed[static_cast<std::size_t>(in.id)] = 1;
      if (nd.op->role == OpRole::input)
        for (auto d : nd.type.shape)
          if (d == Dim::batch()) { r.batched_inputs.push_back(&nd); break; }
    }
    requests_.push_back(std::move(r));
    req = &requests_.back();
  }
  // The batch size comes from the first batched input fed; binding checks the rest.
  std::int64_t batch = -1;
  for (const Node* in : req->batched_inputs) {
    auto it = feeds.find(in->name);
    if (it == feeds.end()) throw InvalidInput("input '" + in->name + "' is needed but was not fed");
    const Dims& want = in->type.shape;
    const Dims& got = it->second.shape();
    for (std::size_t d = 0; d < want.size() && d < got.size(); ++d)
      if (want[d] == Dim::batch()) { batch = got[d]; break; }
    if (batch >= 0) break;
  }
  int threads = num_threads();
  for (auto& p : req->programs)
    if (p->matches(fetches, targets, batch, threads)) return *p;
  req->programs.push_back(Program::compile(graph_, fetches, targets, batch, threads, options_.compile));
  return *req->programs.back();
}

Program& Session::program(const std::vector<Value>& fetches, const std::vector<Value>& targets,
                          std::int64_t batch) {
  Feeds feeds;
  for (const Value& v : graph_.inputs()) {
    Dims s = resolve_batch(v.shape(), batch);
    feeds.emplace(v.name(), Tensor::zeros(v.dtype(), s));
  }
  return program_for(feeds, fetches, targets);
}

const std::vector<Tensor>& Session::run_views(const Feeds& feeds, const std::vector<Value>& fetches,
                                              const std::vector<Value>& targets) {
  if (!use_compiled()) throw InvalidInput("run_views needs a compiled session (fast precision)");
  Program& p = program_for(feeds, fetches, targets);
  try {
    const std::vector<Tensor>& out = p.run(feeds, store_, options_.seed, step_, options_.check_finite);
    ++step_;
    return out;
  } catch (const RunError&) {
    // Replay node by node (writing nothing) so the error names the exact
    // node, not the fused step that contained it.
    if (options_.check_finite) interpret(feeds, fetches, targets, false);
    throw;
  }
}

std::vector<Tensor> Session::interpret(const Feeds& feeds, const std::vector<Value>& fetches,
                                       const std::vector<Value>& targets, bool commit) {
  check_requests(fetches, targets);
  const int n = static_cast<int>(graph_.size());
  std::vector<char> needed(static_cast<std::size_t>(n), 0);
  for (const auto* list : {&fetches, &targets})
    for (const Value& v : *list) needed[static_cast<std::size_t>(v.id)] = 1;
  for (int i = n - 1; i >= 0; --i)
    if (needed[static_cast<std::size_t>(i)])
      for (const Value& in : graph_.node(i).inputs) needed[static_cast<std::size_t>(in.id)] = 1;

  // Resolve the batch size from the fed inputs.
  std::int64_t batch = -1;
  for (int i = 0; i < n; ++i) {
    const Node& nd = graph_.node(i);
    if (!needed[static_cast<std::size_t>(i)] || nd.op->role != OpRole::input) continue;
    auto it = feeds.find(nd.name);
    if (it == feeds.end()) throw InvalidInput("input '" + nd.name + "' is needed but was not fed");
    const Tensor& t = it->second;
    const Dims& want = nd.type.shape;
    bool ok = t.rank() == static_cast<std::int64_t>(want.size()) && t.dtype() == nd.type.dtype;
    for (std::size_t d = 0; ok && d < want.size(); ++d) {
      if (want[d] != Dim::batch()) { ok = t.shape()[d] == want[d]; continue; }
      if (batch < 0) batch = t.shape()[d];
      ok = t.shape()[d] == batch;
    }
    if (!ok)
      throw InvalidInput("input '" + nd.name + "' expects " + dims_str(want) + " " + dtype_name(nd.type.dtype) +
                         (batch >= 0 ? " (batch " + std::to_string(batch) + ")" : std::string()) + ", got " +
                         dims_str(t.shape()) + " " + dtype_name(t.dtype()));
  }

  const bool fast = options_.precision == Precision::fast;
  std::vector<Tensor> vals(static_cast<std::size_t>(n));
  std::vector<std::pair<int, int>> commits;  // (target node, assign node)
  for (int i = 0; i < n; ++i) {
    auto ui = static_cast<std::size_t>(i);
    if (!needed[ui]) continue;
    const Node& nd = graph_.node(i);
    switch (nd.op->role) {
      case OpRole::input: {
        const Tensor& t = feeds.at(nd.name);
        vals[ui] = t.dtype() == DType::f32 && !fast ? t.to(DType::f64) : t;
        continue;
      }
      case OpRole::param:
      case OpRole::state: vals[ui] = persistent(nd); continue;
      default: break;
    }
    bool has_batch = false;
    for (auto d : nd.type.shape) has_batch |= d == Dim::batch();
    if (has_batch && batch < 0)
      throw InvalidInput(nd.describe() + " has a batch dimension but no batched input was fed");
    DType t = nd.type.dtype == DType::f32 ? float_type() : nd.type.dtype;
    vals[ui] = Tensor::empty(t, resolve_batch(nd.type.shape, batch));
    KernelArgs args{nd, {}, vals[ui], RandomStream{options_.seed, static_cast<std::uint32_t>(i),
                                                    static_cast<std::uint32_t>(step_)}};
    for (const Value& in : nd.inputs) args.in.push_back(&vals[static_cast<std::size_t>(in.id)]);
    KernelFn k = fast ? nd.op->fast : nd.op->ref;
    if (!k) throw RunError(nd.describe() + " has no " + (fast ? "fast" : "reference") + " kernel");
    try {
      k(args);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw RunError(nd.describe() + ": " + e.what());
    }
    if (options_.check_finite && !is_finite(vals[ui]))
      throw RunError("non-finite value (NaN or Inf) produced by " + nd.describe());
    if (nd.op->role == OpRole::assign) commits.emplace_back(nd.inputs[0].id, i);
  }

  std::vector<Tensor> out;
  for (const Value& v : fetches) out.push_back(vals[static_cast<std::size_t>(v.id)]);
  if (!commit) return out;
  for (auto [target, src] : commits) persistent_[target] = vals[static_cast<std::size_t>(src)];
  ++step_;
  return out;
}

}  // namespace anneal
