// A Session runs a graph: it holds the persistent tensors (parameters,
// optimizer moments, persistent chains, hyper-parameters), the seed and the
// step counter, and evaluates the nodes that the requested values need, in
// order, one at a time (the sequential reference executor).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "graph/graph.hpp"

namespace anneal {

// fast: f32 kernels (matmul on oneDNN). reference: f64 scalar kernels, for
// gradient checks and as the ground truth the fast kernels are tested against.
enum class Precision { fast, reference };

struct SessionOptions {
  std::uint64_t seed = 0;
  Precision precision = Precision::fast;
  // Stop with an error naming the first node that produces NaN or Inf.
  bool check_finite = true;
};

using Feeds = std::map<std::string, Tensor>;

class Session {
 public:
  explicit Session(const Graph& graph, SessionOptions options = {});

  // Evaluates `fetches` (returned in order) and `targets` (run for their
  // effect, e.g. assign nodes) with the named inputs in `feeds`. State written
  // by assign nodes is committed only after every node has run, so a failing
  // step leaves the session unchanged. Each call advances step() by one.
  std::vector<Tensor> run(const Feeds& feeds, const std::vector<Value>& fetches,
                          const std::vector<Value>& targets = {});
  Tensor run(const Feeds& feeds, Value fetch) { return run(feeds, std::vector<Value>{fetch}).at(0); }

  // Parameters and state by node name; initialized on first use.
  const Tensor& get(const std::string& name);
  // Replaces a parameter/state value (converted to this session's precision).
  void set(const std::string& name, const Tensor& value);
  // Names of the persistent tensors created so far, in graph order.
  std::vector<std::string> persistent_names() const;

  std::uint64_t step() const { return step_; }
  void set_step(std::uint64_t s) { step_ = s; }
  std::uint64_t seed() const { return options_.seed; }
  const Graph& graph() const { return graph_; }
  const SessionOptions& options() const { return options_; }
  DType float_type() const { return options_.precision == Precision::fast ? DType::f32 : DType::f64; }

 private:
  const Node& persistent_node(const std::string& name) const;
  Tensor& persistent(const Node& n);
  Tensor initial_value(const Node& n) const;

  const Graph& graph_;
  SessionOptions options_;
  std::uint64_t step_ = 0;
  std::map<int, Tensor> persistent_;  // by node id
};

}  // namespace anneal
