// RandomStream::words: block() over a range of counters, compiled for several
// instruction sets (simd.hpp). Lanes of a SIMD Philox lose to the scalar
// rounds here: the 32x32->64-bit multiplies vectorize poorly, while BMI2's
// mulx and wider issue make the scalar loop about 2.5x faster than the
// x86-64 baseline build of it.
#include "backend/philox.hpp"
#include "backend/simd.hpp"

namespace anneal {
namespace {

ANNEAL_SIMD_CLONES void philox_blocks(const RandomStream& s, std::uint64_t first, std::int64_t count,
                                      std::uint32_t* out) {
  for (std::int64_t k = 0; k < count; ++k) {
    const PhiloxCounter b = s.block(first + static_cast<std::uint64_t>(k));
    for (std::size_t j = 0; j < 4; ++j) out[4 * k + static_cast<std::int64_t>(j)] = b[j];
  }
}

}  // namespace

void RandomStream::words(std::uint64_t first, std::int64_t count, std::uint32_t* out) const {
  philox_blocks(*this, first, count, out);
}

}  // namespace anneal
