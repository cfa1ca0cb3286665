// The vectorizable float exp/log/log1p against libm in double precision:
// error in ulps over their whole float domain, and the special values.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "backend/vmath.hpp"

namespace {

// Distance in float ulps between `got` and the exact value (rounded to float).
double ulps(float got, double exact) {
  const float want = static_cast<float>(exact);
  if (got == want) return 0;
  const double ulp = std::nextafter(std::fabs(want), std::numeric_limits<float>::infinity()) - std::fabs(want);
  return std::fabs(static_cast<double>(got) - exact) / ulp;
}

// Every 61st float bit pattern in [lo, hi): ~33M/61 inputs per sign-range.
template <class F, class G>
double max_ulps(float lo, float hi, F ours, G exact) {
  double worst = 0;
  auto step = [](float v) {  // 61 representable floats up, in unsigned bit patterns (no overflow)
    const std::uint32_t b = std::bit_cast<std::uint32_t>(v);
    if (!(v < 0.0f)) return std::bit_cast<float>(b + 61u);
    return b - 0x80000000u <= 61u ? 0.0f : std::bit_cast<float>(b - 61u);  // negatives shrink toward -0
  };
  for (float x = lo; x < hi; x = step(x)) {
    worst = std::max(worst, ulps(ours(x), exact(static_cast<double>(x))));
  }
  return worst;
}

constexpr float kInf = std::numeric_limits<float>::infinity();

}  // namespace

TEST_CASE("vmath: exp is within 2 ulps of libm over the normal range and exact at the edges") {
  auto ours = [](float x) { return anneal::vmath::exp(x); };
  auto exact = [](double x) { return std::exp(x); };
  CHECK(max_ulps(-87.0f, 0.0f, ours, exact) <= 2.0);
  CHECK(max_ulps(0.0f, 88.7f, ours, exact) <= 2.0);
  CHECK(anneal::vmath::exp(0.0f) == 1.0f);
  CHECK(anneal::vmath::exp(89.0f) == kInf);
  CHECK(anneal::vmath::exp(kInf) == kInf);
  CHECK(anneal::vmath::exp(-kInf) == 0.0f);
  CHECK(anneal::vmath::exp(-200.0f) == 0.0f);
  CHECK(std::isnan(anneal::vmath::exp(std::nanf(""))));
}

TEST_CASE("vmath: log within 2 ulps and log1p within 3 ulps of libm handle zero and negatives and denormals") {
  auto ours = [](float x) { return anneal::vmath::log(x); };
  auto exact = [](double x) { return std::log(x); };
  CHECK(max_ulps(1e-37f, 1e37f, ours, exact) <= 2.0);
  CHECK(max_ulps(1e-44f, 1e-38f, ours, exact) <= 2.0);  // denormals
  CHECK(anneal::vmath::log(1.0f) == 0.0f);
  CHECK(anneal::vmath::log(0.0f) == -kInf);
  CHECK(anneal::vmath::log(kInf) == kInf);
  CHECK(std::isnan(anneal::vmath::log(-1.0f)));
  CHECK(std::isnan(anneal::vmath::log(std::nanf(""))));

  auto ours1p = [](float x) { return anneal::vmath::log1p(x); };
  auto exact1p = [](double x) { return std::log1p(x); };
  CHECK(max_ulps(-0.999f, 0.0f, ours1p, exact1p) <= 3.0);
  CHECK(max_ulps(0.0f, 1e30f, ours1p, exact1p) <= 3.0);
  CHECK(anneal::vmath::log1p(1e-30f) == 1e-30f);
  CHECK(anneal::vmath::log1p(-1.0f) == -kInf);
  CHECK(anneal::vmath::log1p(kInf) == kInf);
  CHECK(std::isnan(anneal::vmath::log1p(-2.0f)));

  // softplus's log1p on [0, 1]: as accurate, exact for tiny e, NaN stays NaN.
  auto unit = [](float x) { return anneal::vmath::log1p_unit(x); };
  CHECK(max_ulps(0.0f, 1.0f, unit, exact1p) <= 3.0);
  CHECK(anneal::vmath::log1p_unit(0.0f) == 0.0f);
  CHECK(anneal::vmath::log1p_unit(1e-30f) == 1e-30f);
  CHECK(std::isnan(anneal::vmath::log1p_unit(std::nanf(""))));
}
