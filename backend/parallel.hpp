// Parallel loops for the fast kernels, on the process-wide thread budget.
// Partitions depend only on the range and grain, never on timing, so every
// element is computed by the same arithmetic whatever the thread count.
#pragma once
#include <omp.h>

#include <cstdint>

#include "backend/threads.hpp"

namespace anneal {

// Calls f(begin, end) on disjoint chunks of [0, n). Runs inline when the work
// is small (n <= grain) or the budget is one thread.
template <class F>
void parallel_for(std::int64_t n, std::int64_t grain, F&& f) {
  if (n <= 0) return;
  int threads = num_threads();
  if (threads <= 1 || n <= grain) { f(std::int64_t{0}, n); return; }
  std::int64_t chunks = (n + grain - 1) / grain;
  if (chunks > threads) chunks = threads;
  std::int64_t step = (n + chunks - 1) / chunks;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::int64_t c = 0; c < chunks; ++c) {
    std::int64_t b = c * step, e = b + step < n ? b + step : n;
    if (b < e) f(b, e);
  }
}

// Elements per chunk below which a loop is not worth splitting.
constexpr std::int64_t kElementwiseGrain = 1 << 14;

}  // namespace anneal
