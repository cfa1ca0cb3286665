// Shared by the RBM suites: small deterministic data, Fashion-MNIST subsets
// (loaded once), host-side reference math.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <vector>

#include "anneal.hpp"
#include "data/synthetic.hpp"
#include "models/rbm.hpp"
#include "models/rbm_eval.hpp"
#include "models/rbm_sample.hpp"
#include "models/rbm_stack.hpp"
#include "models/rbm_train.hpp"

namespace anneal::test {

// The Fashion-MNIST sets, scaled to [0, 1], loaded once per process; empty
// when Debian's dataset-fashion-mnist is not installed.
inline const Dataset& fmnist(const std::string& split) {
  static Dataset train, test;
  static bool loaded = false;
  if (!loaded && std::filesystem::exists(kFashionMnistDir)) {
    train = scale(fashion_mnist("train"), 1.0f / 255);
    test = scale(fashion_mnist("test"), 1.0f / 255);
  }
  loaded = true;
  return split == "train" ? train : test;
}

inline bool have_fmnist() {
  if (fmnist("train").size() > 0) return true;
  MESSAGE("skipped: ", kFashionMnistDir, " is not installed (Debian package dataset-fashion-mnist)");
  return false;
}

// Deterministic uniforms and normals for generated data.
struct Draws {
  RandomStream rng;
  std::uint64_t i = 0;
  explicit Draws(std::uint64_t seed) : rng{seed, 7, 7} {}
  double uniform() { return rng.uniform_at(i++); }
  double normal() { return rng.normal_at(i++); }
};

// Real-valued data from binary factors: v = Σ_k h_k A_k + noise·ε, with
// h ~ Bernoulli(0.3)^k and A ~ N(0, 1): what a Gaussian RBM models.
inline Dataset gaussian_factors(std::int64_t n, std::int64_t v, std::int64_t k, double noise, std::uint64_t seed) {
  Draws d(seed);
  std::vector<double> a(static_cast<std::size_t>(v * k)), x(static_cast<std::size_t>(n * v));
  for (double& w : a) w = d.normal();
  std::vector<double> h(static_cast<std::size_t>(k));
  for (std::int64_t r = 0; r < n; ++r) {
    for (double& hj : h) hj = d.uniform() < 0.3 ? 1 : 0;
    for (std::int64_t i = 0; i < v; ++i) {
      double s = noise * d.normal();
      for (std::int64_t j = 0; j < k; ++j) s += a[static_cast<std::size_t>(i * k + j)] * h[static_cast<std::size_t>(j)];
      x[static_cast<std::size_t>(r * v + i)] = s;
    }
  }
  Dataset ds;
  ds.x = Tensor::from(x, {n, v});
  ds.item_shape = {v};
  return ds;
}

// `groups` one-hot groups of `k` categories whose logits are scale · U h,
// h ~ Bernoulli(0.5)^latent, U ~ N(0, 1): what a softmax RBM models (the
// generator of the CLI's synthetic-ratings data).
inline Dataset softmax_factors(std::int64_t n, std::int64_t groups, std::int64_t k, std::int64_t latent, double scale,
                               std::uint64_t seed) {
  return synthetic_ratings(
      {.users = n, .items = groups, .levels = k, .factors = latent, .strength = scale, .seed = seed});
}

// Examples [begin, end) of a dataset.
inline Dataset rows(const Dataset& d, std::int64_t begin, std::int64_t end) {
  std::vector<std::int64_t> idx;
  for (std::int64_t i = begin; i < end; ++i) idx.push_back(i);
  return subset(d, idx);
}

inline Tensor random_tensor(Dims shape, double stddev, std::uint64_t seed) {
  Draws d(seed);
  std::vector<double> v(static_cast<std::size_t>(numel(shape)));
  for (double& x : v) x = stddev * d.normal();
  return Tensor::from(v, shape);
}

inline double log_sum_exp(const std::vector<double>& xs) {
  double m = -std::numeric_limits<double>::infinity();
  for (double x : xs) m = std::max(m, x);
  double s = 0;
  for (double x : xs) s += std::exp(x - m);
  return m + std::log(s);
}

inline double softplus_d(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

}  // namespace anneal::test
