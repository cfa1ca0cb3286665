// Internal: the state of a compiled program (runtime/program.cpp runs it,
// runtime/compile.cpp builds it).
#pragma once
#include <oneapi/tbb/task_arena.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/gemm.hpp"
#include "runtime/fused_elementwise.hpp"
#include "runtime/gemm_step.hpp"
#include "runtime/program.hpp"

namespace anneal {

struct Slot {
  // panel: a GEMM product only its panelled pass reads; it exists a panel at
  // a time, in that pass's per-thread buffers, never whole.
  enum class Kind { feed, persistent, arena, alias, constant, panel } kind = Kind::arena;
  const Node* node = nullptr;    // whose value it holds
  const Node* target = nullptr;  // alias: the param/state whose storage holds the value
  Dims shape;                    // batch resolved
  DType dtype = DType::f32;
  Tensor tensor;                 // arena: fixed view; feed/persistent/alias: bound per run
};

struct RunContext {
  std::uint64_t seed = 0;
  std::uint32_t step = 0;
  bool check_finite = false;  // scan what each step writes for NaN/Inf
};

struct Step {
  std::string label;                // what describe() prints
  const Node* node = nullptr;       // the node whose value it writes
  std::vector<const Node*> nodes;   // every node it computes (fused steps: several)
  std::vector<int> reads;           // slots
  int write = -1;                   // slot
  std::vector<int> side_writes;     // more slots a fused pass writes (new optimizer moments)
  int gemm = -1;                    // the GEMM fusion it runs (a fused pass: folded in, by panels)
  std::int64_t panel_rows = 0;      // a fused pass running a GEMM: output rows per panel
  bool heavy = false;               // may run beside another heavy step of its level
  double cost = 0;                  // multiply-adds (GEMM) or elements (single kernel)
  bool elementwise = false;         // reads and writes element i at the same index
  bool pass = false;                // runs as one FusedElementwise over a group of chunkable ops
  bool lone_chunkable = false;      // one chunkable op: its own kernel, or a one-member pass if a GEMM folds in
  int level = 0;
  int share = 1;                    // threads it runs with
  // Returns false when it scanned a value and found a NaN/Inf (fused passes
  // do, chunk by chunk while the chunk is in cache; the runner scans the
  // outputs of the other steps after them).
  std::function<bool(const RunContext&)> exec;
  bool scanned_in_step = false;          // its outputs are scanned inside a step: its own, or a reader's
  std::vector<const Node*> scans_for;    // earlier steps' values this fused pass scans as it reads them
  mutable double seconds = 0;        // accumulated while profiling
};

struct Program::Impl {
  const Graph* graph = nullptr;
  std::vector<int> fetch_ids, target_ids;
  std::int64_t batch = -1;
  int threads = 1;

  std::vector<Slot> slots;
  std::vector<Step> steps;                 // sorted by level
  std::vector<std::pair<int, int>> levels;  // [begin, end) of each level in steps
  std::vector<std::pair<const Node*, int>> commits;  // deferred assigns: (target, value slot)
  std::vector<int> fetch_slots;
  std::vector<Tensor> results;
  std::vector<std::pair<std::size_t, Tensor>> fetch_copies;  // (fetch index, buffer)

  std::shared_ptr<void> arena;
  std::vector<float> scratch;  // threads * registers * chunk floats (fused passes never run side by side)
  std::vector<float> panels;   // threads * the largest private product panel of any panelled pass
  std::deque<KernelArgs> kernel_args;
  std::deque<Tensor> shape_stubs;  // shape-only inputs (OpDef::shape_only_inputs) that are not computed
  std::deque<GemmRowsPlan> gemms;
  std::deque<PanelledGemmPass> panelled;
  std::deque<FusedElementwise> groups;
  std::unique_ptr<tbb::task_arena> task_arena;
  bool profiling = false;
  std::int64_t profiled_runs = 0;
};

}  // namespace anneal
