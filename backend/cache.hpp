// What the memory hierarchy looks like, for choices that depend on it:
// cache sizes, and stores that bypass the caches.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace anneal {

// One core's L2 cache in bytes (1 MiB when the system does not say).
std::int64_t l2_cache_bytes();

// Whether every CPU this process may run on shares one last-level (L3)
// cache, as sysfs tells; true when it does not say.
bool cpus_share_l3();
// The CPUs in a sysfs list such as "0-3,8,10-11" (empty when malformed).
std::vector<int> parse_cpu_list(const std::string& list);

// Copies n floats to dst with non-temporal (streaming) stores: the lines go
// to memory without being read first or kept in this core's cache. Call
// stream_fence() before another thread may read dst.
void stream_store(float* dst, const float* src, std::int64_t n);
void stream_fence();

}  // namespace anneal
