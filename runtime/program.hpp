// A compiled program: one graph, compiled for a set of requested values, a
// batch size and a thread count. Compilation prunes what the requests do not
// need, merges common subexpressions, fuses matmul + bias + activation into
// one oneDNN primitive, the two products of a weight's gradient into one
// accumulating GEMM, an optimizer's momentum (v = mu v + grad) into that
// GEMM's output, and chains of elementwise ops into one pass (optionally, a
// GEMM whose product outgrows L2 runs by panels inside the pass reading it); it orders the
// steps in levels (balanced heavy steps of a level may run side by side on
// TBB when each keeps two or more threads), and places every intermediate
// value in one arena by liveness. Running it binds the feeds and persistent
// tensors and allocates nothing.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.hpp"

namespace anneal {

struct CompileOptions {
  bool cse = true;
  bool fuse_matmul = true;       // matmul + bias + activation, matmul + matmul: oneDNN post-ops
  bool fuse_elementwise = true;  // chains of elementwise ops in one pass
  bool concurrent = true;        // balanced independent heavy steps may run side by side
  bool in_place_updates = true;  // assign writes straight into the state it updates
  // A GEMM whose product outgrows the L2 cache runs panel by panel inside
  // the fused pass that reads it (an optimizer update reading its gradient
  // or momentum), so the panel is updated while it is in L2.
  bool panel_gemms = true;
  // Runs of elementwise ops with a kernel of their own (ChunkCompound: an
  // optimizer's update) computed in one loop instead of one per op.
  bool compound_kernels = true;
  // Write a parameter bigger than L2, updated in place on several threads,
  // with streaming stores (see FusedElementwise::stream_reg). Unset: only
  // when the threads' CPUs do not share one L3 cache (backend/cache.hpp).
  std::optional<bool> stream_updates;
};

// Where a program finds parameters and state (the session).
class StateStore {
 public:
  virtual ~StateStore() = default;
  virtual Tensor& persistent(const Node& n) = 0;
};

struct ProgramStats {
  int nodes = 0;            // graph nodes the requests need (after pruning)
  int cse_merged = 0;       // nodes replaced by an identical earlier node
  int steps = 0;
  int gemms = 0;            // matmul primitives executed per run
  int fused_matmuls = 0;    // ... of which carry a bias and/or activation
  int fused_groups = 0;     // multi-op elementwise passes
  int fused_group_ops = 0;  // elementwise ops inside them
  int levels = 0;
  int concurrent_levels = 0;
  int in_place_assigns = 0;
  int panelled_gemms = 0;   // GEMMs run panel by panel inside the pass that reads their product
  int streamed_updates = 0; // in-place updates written with streaming stores (FusedElementwise::stream_reg)
  int compound_kernels = 0; // runs of a pass's ops computed in one loop (ChunkCompound: an optimizer update)
  std::size_t arena_bytes = 0;      // planned peak of intermediate values
  std::size_t unplanned_bytes = 0;  // the same values without reuse
};

class Program {
 public:
  static std::unique_ptr<Program> compile(const Graph& g, const std::vector<Value>& fetches,
                                          const std::vector<Value>& targets, std::int64_t batch, int threads,
                                          const CompileOptions& options);
  ~Program();

  bool matches(const std::vector<Value>& fetches, const std::vector<Value>& targets, std::int64_t batch,
               int threads) const;
  // Runs every step. Results are views into the program's memory, valid until
  // the next run. Throws like the interpreter; a NaN/Inf is reported by the
  // step that produced it.
  const std::vector<Tensor>& run(const std::map<std::string, Tensor>& feeds, StateStore& store,
                                 std::uint64_t seed, std::uint64_t step, bool check_finite);

  const ProgramStats& stats() const { return stats_; }
  // One line per step: "L3 gemm+bias+sigmoid fc1 -> [B, 500]"; after
  // profiled runs, each line starts with the step's mean time per run.
  std::string describe() const;
  // Times every step of the following runs (a clock read per step; for
  // finding where a program spends its time, off by default).
  void set_profiling(bool on);

  struct Impl;

 private:
  Program();
  std::unique_ptr<Impl> impl_;
  ProgramStats stats_;
};

}  // namespace anneal
