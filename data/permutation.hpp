// Seeded permutations for shuffling and splitting. Fisher-Yates driven by a
// Philox stream, never std::shuffle or <random> distributions, whose output
// differs between standard libraries: the same seed gives the same order on
// every platform.
#pragma once
#include <cstdint>
#include <vector>

#include "backend/philox.hpp"

namespace anneal {

// Philox `node` values of the data layer. Graph nodes count up from zero, so
// these sit far above them to keep the streams apart.
constexpr std::uint32_t kShuffleStreamNode = 0xDA7A0001u;
constexpr std::uint32_t kSplitStreamNode = 0xDA7A0002u;
constexpr std::uint32_t kBinarizeStreamNode = 0xDA7A0003u;

// A uniformly random permutation of 0..n-1 (n < 2^32), a pure function of
// the stream's (seed, node, step).
std::vector<std::int64_t> random_permutation(std::int64_t n, const RandomStream& stream);

}  // namespace anneal
