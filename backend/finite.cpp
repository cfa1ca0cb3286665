#include "backend/finite.hpp"

#include <cstring>

#include "backend/simd.hpp"

namespace anneal {
namespace {

// An integer test on the exponent bits, OR-reduced without an early exit,
// so it vectorizes (std::isfinite in a loop that stops at the first bad
// value does not); cloned per instruction set, as wide as the CPU allows.
template <class Bits, class T>
ANNEAL_SIMD_CLONES bool scan(const T* p, std::int64_t n, Bits exponent) {
  Bits bad = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    Bits bits;
    std::memcpy(&bits, p + i, sizeof bits);
    bad |= static_cast<Bits>((bits & exponent) == exponent);
  }
  return bad == 0;
}

}  // namespace

bool all_finite(const float* p, std::int64_t n) { return scan<std::uint32_t>(p, n, 0x7f800000u); }
bool all_finite(const double* p, std::int64_t n) { return scan<std::uint64_t>(p, n, 0x7ff0000000000000ull); }

}  // namespace anneal
