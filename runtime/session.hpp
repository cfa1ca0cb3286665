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
#include "runtime/program.hpp"

namespace anneal {

// fast: f32 kernels (matmul on oneDNN). reference: f64 scalar kernels, for
// gradient checks and as the ground truth the fast kernels are tested against.
enum class Precision { fast, reference };

struct SessionOptions {
  std::uint64_t seed = 0;
  Precision precision = Precision::fast;
  // Stop with an error naming the first node that produces NaN or Inf.
  bool check_finite = true;
  // fast precision: run compiled programs (fused, planned, concurrent) rather
  // than interpreting node by node. The interpreter stays as the reference.
  bool compiled = true;
  CompileOptions compile;
};

using Feeds = std::map<std::string, Tensor>;

class Session {
 public:
  explicit Session(const Graph& graph, SessionOptions options = {});

  // Evaluates `fetches` (returned in order, as tensors of their own) and
  // `targets` (run for their effect, e.g. assign nodes) with the named inputs
  // in `feeds`. Every read of a param/state sees its value from before the
  // step; assign nodes update it. A step that fails before its updates leaves
  // the session unchanged. Each call advances step() by one.
  std::vector<Tensor> run(const Feeds& feeds, const std::vector<Value>& fetches,
                          const std::vector<Value>& targets = {});
  Tensor run(const Feeds& feeds, Value fetch) { return run(feeds, std::vector<Value>{fetch}).at(0); }
  // As run(), but the results are views into the compiled program's memory,
  // valid until the next call: the steady-state training path, which
  // allocates nothing.
  const std::vector<Tensor>& run_views(const Feeds& feeds, const std::vector<Value>& fetches,
                                       const std::vector<Value>& targets = {});
  // The compiled program run() uses for these requests and batch size
  // (compiled on first use): for inspection, profiling, tests and benchmarks.
  Program& program(const std::vector<Value>& fetches, const std::vector<Value>& targets, std::int64_t batch);

  // Parameters and state by node name; initialized on first use.
  const Tensor& get(const std::string& name);
  // Replaces a parameter/state value (converted to this session's precision).
  void set(const std::string& name, const Tensor& value);
  // Writes a scalar param/state in place (hyper-parameters between steps:
  // no allocation, no name lookup).
  void set_scalar(Value v, double value);
  // Names of the persistent tensors created so far, in graph order.
  std::vector<std::string> persistent_names() const;

  std::uint64_t step() const { return step_; }
  void set_step(std::uint64_t s) { step_ = s; }
  std::uint64_t seed() const { return options_.seed; }
  const Graph& graph() const { return graph_; }
  const SessionOptions& options() const { return options_; }
  DType float_type() const { return options_.precision == Precision::fast ? DType::f32 : DType::f64; }

 private:
  struct Store : StateStore {
    Session* s;
    Tensor& persistent(const Node& n) override { return s->persistent(n); }
  };
  struct Request {
    std::vector<int> fetches, targets;
    std::vector<const Node*> batched_inputs;  // needed inputs with a batch dim
    std::vector<std::unique_ptr<Program>> programs;  // one per batch size and thread count
  };

  const Node& persistent_node(const std::string& name) const;
  Tensor& persistent(const Node& n);
  Tensor initial_value(const Node& n) const;
  void check_requests(const std::vector<Value>& fetches, const std::vector<Value>& targets) const;
  // The node-by-node interpreter; `commit` false: no state written, step kept.
  std::vector<Tensor> interpret(const Feeds& feeds, const std::vector<Value>& fetches,
                                const std::vector<Value>& targets, bool commit);
  Program& program_for(const Feeds& feeds, const std::vector<Value>& fetches, const std::vector<Value>& targets);
  bool use_compiled() const { return options_.compiled && options_.precision == Precision::fast; }

  const Graph& graph_;
  SessionOptions options_;
  std::uint64_t step_ = 0;
  std::map<int, Tensor> persistent_;  // by node id
  std::vector<Request> requests_;
  Store store_;
};

}  // namespace anneal
