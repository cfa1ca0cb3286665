#include "backend/cache.hpp"

#include <unistd.h>

#include <cstdint>
#include <cstring>

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
