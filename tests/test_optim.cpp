// Optimizers against hand-written reference updates (PyTorch's formulas).
#include <doctest/doctest.h>

#include <cmath>

#include "anneal.hpp"

using namespace anneal;

namespace {

// loss = 0.5 * sum((p - t)^2): the gradient is p - t.
struct Quadratic {
  Graph g{"quadratic"};
  Value p = g.param("p", {3}, Init::zeros());
  Value t = g.constant(Tensor::from({1.0, -2.0, 0.5}, {3}));
  Value loss = sum_to_like(square(p - t), g.scalar(0)) * 0.5;
  std::vector<double> target{1.0, -2.0, 0.5};
};

std::vector<double> run_steps(Quadratic& q, Optimizer opt, int steps) {
  Session s(q.g);
  s.set("p", Tensor::from({0.3, 0.1, -0.4}, {3}));
  Trainer tr(s, q.loss, {opt});
  for (int i = 0; i < steps; ++i) tr.step({});
  return s.get("p").to_vector();
}

}  // namespace

TEST_CASE("optim: SGD with momentum - Nesterov and weight decay follows PyTorch's update") {
  for (bool nesterov : {false, true}) {
    Quadratic q;
    SgdOptions o{.lr = 0.1, .momentum = 0.9, .nesterov = nesterov, .weight_decay = 0.01};
    auto got = run_steps(q, sgd(q.g, "opt", {q.p}, grad(q.loss, {q.p}), o), 5);
    std::vector<double> p{0.3, 0.1, -0.4}, v(3, 0.0);
    for (int s = 0; s < 5; ++s)
      for (int i = 0; i < 3; ++i) {
        double d = (p[i] - q.target[i]) + o.weight_decay * p[i];
        v[i] = o.momentum * v[i] + d;
        p[i] -= o.lr * (nesterov ? d + o.momentum * v[i] : v[i]);
      }
    for (int i = 0; i < 3; ++i) CHECK(got[i] == doctest::Approx(p[i]).epsilon(1e-5));
  }
}

TEST_CASE("optim: Adam follows the bias-corrected update") {
  Quadratic q;
  AdamOptions o{.lr = 0.05, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-8, .weight_decay = 0.0};
  auto got = run_steps(q, adam(q.g, "adam", {q.p}, grad(q.loss, {q.p}), o), 7);
  std::vector<double> p{0.3, 0.1, -0.4}, m(3, 0.0), v(3, 0.0);
  for (int s = 1; s <= 7; ++s)
    for (int i = 0; i < 3; ++i) {
      double d = p[i] - q.target[i];
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * d;
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * d * d;
      double mh = m[i] / (1 - std::pow(o.beta1, s)), vh = v[i] / (1 - std::pow(o.beta2, s));
      p[i] -= o.lr * mh / (std::sqrt(vh) + o.eps);
    }
  for (int i = 0; i < 3; ++i) CHECK(got[i] == doctest::Approx(p[i]).epsilon(1e-5));
}

TEST_CASE("optim: schedules drive hyper-parameters between steps") {
  CHECK(Schedule::linear(0.5, 0.9, 0, 4).at(2) == doctest::Approx(0.7));
  CHECK(Schedule::linear(0.5, 0.9, 0, 4).at(10) == doctest::Approx(0.9));
  CHECK(Schedule::step(1.0, 0.1, 2).at(4.5) == doctest::Approx(0.01));
  CHECK(Schedule::exponential(1.0, 0.5).at(3) == doctest::Approx(0.125));
  CHECK(Schedule::cosine(1.0, 0.0, 0, 2).at(1) == doctest::Approx(0.5));

  Quadratic q;
  Optimizer opt = sgd(q.g, "opt", {q.p}, grad(q.loss, {q.p}), {.lr = 0.1});
  opt.schedule("lr", Schedule::constant(0.0));
  CHECK_THROWS_AS(opt.schedule("nope", Schedule::constant(1)), InvalidInput);
  auto got = run_steps(q, opt, 3);  // lr forced to 0: nothing moves
  CHECK(got[0] == doctest::Approx(0.3));
}

TEST_CASE("optim: separate groups get separate options") {
  Graph g;
  Value x = g.input("x", {Dim::batch(), 2});
  auto layer = nn::make_linear(g, "fc", 2, 1);
  Value loss = sum_to_like(square(layer(x)), g.scalar(0));
  auto params = g.params("fc.");
  REQUIRE(params.size() == 2);
  auto w = weights_only(params), b = biases_only(params);
  REQUIRE(w.size() == 1);
  REQUIRE(b.size() == 1);
  auto gw = grad(loss, w), gb = grad(loss, b);
  Session s(g);
  Tensor b0 = s.get("fc.b").clone(), w0 = s.get("fc.W").clone();
  Trainer tr(s, loss, {sgd(g, "opt.w", w, gw, {.lr = 0.1}), sgd(g, "opt.b", b, gb, {.lr = 0.0})});
  tr.step({{"x", Tensor::from({1, 2, 3, 4}, {2, 2})}});
  CHECK(s.get("fc.b").at(0) == b0.at(0));
  CHECK(s.get("fc.W").at(0) != w0.at(0));
}

TEST_CASE("optim: an optimizer is recovered from the graph it was built into") {
  Quadratic q;
  Optimizer built = adam(q.g, "adam", {q.p}, grad(q.loss, {q.p}), {.lr = 0.05});
  CHECK(Optimizer::names_in(q.g) == std::vector<std::string>{"adam"});
  Optimizer back = Optimizer::from_graph(q.g, "adam");
  CHECK(back.updates().size() == built.updates().size());
  CHECK(back.hyper().size() == built.hyper().size());
  CHECK(back.hyper().at("lr") == built.hyper().at("lr"));
  CHECK_THROWS_AS(Optimizer::from_graph(q.g, "sgd"), InvalidInput);
}
