#include "tests/op_check.hpp"

#include <doctest/doctest.h>

#include <cmath>

namespace anneal::test {

double rel_l2(const Tensor& a, const Tensor& b) {
  double num = 0, den = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    double d = a.at(i) - b.at(i);
    num += d * d;
    den += b.at(i) * b.at(i);
  }
  return std::sqrt(num) / std::max(std::sqrt(den), 1e-30);
}

std::vector<OpCase>& registered_cases() {
  static std::vector<OpCase> cases;
  return cases;
}

bool register_cases(std::vector<OpCase> cases) {
  for (auto& c : cases) registered_cases().push_back(std::move(c));
  return true;
}

void check_cases(const std::vector<OpCase>& cases) {
  for (const auto& c : cases) {
    INFO("op case ", c.name);
    check_case(c);
  }
}

namespace {

struct Built {
  Graph g{"op_case"};
  std::vector<Value> inputs;
  Value out;
};

std::unique_ptr<Built> build(const OpCase& c) {
  auto b = std::make_unique<Built>();
  for (std::size_t i = 0; i < c.inputs.size(); ++i) {
    const InputSpec& s = c.inputs[i];
    std::string name = "in" + std::to_string(i);
    b->inputs.push_back(s.integer ? b->g.state(name, s.shape, Init::zeros(), DType::i32)
                                  : b->g.param(name, s.shape, Init::zeros()));
  }
  b->out = c.build(b->g, b->inputs);
  return b;
}

// Input values: deterministic, and exactly representable in f32 so the fast
// and reference sessions see the same numbers.
std::vector<Tensor> input_values(const OpCase& c, std::uint64_t seed) {
  std::vector<Tensor> vals;
  for (std::size_t i = 0; i < c.inputs.size(); ++i) {
    const InputSpec& s = c.inputs[i];
    RandomStream rng{seed, static_cast<std::uint32_t>(i), 7};
    std::vector<double> v(static_cast<std::size_t>(numel(s.shape)));
    for (std::size_t j = 0; j < v.size(); ++j) {
      double u = rng.uniform_at(j);
      double x = s.lo + (s.hi - s.lo) * u;
      if (std::abs(x) < s.min_abs) x = x < 0 ? -s.min_abs : s.min_abs;
      v[j] = s.integer ? std::floor(x) : static_cast<float>(x);
    }
    vals.push_back(Tensor::from(v, s.shape, s.integer ? DType::i32 : DType::f64));
  }
  return vals;
}

void set_inputs(Session& s, const Built& b, const std::vector<Tensor>& vals) {
  for (std::size_t i = 0; i < vals.size(); ++i) s.set(b.inputs[i].name(), vals[i]);
}


Tensor eval(Session& s, Value v) {
  s.set_step(0);  // the same random stream on every evaluation
  return s.run({}, v);
}

// Checks d(loss)/d(inputs) from autodiff against finite differences of
// `loss`. Every element is perturbed for small inputs; larger ones get three
// random directions.
void check_grad_of(const OpCase& c, Built& b, Value loss, const std::vector<Tensor>& vals) {
  std::vector<Value> wrt;
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < b.inputs.size(); ++i)
    if (!c.inputs[i].integer) { wrt.push_back(b.inputs[i]); idx.push_back(i); }
  if (wrt.empty()) return;
  std::vector<Value> grads = grad(loss, wrt);
  Session s(b.g, {.seed = 3, .precision = Precision::reference, .check_finite = false});
  set_inputs(s, b, vals);
  s.set_step(0);
  std::vector<Value> fetch = grads;
  std::vector<Tensor> g = s.run({}, fetch);

  auto loss_at = [&](std::size_t k, const Tensor& x) {
    s.set(wrt[k].name(), x);
    double l = eval(s, loss).item();
    s.set(wrt[k].name(), vals[idx[k]]);
    return l;
  };
  for (std::size_t k = 0; k < wrt.size(); ++k) {
    const Tensor& x0 = vals[idx[k]];
    std::int64_t n = x0.numel();
    auto check = [&](const std::vector<double>& dir, const std::string& what) {
      Tensor xp = x0.clone(), xm = x0.clone();
      double analytic = 0;
      for (std::int64_t j = 0; j < n; ++j) {
        xp.data<double>()[j] += c.step * dir[static_cast<std::size_t>(j)];
        xm.data<double>()[j] -= c.step * dir[static_cast<std::size_t>(j)];
        analytic += g[k].at(j) * dir[static_cast<std::size_t>(j)];
      }
      double numeric = (loss_at(k, xp) - loss_at(k, xm)) / (2 * c.step);
      double scale = std::max({1.0, std::abs(numeric), std::abs(analytic)});
      INFO(c.name, ": d/d", wrt[k].name(), " ", what, " numeric ", numeric, " analytic ", analytic);
      CHECK(std::abs(numeric - analytic) <= c.tol * scale);
    };
    if (n <= 40) {
      for (std::int64_t j = 0; j < n; ++j) {
        std::vector<double> dir(static_cast<std::size_t>(n), 0.0);
        dir[static_cast<std::size_t>(j)] = 1.0;
        check(dir, "element " + std::to_string(j));
      }
    } else {
      for (std::uint32_t r = 0; r < 3; ++r) {
        RandomStream rng{11, r, 0};
        std::vector<double> dir(static_cast<std::size_t>(n));
        for (std::size_t j = 0; j < dir.size(); ++j) dir[j] = rng.normal_at(j);
        check(dir, "random direction " + std::to_string(r));
      }
    }
  }
}

// sum(out * R) for a fixed random R: a scalar whose gradient exercises every
// output element with a different weight.
Value weighted_sum(Graph& g, Value out, std::uint32_t salt) {
  RandomStream rng{5, salt, 0};
  std::vector<double> r(static_cast<std::size_t>(numel(out.shape())));
  for (std::size_t j = 0; j < r.size(); ++j) r[j] = static_cast<float>(0.5 + rng.uniform_at(j));
  Value w = g.constant(Tensor::from(r, out.shape()));
  return sum_to_like(out * w, g.scalar(0.0));
}

}  // namespace

void check_fast_matches_reference(const OpCase& c) {
  auto b = build(c);
  auto vals = input_values(c, 1);
  Session fast(b->g, {.seed = 3, .precision = Precision::fast, .check_finite = false});
  Session ref(b->g, {.seed = 3, .precision = Precision::reference, .check_finite = false});
  set_inputs(fast, *b, vals);
  set_inputs(ref, *b, vals);
  Tensor f = eval(fast, b->out), r = eval(ref, b->out);
  INFO(c.name, ": fast vs reference");
  REQUIRE(f.shape() == r.shape());
  CHECK(rel_l2(f, r) <= c.fast_tol);
}

void check_gradient(const OpCase& c) {
  auto b = build(c);
  REQUIRE(b->out.dtype() == DType::f32);
  Value loss = weighted_sum(b->g, b->out, 1);
  check_grad_of(c, *b, loss, input_values(c, 1));
}

void check_second_order(const OpCase& c) {
  auto b = build(c);
  Value loss = weighted_sum(b->g, b->out, 1);
  std::vector<Value> wrt;
  for (std::size_t i = 0; i < b->inputs.size(); ++i)
    if (!c.inputs[i].integer) wrt.push_back(b->inputs[i]);
  std::vector<Value> g1 = grad(loss, wrt);
  // loss2 = sum_k <grad_k, R_k>: its gradient is a Hessian-vector product.
  Value loss2 = b->g.scalar(0.0);
  for (std::size_t k = 0; k < g1.size(); ++k) loss2 = loss2 + weighted_sum(b->g, g1[k], 10 + static_cast<std::uint32_t>(k));
  check_grad_of(c, *b, loss2, input_values(c, 1));
}

void check_case(const OpCase& c) {
  check_fast_matches_reference(c);
  if (c.check_grad && !c.stochastic) check_gradient(c);
  if (c.second_order) check_second_order(c);
}

}  // namespace anneal::test
