// The IR: a Graph owns Nodes in topological order (a node's inputs are built
// before it); a Value names one node's output. Builder functions (ops/) only
// record nodes; sessions (runtime/) run them.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "graph/attrs.hpp"
#include "graph/op_def.hpp"

namespace anneal {

class Graph;

// The symbolic batch dimension: one graph serves every batch size.
struct Dim {
  static constexpr std::int64_t batch() { return -1; }
};

struct Value {
  Graph* graph = nullptr;
  int id = -1;

  bool valid() const { return graph != nullptr && id >= 0; }
  const Node& node() const;
  DType dtype() const;
  const Dims& shape() const;
  std::int64_t rank() const { return static_cast<std::int64_t>(shape().size()); }
  const std::string& name() const;
  bool operator==(const Value& o) const { return graph == o.graph && id == o.id; }
};

struct Node {
  int id = -1;
  std::string name;
  const OpDef* op = nullptr;
  std::vector<Value> inputs;
  Attrs attrs;
  TypeInfo type;
  Graph* graph = nullptr;

  Value value() const { return Value{graph, id}; }
  const TypeInfo& input_type(std::size_t i) const;
  // "node 'enc.fc' (op matmul; inputs [B, 784] f32, [784, 400] f32)"
  std::string describe() const;
};

// How a parameter or state tensor starts. `a`, `b` are the distribution's
// arguments: normal(mean a, std b), uniform(a, b), constant(a).
struct Init {
  enum class Kind { zeros, constant, normal, uniform, glorot_uniform, torch_linear };
  Kind kind = Kind::zeros;
  double a = 0, b = 0;

  static Init zeros() { return {}; }
  static Init constant(double v) { return {Kind::constant, v, 0}; }
  static Init normal(double stddev, double mean = 0) { return {Kind::normal, mean, stddev}; }
  static Init uniform(double lo, double hi) { return {Kind::uniform, lo, hi}; }
  // Glorot & Bengio 2010: uniform ±sqrt(6 / (fan_in + fan_out)).
  static Init glorot_uniform() { return {Kind::glorot_uniform, 0, 0}; }
  // PyTorch's nn.Linear default: uniform ±1/sqrt(fan_in), fan_in = shape[0].
  static Init torch_linear() { return {Kind::torch_linear, 0, 0}; }
};
const char* init_kind_name(Init::Kind k);
Init::Kind init_kind_from_name(const std::string& s);  // throws InvalidInput

class Graph {
 public:
  explicit Graph(std::string name = "graph");
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  const std::string& name() const { return name_; }

  // Records a node: validates inputs and attributes against the op's schema
  // and runs its shape rule. Throws InvalidInput naming the node, its op and
  // its input shapes. An empty name gets "<scope><op>_<id>".
  Value add(const OpDef& op, std::vector<Value> inputs, Attrs attrs = {}, std::string name = "");

  // A named input fed at run time. Use Dim::batch() for the batch dimension.
  Value input(const std::string& name, Dims shape, DType dtype = DType::f32);
  // A trainable parameter, initialized by the session.
  Value param(const std::string& name, Dims shape, Init init);
  // Persistent, non-trainable state (optimizer moments, persistent chains,
  // hyper-parameters), updated only through assign().
  Value state(const std::string& name, Dims shape, Init init = Init::zeros(), DType dtype = DType::f32);
  Value constant(const Tensor& value, const std::string& name = "");
  Value scalar(double v) { return constant(Tensor::scalar(v)); }

  void output(const std::string& name, Value v);
  Value output(const std::string& name) const;
  const std::vector<std::pair<std::string, Value>>& outputs() const { return outputs_; }

  // Named lists of values (an optimizer's updates and parameters, a model's
  // monitors) and string metadata (an optimizer's kind): what a trainer needs
  // to run a saved graph without the code that built it.
  void set_collection(const std::string& name, std::vector<Value> values);
  const std::vector<Value>& collection(const std::string& name) const;  // throws InvalidInput if absent
  const std::map<std::string, std::vector<Value>>& collections() const { return collections_; }
  void set_meta(const std::string& key, const std::string& value) { meta_[key] = value; }
  const std::map<std::string, std::string>& meta() const { return meta_; }

  std::size_t size() const { return nodes_.size(); }
  const Node& node(int id) const { return *nodes_.at(static_cast<std::size_t>(id)); }
  Value find(std::string_view name) const;  // invalid Value if absent
  // Trainable parameters whose name starts with `prefix` (a parameter group).
  std::vector<Value> params(std::string_view prefix = "") const;
  std::vector<Value> states(std::string_view prefix = "") const;
  std::vector<Value> inputs() const;

  // Names built while a Scope lives get its prefix ("enc." + "fc.W").
  class Scope {
   public:
    Scope(Graph& g, std::string prefix);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Graph& g_;
    std::size_t saved_;
  };
  std::string scoped(const std::string& name) const { return scope_ + name; }

  // Structural checks (ids, topological order, shapes re-inferred, unique
  // names, assign targets); throws InvalidInput naming the node.
  void verify() const;
  // One line per node: "%12 enc.fc = matmul(%3 x, %7 enc.W)  [B, 400] f32".
  std::string str() const;

 private:
  std::string name_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::pair<std::string, Value>> outputs_;
  std::string scope_;
  std::unordered_map<std::string, int> by_name_;
  std::map<std::string, std::vector<Value>> collections_;
  std::map<std::string, std::string> meta_;
};

}  // namespace anneal
