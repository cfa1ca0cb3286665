#include "backend/finite.hpp"

#include <atomic>
#include <cstring>

#include "backend/parallel.hpp"
#include "backend/simd.hpp"

namespace anneal {
namespace {

// The largest magnitude's bits, max-reduced without an early exit, so it
// vectorizes (std::isfinite in a loop that stops at the first bad value does
// not): a value is NaN or Inf exactly when its exponent bits are all ones,
// i.e. when its bits without the sign reach the exponent mask. One AND and
// one integer max per vector, 1.5x faster than OR-ing a compare per element
// (the optimizer passes scan four values per chunk). Cloned per instruction
// set, as wide as the CPU allows.
template <class Bits, class T>
ANNEAL_SIMD_CLONES bool scan(const T* p, std::int64_t n, Bits exponent) {
  const Bits magnitude = static_cast<Bits>(~Bits{0} >> 1);
  Bits top = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    Bits bits;
    std::memcpy(&bits, p + i, sizeof bits);
    bits &= magnitude;
    top = bits > top ? bits : top;
  }
  return top < exponent;
}

// Split like the elementwise kernels (backend/parallel.hpp: static, by
// range), so each thread scans the part of a value it has just written, from
// its own cache, and the other threads do not idle while one scans a
// parameter-sized value.
template <class Bits, class T>
bool scan_parallel(const T* p, std::int64_t n, Bits exponent) {
  std::atomic<bool> ok{true};
  parallel_for(n, kElementwiseGrain, [&](std::int64_t b, std::int64_t e) {
    if (!scan<Bits>(p + b, e - b, exponent)) ok.store(false, std::memory_order_relaxed);
  });
  return ok.load(std::memory_order_relaxed);
}

}  // namespace

bool all_finite(const float* p, std::int64_t n) { return scan_parallel<std::uint32_t>(p, n, 0x7f800000u); }
bool all_finite(const double* p, std::int64_t n) { return scan_parallel<std::uint64_t>(p, n, 0x7ff0000000000000ull); }

}  // namespace anneal
