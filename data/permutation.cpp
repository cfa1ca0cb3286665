#include "data/permutation.hpp"

#include <utility>

#include "backend/error.hpp"

namespace anneal {

namespace {

// The stream's 32-bit words in order: word k is word k % 4 of block k / 4.
class WordReader {
 public:
  explicit WordReader(const RandomStream& s) : stream_(s) {}
  std::uint32_t next() {
    if (k_ % 4 == 0) block_ = stream_.block(k_ / 4);
    return block_[k_++ % 4];
  }
  // Uniform in [0, bound), bound >= 1, exactly: Lemire's multiply-shift with
  // rejection of the few words that would bias the low values.
  std::uint32_t below(std::uint32_t bound) {
    std::uint64_t m = std::uint64_t{next()} * bound;
    auto low = static_cast<std::uint32_t>(m);
    if (low < bound) {
      std::uint32_t threshold = (0u - bound) % bound;
      while (low < threshold) {
        m = std::uint64_t{next()} * bound;
        low = static_cast<std::uint32_t>(m);
      }
    }
    return static_cast<std::uint32_t>(m >> 32);
  }

 private:
  const RandomStream& stream_;
  std::uint64_t k_ = 0;
  PhiloxCounter block_{};
};

}  // namespace

std::vector<std::int64_t> random_permutation(std::int64_t n, const RandomStream& stream) {
  if (n < 0 || n > std::int64_t{0xFFFFFFFF})
    throw InvalidInput("random_permutation: size " + std::to_string(n) + " outside [0, 2^32)");
  std::vector<std::int64_t> p(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) p[static_cast<std::size_t>(i)] = i;
  WordReader words(stream);
  for (std::int64_t i = n - 1; i > 0; --i) {
    std::uint32_t j = words.below(static_cast<std::uint32_t>(i + 1));
    std::swap(p[static_cast<std::size_t>(i)], p[j]);
  }
  return p;
}

}  // namespace anneal
