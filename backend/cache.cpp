#include "backend/cache.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace anneal {

std::int64_t l2_cache_bytes() {
  static const std::int64_t bytes = [] {
    long v = sysconf(_SC_LEVEL2_CACHE_SIZE);
    return v > 0 ? static_cast<std::int64_t>(v) : std::int64_t{1} << 20;
  }();
  return bytes;
}

std::vector<int> parse_cpu_list(const std::string& list) {
  std::vector<int> cpus;
  std::stringstream in(list);
  std::string range;
  while (std::getline(in, range, ',')) {
    int lo = 0, hi = 0;
    char dash = 0;
    std::stringstream r(range);
    if (!(r >> lo) || lo < 0) return {};
    hi = lo;
    if (r >> dash && (dash != '-' || !(r >> hi) || hi < lo)) return {};
    for (int c = lo; c <= hi; ++c) cpus.push_back(c);
  }
  return cpus;
}

bool cpus_share_l3() {
  static const bool shared = [] {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return true;
    int first = -1;
    for (int c = 0; c < CPU_SETSIZE && first < 0; ++c)
      if (CPU_ISSET(c, &allowed)) first = c;
    if (first < 0) return true;
    std::ifstream f("/sys/devices/system/cpu/cpu" + std::to_string(first) + "/cache/index3/shared_cpu_list");
    std::string list;
    if (!std::getline(f, list)) return true;
    std::vector<int> same_l3 = parse_cpu_list(list);
    if (same_l3.empty()) return true;
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &allowed) && std::find(same_l3.begin(), same_l3.end(), c) == same_l3.end()) return false;
    return true;
  }();
  return shared;
}

// SSE2 is part of the x86-64 baseline, so this needs no dispatch: 16-byte
// streaming stores to consecutive addresses combine into whole-line writes.
void stream_store(float* dst, const float* src, std::int64_t n) {
#if defined(__SSE2__)
  std::int64_t i = 0;
  for (; i < n && (reinterpret_cast<std::uintptr_t>(dst + i) & 15) != 0; ++i) dst[i] = src[i];
  for (; i + 4 <= n; i += 4) _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
  for (; i < n; ++i) dst[i] = src[i];
#else
  std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(float));
#endif
}

void stream_fence() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

}  // namespace anneal
