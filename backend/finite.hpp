// A fast NaN/Inf scan: an integer test on the exponent bits, OR-reduced, so
// the compiler vectorizes it (std::isfinite in a loop with an early exit does
// not vectorize).
#pragma once
#include <cstdint>
#include <cstring>

namespace anneal {

inline bool all_finite(const float* p, std::int64_t n) {
  std::uint32_t bad = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, p + i, 4);
    bad |= static_cast<std::uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}

inline bool all_finite(const double* p, std::int64_t n) {
  std::uint64_t bad = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    std::uint64_t bits;
    std::memcpy(&bits, p + i, 8);
    bad |= static_cast<std::uint64_t>((bits & 0x7ff0000000000000ull) == 0x7ff0000000000000ull);
  }
  return bad == 0;
}

}  // namespace anneal
