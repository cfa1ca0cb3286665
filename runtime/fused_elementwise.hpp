// One pass over memory for a tree of elementwise ops: the ops run chunk by
// chunk (a few KB, so intermediate values stay in L1/L2), each op's chunk
// kernel (OpDef::chunk) reading its operands from the previous ops' chunks.
#pragma once
#include <cstdint>
#include <vector>

#include "graph/graph.hpp"

namespace anneal {

struct FusedElementwise {
  static constexpr std::int64_t kChunk = 1024;

  struct Operand {
    // leading: one value per run of `block` elements (a [B, 1] column
    // spread over [B, K] rows); shape: read for its shape only (none of
    // its data, as broadcast_like's `like`).
    enum class Kind { full, scalar, block, leading, member, shape } kind = Kind::full;
    const Tensor* tensor = nullptr;  // full/scalar/block/leading: an outside value
    std::int64_t block = 0;          // block: numel of the repeated trailing block; leading: the run length
    int member = -1;                 // member: index into members
    int reg = -1;                    // block/leading: the register it is gathered into
    bool scan = false;               // full: scanned for NaN/Inf as it is read (an earlier step's output)
  };
  struct Member {
    const Node* node = nullptr;
    ChunkFn fn = nullptr;
    std::vector<Operand> operands;
    int reg = -1;            // its chunk register (-1: written to `out` or the pass's output)
    Tensor* out = nullptr;   // a side output: written here instead of a register
    // The first member of a run one compound kernel computes (ChunkCompound,
    // found by find_compounds): its outside operands and the run's length.
    // The run's other members are in_compound: the kernel writes them too.
    decltype(ChunkCompound::fn) compound = nullptr;
    std::vector<Operand> compound_operands;
    int compound_size = 0;
    bool in_compound = false;
  };

  std::vector<Member> members;  // in dependency order; the last is the root
  Tensor* out = nullptr;
  int registers = 0;            // per thread
  // The root's chunks are computed into this register and written to `out`
  // with streaming stores (backend/cache.hpp); -1: written in place. For a
  // large parameter updated in place by several threads on CPUs that do not
  // share one L3: every thread's GEMMs read it, so a cached store must first
  // take each line back from the other cores' caches, while a streaming
  // store does not wait for that (compile.cpp says when it is chosen).
  int stream_reg = -1;
  // A product computed panel by panel (runtime/gemm_step.hpp) that is never
  // stored whole: run_range reads it from the caller's `panel`.
  const Tensor* panel_product = nullptr;
  // The full operands read from memory (not panel_product), each once
  // (find_streams): run_range prefetches their next chunk into L2 while it
  // computes a chunk. A chunk is about one 4 KiB page, where the hardware
  // prefetcher stops, so otherwise the first lines of every chunk miss
  // (W3's Adam passes: 15-20 % faster).
  std::vector<const Tensor*> streams;
  void find_streams();  // once members and panel_product are set
  // Marks the runs of members a compound kernel computes in one loop
  // (ops/registry.hpp: chunk_compounds); returns how many it found.
  int find_compounds();

  // Runs with the calling thread's budget; `scratch` holds threads *
  // registers * kChunk floats. With `check_finite`, scans each chunk of the
  // outputs right after computing it (from L1, not a second pass over
  // memory), and the operands marked `scan` as they are read, and returns
  // false if any element is NaN or Inf.
  bool run(std::uint64_t seed, std::uint32_t step, float* scratch, bool check_finite) const;
  // Elements [begin, end) on the calling thread alone, with its `registers`
  // chunks of scratch (thread_scratch): for a caller that splits the work itself.
  // `panel` holds panel_product's elements [begin, end).
  bool run_range(std::int64_t begin, std::int64_t end, float* regs, std::uint64_t seed, std::uint32_t step,
                 bool check_finite, const float* panel = nullptr) const;
  float* thread_scratch(float* scratch) const;  // the calling OpenMP thread's part
};

}  // namespace anneal
