// Small graphs shaped like the models the runtime must serve (an MLP, a VAE,
// an RBM trained by CD-1, a GAN), shared by the runtime tests.
#pragma once
#include <memory>
#include <vector>

#include "anneal.hpp"

namespace anneal::test {

struct ModelGraph {
  std::unique_ptr<Graph> g = std::make_unique<Graph>("model");
  std::vector<Value> fetches;  // losses and gradients
  std::vector<Optimizer> optimizers;
  Feeds feeds;                 // a batch of deterministic data
};

// Deterministic pseudo-data in [0, 1).
inline Tensor test_data(Dims shape, std::uint32_t salt) {
  RandomStream rng{99, salt, 0};
  std::vector<double> v(static_cast<std::size_t>(numel(shape)));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = rng.uniform_at(i);
  return Tensor::from(v, shape);
}

inline Tensor test_labels(std::int64_t n, std::int64_t classes) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>((i * 7 + 3) % static_cast<std::size_t>(classes));
  return Tensor::from(v, {n}, DType::i32);
}

// 784-h-h-10 ReLU classifier with SGD momentum (or sizes given).
inline ModelGraph mlp_graph(std::int64_t in = 784, std::int64_t hidden = 500, std::int64_t batch = 100,
                            double momentum = 0.9) {
  ModelGraph m;
  Graph& g = *m.g;
  Value x = g.input("x", {Dim::batch(), in});
  Value y = g.input("labels", {Dim::batch()}, DType::i32);
  Value h = relu(nn::linear(g, "fc1", x, hidden));
  h = relu(nn::linear(g, "fc2", h, hidden));
  Value loss = mean(cross_entropy(nn::linear(g, "out", h, 10), y));
  auto params = g.params();
  auto grads = grad(loss, params);
  m.fetches = {loss};
  m.fetches.insert(m.fetches.end(), grads.begin(), grads.end());
  m.optimizers.push_back(sgd(g, "opt", params, grads, {.lr = 0.05, .momentum = momentum}));
  m.feeds = {{"x", test_data({batch, in}, 1)}, {"labels", test_labels(batch, 10)}};
  return m;
}

inline ModelGraph vae_graph(std::int64_t in = 784, std::int64_t hidden = 400, std::int64_t latent = 20,
                            std::int64_t batch = 100) {
  ModelGraph m;
  Graph& g = *m.g;
  Value x = g.input("x", {Dim::batch(), in});
  Value h = relu(nn::linear(g, "enc.fc", x, hidden));
  Value mu = nn::linear(g, "enc.mu", h, latent), logvar = nn::linear(g, "enc.logvar", h, latent);
  Value z = gaussian_rsample(mu, logvar);
  Value logits = nn::linear(g, "dec.out", relu(nn::linear(g, "dec.fc", z, hidden)), in);
  Value loss = mean(sum(bce_with_logits(logits, x), {1}) + sum(kl_normal_std(mu, logvar), {1}));
  auto params = g.params();
  auto grads = grad(loss, params);
  m.fetches = {loss};
  m.fetches.insert(m.fetches.end(), grads.begin(), grads.end());
  m.optimizers.push_back(adam(g, "adam", params, grads));
  m.feeds = {{"x", test_data({batch, in}, 2)}};
  return m;
}

// CD-1 as the gradient of mean F(v0) - mean F(stop_gradient(v1)), where
// v1 = p(v | h0) and h0 ~ p(h | v0): nothing RBM-specific in the engine.
inline ModelGraph rbm_cd1_graph(std::int64_t visible = 784, std::int64_t hidden = 500, std::int64_t batch = 100,
                                double w_std = 0.01) {
  ModelGraph m;
  Graph& g = *m.g;
  Value v0 = g.input("v", {Dim::batch(), visible});
  Value W = g.param("rbm.W", {visible, hidden}, Init::normal(w_std));
  Value b = g.param("rbm.b", {visible}, Init::zeros());
  Value c = g.param("rbm.c", {hidden}, Init::zeros());
  auto free_energy = [&](Value v) { return -sum(v * b, {1}) - sum(softplus(matmul(v, W) + c), {1}); };
  Value h0 = bernoulli(sigmoid(matmul(v0, W) + c));
  Value v1 = sigmoid(matmul(h0, W, false, true) + b);
  Value loss = mean(free_energy(v0)) - mean(free_energy(stop_gradient(v1)));
  auto params = g.params();
  auto grads = grad(loss, params);
  m.fetches = {loss};
  m.fetches.insert(m.fetches.end(), grads.begin(), grads.end());
  m.optimizers.push_back(sgd(g, "opt", params, grads, {.lr = 0.05, .momentum = 0.5}));
  // Binary data, as a Bernoulli RBM sees it.
  Tensor v = test_data({batch, visible}, 3);
  for (std::int64_t i = 0; i < v.numel(); ++i) v.data<float>()[i] = v.data<float>()[i] > 0.7f ? 1.f : 0.f;
  m.feeds = {{"v", v}};
  return m;
}

// G: z -> 256 -> 256 -> 784 (sigmoid); D: 784 -> 256 -> 256 -> 1 logit.
// Two objectives over two parameter groups, one graph.
inline ModelGraph gan_graph(std::int64_t noise = 100, std::int64_t hidden = 256, std::int64_t out = 784,
                            std::int64_t batch = 64) {
  ModelGraph m;
  Graph& g = *m.g;
  Value x = g.input("x", {Dim::batch(), out});
  Value z = randn_like(g.input("z_shape", {Dim::batch(), noise}));
  auto gen = [&](Value v) {
    v = leaky_relu(nn::linear(g, "gen.fc1", v, hidden), 0.2);
    v = leaky_relu(nn::linear(g, "gen.fc2", v, hidden), 0.2);
    return sigmoid(nn::linear(g, "gen.out", v, out));
  };
  auto d1 = nn::make_linear(g, "disc.fc1", out, hidden), d2 = nn::make_linear(g, "disc.fc2", hidden, hidden),
       d3 = nn::make_linear(g, "disc.out", hidden, 1);
  auto disc = [&](Value v) { return d3(leaky_relu(d2(leaky_relu(d1(v), 0.2)), 0.2)); };
  Value fake = gen(z);
  Value ones = g.scalar(1.0), zeros = g.scalar(0.0);
  Value d_real = disc(x), d_fake = disc(stop_gradient(fake));
  Value d_loss = mean(bce_with_logits(d_real, broadcast_like(ones, d_real))) +
                 mean(bce_with_logits(d_fake, broadcast_like(zeros, d_fake)));
  Value g_logit = disc(fake);
  Value g_loss = mean(bce_with_logits(g_logit, broadcast_like(ones, g_logit)));
  auto dp = g.params("disc."), gp = g.params("gen.");
  auto dg = grad(d_loss, dp), gg = grad(g_loss, gp);
  m.fetches = {d_loss, g_loss};
  m.fetches.insert(m.fetches.end(), dg.begin(), dg.end());
  m.fetches.insert(m.fetches.end(), gg.begin(), gg.end());
  m.optimizers.push_back(adam(g, "adam.disc", dp, dg, {.lr = 2e-4, .beta1 = 0.5}));
  m.optimizers.push_back(adam(g, "adam.gen", gp, gg, {.lr = 2e-4, .beta1 = 0.5}));
  m.feeds = {{"x", test_data({batch, out}, 4)}, {"z_shape", Tensor::zeros(DType::f32, {batch, noise})}};
  return m;
}

inline std::vector<Value> updates_of(const ModelGraph& m) {
  std::vector<Value> u;
  for (const auto& o : m.optimizers) u.insert(u.end(), o.updates().begin(), o.updates().end());
  return u;
}

}  // namespace anneal::test
