// Liveness-based buffer placement: every intermediate value gets an offset in
// one arena, and values whose lifetimes do not overlap share bytes. Planned
// once per compiled program, so a step allocates nothing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace anneal {

struct BufferRequest {
  std::size_t bytes = 0;
  int first = 0;  // the time step that writes it
  int last = 0;   // the last time step that reads it (inclusive)
};

struct MemoryPlan {
  std::vector<std::size_t> offsets;  // one per request, 64-byte aligned
  std::size_t arena_bytes = 0;       // the planned peak
  std::size_t unplanned_bytes = 0;   // the sum of all requests (no reuse)
};

// Greedy by size (largest first, lowest free offset), the strategy TFLite's
// arena planner uses: simple and close to optimal on layered networks.
MemoryPlan plan_memory(const std::vector<BufferRequest>& requests);

}  // namespace anneal
