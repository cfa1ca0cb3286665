// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC'11): a counter-based generator. Every random number in Anneal is a pure
// function of (seed, node, step, element), so neither the thread count nor the
// schedule can change it.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>

#include "backend/vmath.hpp"

namespace anneal {

using PhiloxCounter = std::array<std::uint32_t, 4>;
using PhiloxKey = std::array<std::uint32_t, 2>;

constexpr PhiloxCounter philox4x32_10(PhiloxCounter ctr, PhiloxKey key) {
  constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) { key[0] += kW0; key[1] += kW1; }
    std::uint64_t p0 = std::uint64_t{kM0} * ctr[0];
    std::uint64_t p1 = std::uint64_t{kM1} * ctr[2];
    auto hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
    auto hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
    ctr = {hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0};
  }
  return ctr;
}

// The stream of one stochastic node at one step. Block b (4 words) is
// philox(ctr = {b_lo, b_hi, node, step}, key = seed); element i of a uniform
// stream is word i % 4 of block i / 4.
struct RandomStream {
  std::uint64_t seed = 0;
  std::uint32_t node = 0;
  std::uint32_t step = 0;

  PhiloxCounter block(std::uint64_t b) const {
    return philox4x32_10({static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(b >> 32), node, step},
                         {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)});
  }
  // The words of blocks [first, first + count): word j of block first + k
  // at out[4k + j], equal to block(first + k)[j]; compiled per instruction
  // set (backend/philox.cpp), about 2.5x faster than block() on AVX-512.
  void words(std::uint64_t first, std::int64_t count, std::uint32_t* out) const;
  // Element i of the stream as a uniform in (0, 1).
  double uniform_at(std::uint64_t i) const;
  // Element i as a standard normal: block i / 4 gives four normals by
  // Box-Muller on its word pairs (w0, w1) and (w2, w3).
  double normal_at(std::uint64_t i) const;
};

// A 32-bit word to a uniform in the open interval (0, 1): 24 random bits,
// centred in their bucket, so log(u) and log(1-u) are always finite.
constexpr double uniform_open01(std::uint32_t w) {
  return (static_cast<double>(w >> 8) + 0.5) * (1.0 / 16777216.0);
}

// Two uniforms to two independent standard normals (Box-Muller).
inline void box_muller(std::uint32_t a, std::uint32_t b, double& z0, double& z1) {
  double r = std::sqrt(-2.0 * std::log(uniform_open01(a)));
  double t = 6.283185307179586 * uniform_open01(b);
  z0 = r * std::cos(t);
  z1 = r * std::sin(t);
}

// box_muller in float, as the fast kernels compute it (within a few float
// ulps of the double form; libm's double log and sincos cost about 40 ns a
// pair, these vectorize). Exact where it matters: a 24-bit uniform u and its
// complement 1 - u are both exact floats in their half of (0, 1), so log(u)
// is log1p(-(1 - u)) in the upper half and keeps the small radii; the angle
// 2 pi u is an octant (u's top 3 bits) plus an exact fraction of it, whose
// sine and cosine need no range reduction.
ANNEAL_VMATH_INLINE void box_muller_f32(std::uint32_t a, std::uint32_t b, float& z0, float& z1) {
  const std::uint32_t ua = a >> 8, ub = b >> 8;  // uniform_open01's 24 bits
  const bool upper = ua >= (1u << 23);
  const float u = (static_cast<float>(ua) + 0.5f) * 0x1p-24f;
  const float rest = (static_cast<float>(ua ^ 0xffffffu) + 0.5f) * 0x1p-24f;  // 1 - u
  const float log_u = vmath::select(upper, vmath::log1p(-rest), vmath::log(u));
  const float r = std::sqrt(-2.0f * log_u);
  // Angle 2 pi u = (octant + f) pi/4. Odd octants use the distance to the
  // next one, pi/4 - y, from the complementary integer, so |y| <= pi/4.
  const std::uint32_t octant = ub >> 21, part = ub & 0x1fffffu;
  const std::uint32_t mirrored = part ^ ((0u - (octant & 1u)) & 0x1fffffu);
  const float f = (static_cast<float>(mirrored) + 0.5f) * 0x1p-21f;
  float s, c;
  vmath::sincos_reduced(f * 0.785398163397448310f, s, c);
  // Octants 1, 2, 5, 6 swap sine and cosine; the sine is negative in 4-7,
  // the cosine in 2-5.
  const bool swap = ((octant + 1u) & 2u) != 0;
  const float sin_t = vmath::select(swap, c, s), cos_t = vmath::select(swap, s, c);
  z0 = r * vmath::select(((octant + 2u) & 4u) != 0, -cos_t, cos_t);
  z1 = r * vmath::select(octant >= 4u, -sin_t, sin_t);
}

inline double RandomStream::uniform_at(std::uint64_t i) const { return uniform_open01(block(i / 4)[i % 4]); }

inline double RandomStream::normal_at(std::uint64_t i) const {
  PhiloxCounter w = block(i / 4);
  unsigned pair = static_cast<unsigned>(i % 4) / 2;
  double z0, z1;
  box_muller(w[2 * pair], w[2 * pair + 1], z0, z1);
  return i % 2 == 0 ? z0 : z1;
}

}  // namespace anneal
