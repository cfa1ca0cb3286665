#include "runtime/memory_plan.hpp"

#include <algorithm>
#include <numeric>

namespace anneal {

namespace {
constexpr std::size_t kAlign = 64;
std::size_t aligned(std::size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }
}  // namespace

MemoryPlan plan_memory(const std::vector<BufferRequest>& requests) {
  MemoryPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<std::size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return requests[a].bytes > requests[b].bytes; });
  struct Placed {
    std::size_t offset, end;
    int first, last;
  };
  std::vector<Placed> placed;
  for (std::size_t i : order) {
    const BufferRequest& r = requests[i];
    std::size_t size = aligned(r.bytes);
    plan.unplanned_bytes += size;
    // Buffers alive at the same time as r, by offset: take the first gap that fits.
    std::vector<const Placed*> live;
    for (const Placed& p : placed)
      if (p.first <= r.last && r.first <= p.last) live.push_back(&p);
    std::sort(live.begin(), live.end(), [](const Placed* a, const Placed* b) { return a->offset < b->offset; });
    std::size_t offset = 0;
    for (const Placed* p : live) {
      if (p->offset >= offset + size) break;
      offset = std::max(offset, p->end);
    }
    placed.push_back({offset, offset + size, r.first, r.last});
    plan.offsets[i] = offset;
    plan.arena_bytes = std::max(plan.arena_bytes, offset + size);
  }
  return plan;
}

}  // namespace anneal
