#include "models/rbm.hpp"

#include <charconv>
#include <cmath>

#include "backend/error.hpp"
#include "data/dataset.hpp"
#include "ops/ops.hpp"
#include "runtime/session.hpp"

namespace anneal::rbm {

void RbmSpec::check(const std::string& who) const {
  auto fail = [&](const std::string& what) { throw InvalidInput(who + ": " + what); };
  if (visible < 1 || hidden < 1)
    fail("needs at least one visible and one hidden unit, got visible=" + std::to_string(visible) +
         ", hidden=" + std::to_string(hidden));
  if (hidden_type != UnitType::bernoulli && hidden_type != UnitType::gaussian)
    fail(std::string("hidden units must be bernoulli or gaussian, got ") + unit_type_name(hidden_type));
  if (visible_type == UnitType::gaussian && hidden_type == UnitType::gaussian)
    fail("gaussian visible and gaussian hidden units make an improper model (no partition function)");
  if (learn_sigma && visible_type != UnitType::gaussian) fail("learn_sigma needs gaussian visible units");
  if (visible_type == UnitType::softmax && (group_size < 2 || visible % group_size != 0))
    fail("softmax visibles need group_size >= 2 dividing visible=" + std::to_string(visible) +
         ", got group_size=" + std::to_string(group_size));
  if (visible_type == UnitType::replicated_softmax && max_doc_length < 1)
    fail("replicated softmax needs max_doc_length >= 1 (the longest document a sample may have)");
  if (label_classes < 0 || label_classes == 1) fail("label_classes must be 0 or at least 2");
  if (!(init_std >= 0) || !std::isfinite(init_std)) fail("init_std must be finite and >= 0");
}

namespace {

std::string meta_key(const std::string& name, const std::string& field) { return "rbm." + name + "." + field; }

Value add_if(Value a, Value b) { return !a.valid() ? b : !b.valid() ? a : a + b; }

// The data units of a spec (labels not included).
UnitsPtr data_units(const RbmSpec& spec, Value log_sigma) {
  switch (spec.visible_type) {
    case UnitType::bernoulli: return bernoulli_units(spec.visible);
    case UnitType::gaussian: return gaussian_units(spec.visible, log_sigma);
    case UnitType::softmax: return softmax_units(spec.visible / spec.group_size, spec.group_size);
    case UnitType::replicated_softmax: return replicated_softmax_units(spec.visible, spec.max_doc_length);
  }
  return nullptr;
}

// The unit objects hold no graph state but log σ, so a loaded graph gets
// them back from its spec.
void set_units(Rbm& r) {
  UnitsPtr data = data_units(r.spec, r.log_sigma);
  r.visible = r.spec.label_classes > 0 ? joint_units({data, softmax_units(1, r.spec.label_classes)}) : data;
  r.hidden = r.spec.hidden_type == UnitType::gaussian ? gaussian_units(r.spec.hidden) : bernoulli_units(r.spec.hidden);
}

}  // namespace

Rbm make_rbm(Graph& g, const std::string& name, const RbmSpec& spec) {
  spec.check("rbm '" + name + "'");
  Rbm r;
  r.name = name;
  r.spec = spec;
  const std::int64_t v = spec.visible_units(), h = spec.hidden;
  r.W = g.param(name + ".W", {v, h}, Init::normal(spec.init_std));
  r.b = g.param(name + ".b", {v}, Init::zeros());
  r.c = g.param(name + ".c", {h}, Init::zeros());
  if (spec.learn_sigma) r.log_sigma = g.param(name + ".log_sigma", {spec.visible}, Init::zeros());
  set_units(r);

  g.set_meta(meta_key(name, "visible"), std::to_string(spec.visible));
  g.set_meta(meta_key(name, "hidden"), std::to_string(spec.hidden));
  g.set_meta(meta_key(name, "visible_type"), unit_type_name(spec.visible_type));
  g.set_meta(meta_key(name, "hidden_type"), unit_type_name(spec.hidden_type));
  g.set_meta(meta_key(name, "learn_sigma"), spec.learn_sigma ? "1" : "0");
  g.set_meta(meta_key(name, "group_size"), std::to_string(spec.group_size));
  g.set_meta(meta_key(name, "max_doc_length"), std::to_string(spec.max_doc_length));
  g.set_meta(meta_key(name, "label_classes"), std::to_string(spec.label_classes));
  return r;
}

Rbm Rbm::from_graph(const Graph& g, const std::string& name) {
  auto field = [&](const std::string& f) -> const std::string& {
    auto it = g.meta().find(meta_key(name, f));
    if (it == g.meta().end())
      throw InvalidInput("graph '" + g.name() + "' has no RBM '" + name + "' (metadata '" + meta_key(name, f) +
                         "' is missing)");
    return it->second;
  };
  auto integer = [&](const std::string& f) {
    const std::string& s = field(f);
    std::int64_t x = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
    if (ec != std::errc() || end != s.data() + s.size())
      throw InvalidInput("graph '" + g.name() + "': metadata '" + meta_key(name, f) + "' is not an integer: '" + s + "'");
    return x;
  };
  RbmSpec spec;
  spec.visible = integer("visible");
  spec.hidden = integer("hidden");
  spec.visible_type = unit_type_from_name(field("visible_type"));
  spec.hidden_type = unit_type_from_name(field("hidden_type"));
  spec.learn_sigma = integer("learn_sigma") != 0;
  spec.group_size = integer("group_size");
  spec.max_doc_length = integer("max_doc_length");
  spec.label_classes = integer("label_classes");
  spec.check("rbm '" + name + "' in graph '" + g.name() + "'");

  Rbm r;
  r.name = name;
  r.spec = spec;
  auto param = [&](const std::string& suffix, const Dims& shape) {
    Value p = g.find(name + suffix);
    if (!p.valid() || p.node().op->role != OpRole::param || p.shape() != shape)
      throw InvalidInput("graph '" + g.name() + "': RBM '" + name + "' needs a parameter '" + name + suffix + "' " +
                         dims_str(shape));
    return p;
  };
  const std::int64_t v = spec.visible_units(), h = spec.hidden;
  r.W = param(".W", {v, h});
  r.b = param(".b", {v});
  r.c = param(".c", {h});
  if (spec.learn_sigma) r.log_sigma = param(".log_sigma", {spec.visible});
  set_units(r);
  return r;
}

Value Rbm::length(Value v) const {
  if (spec.visible_type != UnitType::replicated_softmax) return {};
  Value words = spec.label_classes > 0 ? slice(v, v.rank() - 1, 0, spec.visible) : v;
  return sum(words, {-1}, true);
}

Value Rbm::hidden_input(Value v) const {
  Value a = matmul(visible->stat(v), W);
  return spec.visible_type == UnitType::replicated_softmax ? a + length(v) * c : a + c;
}

Value Rbm::visible_input(Value h) const { return matmul(hidden->stat(h), W, false, true) + visible->natural_bias(b); }

Value Rbm::mean_h(Value v) const { return hidden->mean(hidden_input(v)); }
Value Rbm::sample_h(Value v) const { return hidden->sample(hidden_input(v)); }
Value Rbm::mean_v(Value h, Value len) const { return visible->mean(visible_input(h), len); }
Value Rbm::sample_v(Value h, Value len) const { return visible->sample(visible_input(h), len); }

Value Rbm::gibbs(Value v, bool sample_visible) const {
  Value h = sample_h(v);
  return sample_visible ? sample_v(h, length(v)) : mean_v(h, length(v));
}

Value Rbm::energy(Value v, Value h) const {
  Value e = -sum(visible->stat(v) * visible->natural_bias(b), {-1}) - sum(hidden->stat(h) * hidden_input(v), {-1});
  return add_if(add_if(e, visible->base_energy(v)), hidden->base_energy(h));
}

Value Rbm::free_energy(Value v) const {
  Value f = -sum(visible->stat(v) * visible->natural_bias(b), {-1}) - hidden->log_partition(hidden_input(v));
  return add_if(f, visible->base_energy(v));
}

Value Rbm::free_energy_hidden(Value h) const {
  if (spec.visible_type == UnitType::replicated_softmax)
    throw InvalidInput("rbm '" + name + "': summing out replicated-softmax visibles needs a document length");
  Value f = -sum(hidden->stat(h) * c, {-1}) - visible->log_partition(visible_input(h));
  return add_if(f, hidden->base_energy(h));
}

Value Rbm::class_logits(Value x) const {
  const std::int64_t nx = spec.visible, nl = spec.label_classes;
  if (nl == 0) throw InvalidInput("rbm '" + name + "' has no label units (label_classes = 0)");
  if (x.rank() != 2 || x.shape()[1] != nx)
    throw InvalidInput("rbm '" + name + "': class_logits expects x [rows, " + std::to_string(nx) + "], got " +
                       dims_str(x.shape()) + " ('" + x.name() + "')");
  // -F(x, e_y) = -base(x) + stat(x)·b̃_x + d_y + A_h(a_x + U_y), a_x = stat(x) W_x + c̃(x):
  // every class at once as a [rows, classes, H] sweep.
  Value u = slice(W, 0, nx, nx + nl), d = slice(b, 0, nx, nx + nl);
  Rbm data_part = *this;  // the same RBM without its label units
  data_part.spec.label_classes = 0;
  data_part.W = slice(W, 0, 0, nx);
  data_part.b = slice(b, 0, 0, nx);
  data_part.visible = data_units(spec, log_sigma);
  Value ax = data_part.hidden_input(x);
  Value sweep = reshape(ax, {ax.shape()[0], 1, spec.hidden}) + u;
  const Units& xu = *data_part.visible;
  Value common = sum(xu.stat(x) * xu.natural_bias(data_part.b), {-1});
  if (Value base = xu.base_energy(x); base.valid()) common = common - base;
  return reshape(common, {ax.shape()[0], 1}) + d + hidden->log_partition(sweep);
}

Value Rbm::join_labels(Value x, Value labels) const {
  if (spec.label_classes == 0) return x;
  return concat({x, one_hot(labels, spec.label_classes)}, 1);
}

Rbm bernoulli(Graph& g, const std::string& name, std::int64_t visible, std::int64_t hidden) {
  return make_rbm(g, name, {.visible = visible, .hidden = hidden});
}
Rbm gaussian(Graph& g, const std::string& name, std::int64_t visible, std::int64_t hidden, bool learn_sigma) {
  return make_rbm(g, name,
                  {.visible = visible, .hidden = hidden, .visible_type = UnitType::gaussian, .learn_sigma = learn_sigma});
}
Rbm softmax(Graph& g, const std::string& name, std::int64_t groups, std::int64_t group_size, std::int64_t hidden) {
  return make_rbm(g, name,
                  {.visible = groups * group_size, .hidden = hidden, .visible_type = UnitType::softmax,
                   .group_size = group_size});
}
Rbm replicated_softmax(Graph& g, const std::string& name, std::int64_t vocabulary, std::int64_t hidden,
                       std::int64_t max_doc_length) {
  return make_rbm(g, name,
                  {.visible = vocabulary, .hidden = hidden, .visible_type = UnitType::replicated_softmax,
                   .max_doc_length = max_doc_length});
}

Replica replicate(const Rbm& rbm, const std::string& graph_name) {
  Replica r;
  r.graph = std::make_unique<Graph>(graph_name);
  r.rbm = make_rbm(*r.graph, rbm.name, rbm.spec);
  return r;
}

void copy_parameters(Session& from, Session& to, const Rbm& rbm) {
  for (const Value& p : {rbm.W, rbm.b, rbm.c, rbm.log_sigma})
    if (p.valid()) to.set(p.name(), from.get(p.name()));
}

Tensor visible_rows(const Rbm& rbm, const Dataset& data) {
  check_dataset(data, "rbm '" + rbm.name + "'");
  const std::int64_t n = data.size(), nx = rbm.spec.visible, nl = rbm.spec.label_classes;
  if (data.features() != nx)
    throw InvalidInput("rbm '" + rbm.name + "' has " + std::to_string(nx) + " data units but the dataset has " +
                       std::to_string(data.features()) + " features");
  if (nl == 0) return data.x;
  if (!data.labeled()) throw InvalidInput("rbm '" + rbm.name + "' has label units but the dataset has no labels");
  Tensor rows = Tensor::zeros(DType::f32, {n, nx + nl});
  const float* x = data.x.data<float>();
  const std::int32_t* y = data.y.data<std::int32_t>();
  float* out = rows.data<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    if (y[i] < 0 || y[i] >= nl)
      throw InvalidInput("rbm '" + rbm.name + "': label " + std::to_string(y[i]) + " of example " + std::to_string(i) +
                         " is outside [0, " + std::to_string(nl) + ")");
    std::copy(x + i * nx, x + (i + 1) * nx, out + i * (nx + nl));
    out[i * (nx + nl) + nx + y[i]] = 1.f;
  }
  return rows;
}

std::vector<double> base_rate_bias(const Rbm& rbm, const Tensor& rows, double prior) {
  const std::int64_t n = rows.dim(0), v = rows.dim(1);
  if (v != rbm.spec.visible_units())
    throw InvalidInput("rbm '" + rbm.name + "': base rates need rows of " + std::to_string(rbm.spec.visible_units()) +
                       " units, got " + dims_str(rows.shape()));
  if (n < 1) throw InvalidInput("rbm '" + rbm.name + "': base rates need at least one example");
  std::vector<double> means(static_cast<std::size_t>(v), 0.0);
  const float* p = rows.data<float>();
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < v; ++j) means[static_cast<std::size_t>(j)] += p[i * v + j];
  for (double& m : means) m /= static_cast<double>(n);
  return rbm.visible->base_rate_bias(means, static_cast<double>(n), prior);
}

void init_visible_bias(Session& s, const Rbm& rbm, const Dataset& data, double prior) {
  auto bias = base_rate_bias(rbm, visible_rows(rbm, data), prior);
  s.set(rbm.b.name(), Tensor::from(bias, {rbm.spec.visible_units()}));
}

}  // namespace anneal::rbm
