// What the memory hierarchy looks like, for choices that depend on it:
// cache sizes, and stores that bypass the caches.
#pragma once
#include <cstdint>

namespace anneal {

// One core's L2 cache in bytes (1 MiB when the system does not say).
std::int64_t l2_cache_bytes();

// Copies n floats to dst with non-temporal (streaming) stores: the lines go
// to memory without being read first or kept in this core's cache. Call
// stream_fence() before another thread may read dst.
void stream_store(float* dst, const float* src, std::int64_t n);
void stream_fence();

}  // namespace anneal
