// Branch-free float exp and log that compilers vectorize.
//
// A loop calling std::exp(float) stays scalar: the libm call has errno and
// special-case paths the vectorizer cannot see through. These versions are
// straight-line arithmetic (Cody-Waite range reduction and the minimax
// polynomials of Cephes' expf/logf, about 1 ulp) with the special cases as
// bitwise selects, so `for (i) y[i] = exp(x[i])` becomes SIMD code for
// whatever instruction set the translation unit is compiled for. (A `?:`
// between floats is not enough: whether GCC if-converts it depends on the
// target, and one branch left in the loop keeps it scalar.) The double
// overloads are std's: the f64 reference kernels stay libm-exact.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

// Always inlined: a call left in a loop keeps it scalar, and in a large
// translation unit GCC's growth limits may decline to inline exp into log1p's
// caller on their own.
#if defined(__GNUC__)
#define ANNEAL_VMATH_INLINE [[gnu::always_inline]] inline
#else
#define ANNEAL_VMATH_INLINE inline
#endif

namespace anneal::vmath {

// c ? a : b without a branch.
ANNEAL_VMATH_INLINE float select(bool c, float a, float b) {
  const std::uint32_t m = 0u - static_cast<std::uint32_t>(c);
  return std::bit_cast<float>((std::bit_cast<std::uint32_t>(a) & m) | (std::bit_cast<std::uint32_t>(b) & ~m));
}
ANNEAL_VMATH_INLINE double select(bool c, double a, double b) { return c ? a : b; }

ANNEAL_VMATH_INLINE float exp(float x) {
  constexpr float kHi = 88.72283935546875f;   // above: +inf
  constexpr float kLo = -87.33654022216797f;  // below: 0 (no denormals)
  // exp(x) = 2^n exp(r), n = round(x / ln 2), r = x - n ln 2 in two parts.
  const float xc = select(x > kHi, kHi, select(x < kLo, kLo, x));
  const float t = xc * 1.44269504088896341f + 0.5f;
  std::int32_t n = static_cast<std::int32_t>(t);
  n -= static_cast<float>(n) > t;  // floor for negative t
  const float fn = static_cast<float>(n);
  const float r = (xc - fn * 0.693359375f) - fn * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * (r * r) + r + 1.0f;
  // 2^n in two factors: n reaches 128 near kHi, past the largest exponent.
  const std::int32_t h = n >> 1;
  const float y = er * std::bit_cast<float>((n - h + 127) << 23) * std::bit_cast<float>((h + 127) << 23);
  const float big = select(x > kHi, std::numeric_limits<float>::infinity(), y);
  const float res = select(x < kLo, 0.0f, big);
  return select(x != x, x, res);  // NaN stays NaN
}

// log(2^e (1 + m)) for m in [sqrt(1/2) - 1, sqrt(2) - 1): the polynomial
// step both logs share.
ANNEAL_VMATH_INLINE float log_reduced(float m, float fe) {
  const float z = m * m;
  float p = 7.0376836292e-2f;
  p = p * m - 1.1514610310e-1f;
  p = p * m + 1.1676998740e-1f;
  p = p * m - 1.2420140846e-1f;
  p = p * m + 1.4249322787e-1f;
  p = p * m - 1.6668057665e-1f;
  p = p * m + 2.0000714765e-1f;
  p = p * m - 2.4999993993e-1f;
  p = p * m + 3.3333331174e-1f;
  const float y = p * m * z + fe * -2.12194440e-4f - 0.5f * z;
  return (m + y) + fe * 0.693359375f;
}

ANNEAL_VMATH_INLINE float log(float x) {
  // Denormals: scale into the normal range first.
  const bool tiny = x < std::numeric_limits<float>::min();
  const float xs = x * select(tiny, 8388608.0f, 1.0f);  // 2^23
  const std::int32_t bits = std::bit_cast<std::int32_t>(xs);
  std::int32_t e = ((bits >> 23) & 0xff) - 126 - 23 * static_cast<std::int32_t>(tiny);
  // x = m 2^e with m in [0.5, 1); then fold m into [sqrt(1/2), sqrt(2)).
  float m = std::bit_cast<float>((bits & 0x007fffff) | 0x3f000000);
  const bool low = m < 0.707106781186547524f;
  e -= low;
  m = m * select(low, 2.0f, 1.0f) - 1.0f;
  const float y = log_reduced(m, static_cast<float>(e));
  // log(0) = -inf, log(<0) = NaN, log(inf) = inf, log(NaN) = NaN.
  const float special = select(x == 0.0f, -std::numeric_limits<float>::infinity(),
                               select(x < 0.0f, std::numeric_limits<float>::quiet_NaN(), x));
  return select(x > 0.0f && x < std::numeric_limits<float>::infinity(), y, special);
}

// log(1 + x) without losing small x: log(u) · x / (u - 1) with u = 1 + x
// corrects the rounding of u (Goldberg 1991, theorem 4).
ANNEAL_VMATH_INLINE float log1p(float x) {
  const float u = 1.0f + x;
  const float d = u - 1.0f;
  const float corrected = log(u) * (x / select(d == 0.0f, 1.0f, d));
  return select(d == 0.0f, x, select(u == std::numeric_limits<float>::infinity(), u, corrected));
}

// log1p(e) for e in [0, 1] (or NaN), as softplus needs it: 1 + e lies in
// [1, 2], so none of log's special cases or exponent extraction are needed;
// 2.3x faster than log1p in softplus, as accurate.
ANNEAL_VMATH_INLINE float log1p_unit(float e) {
  const float u = 1.0f + e;
  const float d = u - 1.0f;
  const bool big = u > 1.41421356237309505f;
  const float y = log_reduced(u * select(big, 0.5f, 1.0f) - 1.0f, select(big, 1.0f, 0.0f));
  return select(d == 0.0f, e, y * (e / select(d == 0.0f, 1.0f, d)));
}

// sin(y) and cos(y) for |y| <= pi/4, where no range reduction is needed
// (the minimax polynomials of Cephes' sinf/cosf, about 1 ulp): for callers
// that reduce exactly themselves, like a Box-Muller angle given as integer
// turns (ops/random.cpp).
ANNEAL_VMATH_INLINE void sincos_reduced(float y, float& s, float& c) {
  const float z = y * y;
  float ps = -1.9515295891e-4f;
  ps = ps * z + 8.3321608736e-3f;
  ps = ps * z - 1.6666654611e-1f;
  s = y + y * z * ps;
  float pc = 2.443315711809948e-5f;
  pc = pc * z - 1.388731625493765e-3f;
  pc = pc * z + 4.166664568298827e-2f;
  c = 1.0f - 0.5f * z + z * z * pc;
}

// sigmoid(x) from e = exp(-|x|): one exp, never overflows.
template <class T> ANNEAL_VMATH_INLINE T sigmoid_from(T x, T e) { return select(x >= T(0), T(1) / (T(1) + e), e / (T(1) + e)); }

ANNEAL_VMATH_INLINE double exp(double x) { return std::exp(x); }
ANNEAL_VMATH_INLINE double log(double x) { return std::log(x); }
ANNEAL_VMATH_INLINE double log1p(double x) { return std::log1p(x); }
ANNEAL_VMATH_INLINE double log1p_unit(double x) { return std::log1p(x); }

}  // namespace anneal::vmath
