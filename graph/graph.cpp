#include "graph/graph.hpp"

#include <sstream>

#include "backend/error.hpp"
#include "graph/sources.hpp"

namespace anneal {

const Node& Value::node() const {
  if (!valid()) throw Error("use of an invalid Value");
  return graph->node(id);
}
DType Value::dtype() const { return node().type.dtype; }
const Dims& Value::shape() const { return node().type.shape; }
const std::string& Value::name() const { return node().name; }

const TypeInfo& Node::input_type(std::size_t i) const { return inputs.at(i).node().type; }

std::string Node::describe() const {
  std::ostringstream os;
  os << "node '" << name << "' (op " << (op ? op->name : "?");
  if (!inputs.empty()) {
    os << "; inputs ";
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const auto& t = input_type(i);
      os << (i ? ", " : "") << dims_str(t.shape) << ' ' << dtype_name(t.dtype);
    }
  }
  os << ')';
  return os.str();
}

const char* init_kind_name(Init::Kind k) {
  switch (k) {
    case Init::Kind::zeros: return "zeros";
    case Init::Kind::constant: return "constant";
    case Init::Kind::normal: return "normal";
    case Init::Kind::uniform: return "uniform";
    case Init::Kind::glorot_uniform: return "glorot_uniform";
    case Init::Kind::torch_linear: return "torch_linear";
  }
  return "?";
}

Init::Kind init_kind_from_name(const std::string& s) {
  for (auto k : {Init::Kind::zeros, Init::Kind::constant, Init::Kind::normal, Init::Kind::uniform,
                 Init::Kind::glorot_uniform, Init::Kind::torch_linear})
    if (s == init_kind_name(k)) return k;
  throw InvalidInput("unknown initializer '" + s +
                     "' (expected zeros, constant, normal, uniform, glorot_uniform or torch_linear)");
}

Graph::Graph(std::string name) : name_(std::move(name)) {}

namespace {

void check_attrs(const OpDef& op, Attrs& attrs, const std::string& where) {
  for (const auto& [k, v] : attrs.values()) {
    const AttrSpec* spec = nullptr;
    for (const auto& s : op.attrs)
      if (s.name == k) spec = &s;
    if (!spec) throw InvalidInput(where + ": unknown attribute '" + k + "'");
    if (attr_kind_of(v) != spec->kind)
      throw InvalidInput(where + ": attribute '" + k + "' must be " + attr_kind_name(spec->kind) + ", got " +
                         attr_kind_name(attr_kind_of(v)));
  }
  for (const auto& s : op.attrs) {
    if (attrs.has(s.name)) continue;
    if (!s.default_value) throw InvalidInput(where + ": missing attribute '" + s.name + "'");
    attrs.set(s.name, *s.default_value);
  }
}

}  // namespace

Value Graph::add(const OpDef& op, std::vector<Value> inputs, Attrs attrs, std::string name) {
  auto node = std::make_unique<Node>();
  node->id = static_cast<int>(nodes_.size());
  node->op = &op;
  node->graph = this;
  node->name = name.empty() ? scope_ + op.name + "_" + std::to_string(node->id) : std::move(name);
  node->inputs = std::move(inputs);
  node->attrs = std::move(attrs);
  std::string where = "node '" + node->name + "' (op " + op.name + ")";
  if (by_name_.count(node->name)) throw InvalidInput(where + ": the name is already used by another node");
  int n_in = static_cast<int>(node->inputs.size());
  if (n_in < op.min_inputs || (op.max_inputs >= 0 && n_in > op.max_inputs))
    throw InvalidInput(where + ": takes " + std::to_string(op.min_inputs) +
                       (op.max_inputs == op.min_inputs ? "" : "..." + (op.max_inputs < 0 ? std::string("n") : std::to_string(op.max_inputs))) +
                       " inputs, got " + std::to_string(n_in));
  for (const auto& v : node->inputs)
    if (v.graph != this || v.id < 0 || v.id >= node->id)
      throw InvalidInput(where + ": an input is not a value of this graph");
  check_attrs(op, node->attrs, where);
  try {
    node->type = op.infer(*node);
  } catch (const ShapeError& e) {
    throw InvalidInput(node->describe() + ": " + e.what());
  } catch (const Error& e) {
    throw InvalidInput(node->describe() + ": " + e.what());
  }
  by_name_[node->name] = node->id;
  nodes_.push_back(std::move(node));
  return nodes_.back()->value();
}

namespace {
Attrs init_attrs(const Dims& shape, const Init& init, DType dtype) {
  std::vector<double> args;
  if (init.kind == Init::Kind::constant) args = {init.a};
  if (init.kind == Init::Kind::normal || init.kind == Init::Kind::uniform) args = {init.a, init.b};
  return Attrs{{"shape", shape}, {"dtype", std::string(dtype_name(dtype))},
               {"init", std::string(init_kind_name(init.kind))}, {"init_args", args}};
}
}  // namespace

Value Graph::input(const std::string& name, Dims shape, DType dtype) {
  return add(input_op(), {}, Attrs{{"shape", shape}, {"dtype", std::string(dtype_name(dtype))}}, scoped(name));
}

Value Graph::param(const std::string& name, Dims shape, Init init) {
  return add(param_op(), {}, init_attrs(shape, init, DType::f32), scoped(name));
}

Value Graph::state(const std::string& name, Dims shape, Init init, DType dtype) {
  return add(state_op(), {}, init_attrs(shape, init, dtype), scoped(name));
}

Value Graph::constant(const Tensor& value, const std::string& name) {
  DType t = value.dtype() == DType::i32 ? DType::i32 : DType::f32;
  return add(constant_op(), {},
             Attrs{{"shape", value.shape()}, {"dtype", std::string(dtype_name(t))}, {"value", value.to_vector()}},
             name.empty() ? "" : scoped(name));
}

void Graph::output(const std::string& name, Value v) {
  if (v.graph != this) throw InvalidInput("output '" + name + "': the value belongs to another graph");
  for (auto& [n, val] : outputs_)
    if (n == name) { val = v; return; }
  outputs_.emplace_back(name, v);
}

Value Graph::output(const std::string& name) const {
  for (const auto& [n, v] : outputs_)
    if (n == name) return v;
  throw InvalidInput("graph '" + name_ + "' has no output named '" + name + "'");
}

void Graph::set_collection(const std::string& name, std::vector<Value> values) {
  for (const Value& v : values)
    if (v.graph != this) throw InvalidInput("collection '" + name + "': a value belongs to another graph");
  collections_[name] = std::move(values);
}

const std::vector<Value>& Graph::collection(const std::string& name) const {
  auto it = collections_.find(name);
  if (it == collections_.end()) throw InvalidInput("graph '" + name_ + "' has no collection '" + name + "'");
  return it->second;
}

Value Graph::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return {};
  return Value{const_cast<Graph*>(this), it->second};
}

namespace {
std::vector<Value> with_role(const Graph& g, OpRole role, std::string_view prefix) {
  std::vector<Value> out;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const Node& n = g.node(static_cast<int>(i));
    if (n.op->role == role && n.name.compare(0, prefix.size(), prefix) == 0) out.push_back(n.value());
  }
  return out;
}
}  // namespace

std::vector<Value> Graph::params(std::string_view prefix) const { return with_role(*this, OpRole::param, prefix); }
std::vector<Value> Graph::states(std::string_view prefix) const { return with_role(*this, OpRole::state, prefix); }
std::vector<Value> Graph::inputs() const { return with_role(*this, OpRole::input, ""); }

Graph::Scope::Scope(Graph& g, std::string prefix) : g_(g), saved_(g.scope_.size()) { g.scope_ += prefix; }
Graph::Scope::~Scope() { g_.scope_.resize(saved_); }

void Graph::verify() const {
  std::unordered_map<std::string, int> names;
  for (const auto& np : nodes_) {
    const Node& n = *np;
    if (!names.emplace(n.name, n.id).second) throw InvalidInput(n.describe() + ": duplicate node name");
    for (const auto& v : n.inputs)
      if (v.graph != this || v.id < 0 || v.id >= n.id)
        throw InvalidInput("node '" + n.name + "': input is not an earlier node of this graph");
    TypeInfo t;
    try {
      t = n.op->infer(n);
    } catch (const std::exception& e) {
      throw InvalidInput(n.describe() + ": " + e.what());
    }
    if (t.shape != n.type.shape || t.dtype != n.type.dtype)
      throw InvalidInput(n.describe() + ": recorded type " + dims_str(n.type.shape) + " differs from inferred " +
                         dims_str(t.shape));
    if (n.op->role == OpRole::assign) {
      OpRole target = n.inputs.at(0).node().op->role;
      if (target != OpRole::state && target != OpRole::param)
        throw InvalidInput(n.describe() + ": assign target must be a param or state");
    }
  }
}

std::string Graph::str() const {
  std::ostringstream os;
  os << "graph " << name_ << " (" << nodes_.size() << " nodes)\n";
  for (const auto& np : nodes_) {
    const Node& n = *np;
    os << "  %" << n.id << ' ' << n.name << " = " << n.op->name << '(';
    for (std::size_t i = 0; i < n.inputs.size(); ++i)
      os << (i ? ", " : "") << '%' << n.inputs[i].id;
    os << ')';
    std::string a = attrs_str(n.attrs);
    if (!a.empty()) os << " {" << a << '}';
    os << "  " << dims_str(n.type.shape) << ' ' << dtype_name(n.type.dtype) << '\n';
  }
  for (const auto& [name, v] : outputs_) os << "  output " << name << " = %" << v.id << '\n';
  for (const auto& [name, vs] : collections_) {
    os << "  collection " << name << " =";
    for (const Value& v : vs) os << " %" << v.id;
    os << '\n';
  }
  for (const auto& [k, v] : meta_) os << "  meta " << k << " = " << v << '\n';
  return os.str();
}

}  // namespace anneal
