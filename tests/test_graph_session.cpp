// The IR and the sequential session: errors that name the culprit, the
// symbolic batch, state commits, the NaN check.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "anneal.hpp"

using namespace anneal;

namespace {
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("graph: shape errors name the node - the op and the shapes") {
  Graph g;
  Value x = g.input("x", {Dim::batch(), 784});
  Value W = g.param("enc.W", {500, 400}, Init::glorot_uniform());
  std::string msg = message_of([&] { matmul(x, W); });
  CHECK(msg.find("matmul") != std::string::npos);
  CHECK(msg.find("[B, 784]") != std::string::npos);
  CHECK(msg.find("[500, 400]") != std::string::npos);
  CHECK_THROWS_AS(matmul(x, W), InvalidInput);
  msg = message_of([&] { add(x, g.param("b", {3}, Init::zeros())); });
  CHECK(msg.find("do not broadcast") != std::string::npos);
  CHECK(message_of([&] { g.param("enc.W", {2}, Init::zeros()); }).find("already used") != std::string::npos);
}

TEST_CASE("graph: printable form and verifier") {
  Graph g("mlp");
  Value x = g.input("x", {Dim::batch(), 4});
  Value y = relu(nn::linear(g, "fc1", x, 3));
  g.output("y", y);
  std::string s = g.str();
  CHECK(s.find("graph mlp") != std::string::npos);
  CHECK(s.find("fc1.W = param()") != std::string::npos);
  CHECK(s.find("relu") != std::string::npos);
  CHECK(s.find("output y") != std::string::npos);
  CHECK_NOTHROW(g.verify());
  CHECK(g.params().size() == 2);
  CHECK(g.params("fc1.").size() == 2);
  CHECK(g.params("fc2.").empty());
  CHECK(g.output("y") == y);
  CHECK_THROWS_AS(g.output("z"), InvalidInput);
}

TEST_CASE("session: one graph serves every batch size - the last partial batch included") {
  Graph g;
  Value x = g.input("x", {Dim::batch(), 2});
  Value y = x * 2.0 + 1.0;
  Session s(g);
  for (std::int64_t b : {1, 3, 7}) {
    std::vector<double> v(static_cast<std::size_t>(2 * b), 1.5);
    Tensor out = s.run({{"x", Tensor::from(v, {b, 2})}}, y);
    CHECK(out.shape() == Dims{b, 2});
    CHECK(out.at(0) == doctest::Approx(4.0));
  }
}

TEST_CASE("session: bad feeds are named") {
  Graph g;
  Value x = g.input("pixels", {Dim::batch(), 2});
  Value y = x * 2.0;
  Session s(g);
  CHECK(message_of([&] { s.run({}, y); }).find("'pixels' is needed") != std::string::npos);
  std::string msg = message_of([&] { s.run({{"pixels", Tensor::zeros(DType::f32, {4, 3})}}, y); });
  CHECK(msg.find("pixels") != std::string::npos);
  CHECK(msg.find("[4, 3]") != std::string::npos);
  CHECK_THROWS_AS(s.run({{"pixels", Tensor::zeros(DType::i32, {4, 2})}}, y), InvalidInput);
}

TEST_CASE("session: assign commits after the step and every read sees the old value") {
  Graph g;
  Value c = g.state("counter", {}, Init::constant(5));
  Value next = assign(c, c + 1.0);
  Value seen = c * 1.0;
  Session s(g);
  auto out = s.run({}, {seen, next});
  CHECK(out[0].item() == 5.0);
  CHECK(out[1].item() == 6.0);
  CHECK(s.get("counter").item() == 6.0);
  CHECK(s.step() == 1);
}

TEST_CASE("session: the NaN check names the first node that produced it - and state is untouched") {
  Graph g;
  Value x = g.input("x", {Dim::batch(), 2});
  Value w = g.param("w", {2}, Init::constant(1.0));
  Value bad = log(x - 1.0);  // log of a negative number
  Value after = bad * 2.0;
  Value upd = assign(w, w + sum_to_like(after, w));
  Session s(g);
  std::string msg = message_of([&] { s.run({{"x", Tensor::from({0.5, 0.5}, {1, 2})}}, {after}, {upd}); });
  CHECK(msg.find("NaN") != std::string::npos);
  CHECK(msg.find("op log") != std::string::npos);
  CHECK(msg.find(bad.name()) != std::string::npos);
  CHECK_THROWS_AS(s.run({{"x", Tensor::from({0.5, 0.5}, {1, 2})}}, {after}, {upd}), RunError);
  CHECK(s.get("w").at(0) == 1.0);

  Session unchecked(g, {.check_finite = false});
  CHECK(std::isnan(unchecked.run({{"x", Tensor::from({0.5, 0.5}, {1, 2})}}, after).at(0)));
}

TEST_CASE("session: initializers have the documented ranges and are seeded") {
  Graph g;
  g.param("tl", {400, 300}, Init::torch_linear());
  g.param("gl", {400, 300}, Init::glorot_uniform());
  g.param("n", {400, 300}, Init::normal(0.01));
  g.param("u", {400, 300}, Init::uniform(2, 3));
  Session a(g, {.seed = 1}), b(g, {.seed = 1}), c(g, {.seed = 2});
  auto range = [](const Tensor& t) {
    auto v = t.to_vector();
    return std::pair{*std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end())};
  };
  auto [tl_lo, tl_hi] = range(a.get("tl"));
  CHECK(tl_lo >= -0.05);
  CHECK(tl_hi <= 0.05);
  CHECK(tl_hi > 0.049);
  auto [gl_lo, gl_hi] = range(a.get("gl"));
  CHECK(gl_hi <= std::sqrt(6.0 / 700));
  CHECK(gl_lo < -0.09);
  auto [u_lo, u_hi] = range(a.get("u"));
  CHECK(u_lo >= 2.0);
  CHECK(u_hi <= 3.0);
  auto nv = a.get("n").to_vector();
  double ss = 0;
  for (double v : nv) ss += v * v;
  CHECK(std::sqrt(ss / static_cast<double>(nv.size())) == doctest::Approx(0.01).epsilon(0.02));
  CHECK(a.get("n").to_vector() == b.get("n").to_vector());
  CHECK(a.get("n").to_vector() != c.get("n").to_vector());
}

TEST_CASE("autodiff: gradients are named after their node and differentiate again") {
  Graph g;
  Value x = g.param("x", {}, Init::constant(2.0));
  Value y = x * x * x;  // y' = 3x^2 = 12, y'' = 6x = 12
  y = y * 1.0;
  Value dy = grad(y, {x})[0];
  CHECK(dy.name().rfind("grad(", 0) == 0);
  Value d2y = grad(dy, {x})[0];
  Session s(g);
  auto out = s.run({}, {dy, d2y});
  CHECK(out[0].item() == doctest::Approx(12.0));
  CHECK(out[1].item() == doctest::Approx(12.0));
  // A parameter the loss does not use gets zeros; a non-scalar loss is refused.
  Value unused = g.param("unused", {2}, Init::constant(1));
  CHECK(s.run({}, grad(y, {unused})[0]).to_vector() == std::vector<double>{0, 0});
  CHECK_THROWS_AS(grad(unused, {x}), InvalidInput);
}

TEST_CASE("autodiff: several losses and parameter groups in one graph") {
  Graph g;
  Value a = g.param("gen.a", {}, Init::constant(1.0));
  Value b = g.param("disc.b", {}, Init::constant(3.0));
  Value l1 = a * b;
  Value l2 = b * b * a;
  auto ga = grad(l1, g.params("gen."));
  auto gb = grad(l2, g.params("disc."));
  Session s(g);
  auto out = s.run({}, {ga[0], gb[0]});
  CHECK(out[0].item() == doctest::Approx(3.0));
  CHECK(out[1].item() == doctest::Approx(6.0));
}
