// Greedy stacking: each RBM learns from the posterior of the one below, the
// layers below stay fixed, and the deterministic up-down pass reconstructs.
#include <doctest/doctest.h>

#include "tests/rbm_testing.hpp"

using namespace anneal;
using namespace anneal::test;

TEST_CASE("rbm: a greedily trained stack learns each layer on the posterior below and its up-down pass reconstructs") {
  // 784-256-64 on the first 5,000 binarized Fashion-MNIST training images,
  // CD-1, lr 0.05, 3 epochs per layer; reconstructions of 1,000 test images.
  if (!have_fmnist()) return;
  Dataset train = binarize(take(fmnist("train"), 5000)), test = binarize(take(fmnist("test"), 1000));
  rbm::Stack dbn = rbm::make_stack(784);
  const rbm::OptimOptions optim{.lr = Schedule::constant(0.05)};
  rbm::add_layer(dbn, "rbm1", {.visible = 784, .hidden = 256}, {}, optim);
  rbm::add_layer(dbn, "rbm2", {.visible = 256, .hidden = 64}, {}, optim);
  CHECK_THROWS_AS(rbm::add_layer(dbn, "bad", {.visible = 100, .hidden = 10}), InvalidInput);
  Value recon = dbn.down(dbn.up(dbn.x));
  Session s(*dbn.graph, {.seed = 2});
  const rbm::TrainOptions o{.epochs = 3, .batch = 100, .seed = 2, .monitor_examples = 500};

  rbm::train(s, dbn.layers[0], dbn.x, {}, train, nullptr, o);
  const std::vector<double> w1 = s.get("rbm1.W").to_vector(), c1 = s.get("rbm1.c").to_vector();
  rbm::train(s, dbn.layers[1], dbn.x, {}, train, nullptr,
             {.epochs = 3, .batch = 100, .seed = 2, .init_visible_bias = false});
  CHECK(s.get("rbm1.W").to_vector() == w1);  // training the second layer leaves the first alone
  CHECK(s.get("rbm2.W").to_vector() != std::vector<double>(256 * 64, 0.0));

  // The second RBM's data is E[h | v] of the first, computed here by hand.
  Dataset batch = take(test, 20);
  Tensor data2 = s.run({{"x", batch.x}}, dbn.layers[1].data);
  double worst = 0;
  for (std::int64_t n = 0; n < 20; ++n)
    for (std::int64_t j = 0; j < 256; ++j) {
      double a = c1[static_cast<std::size_t>(j)];
      for (std::int64_t i = 0; i < 784; ++i)
        a += batch.x.at(n * 784 + i) * w1[static_cast<std::size_t>(i * 256 + j)];
      worst = std::max(worst, std::abs(data2.at(n * 256 + j) - 1 / (1 + std::exp(-a))));
    }
  CHECK(worst < 1e-5);

  // Up-down reconstruction, through a 64-unit code, against the best
  // input-blind guess (the mean image), a stronger baseline than chance.
  Tensor r = s.run({{"x", test.x}}, recon);
  std::vector<double> mean_image(784, 0.0);
  for (std::int64_t n = 0; n < 1000; ++n)
    for (std::int64_t i = 0; i < 784; ++i) mean_image[static_cast<std::size_t>(i)] += test.x.at(n * 784 + i) / 1000;
  double err = 0, blind = 0;
  for (std::int64_t n = 0; n < 1000; ++n)
    for (std::int64_t i = 0; i < 784; ++i) {
      double v = test.x.at(n * 784 + i);
      err += (v - r.at(n * 784 + i)) * (v - r.at(n * 784 + i)) / 1000;
      blind += (v - mean_image[static_cast<std::size_t>(i)]) * (v - mean_image[static_cast<std::size_t>(i)]) / 1000;
    }
  MESSAGE("up-down reconstruction error per image ", err, "; the mean image's ", blind);
  CHECK(err <= 0.75 * blind);  // a quarter below it at least (about 0.58 of it here)

  // Sampling: Gibbs in the top RBM, one down pass to pixels.
  rbm::Samples smp = rbm::sample_stack(s, dbn, {.count = 16, .gibbs_steps = 100, .seed = 4});
  CHECK(smp.state.shape() == Dims{16, 256});
  CHECK(smp.mean.shape() == Dims{16, 784});
  bool in_range = true;
  for (std::int64_t i = 0; i < smp.mean.numel(); ++i) in_range &= smp.mean.at(i) >= 0 && smp.mean.at(i) <= 1;
  CHECK(in_range);
}

TEST_CASE("rbm: a stack's graph saved as JSON loads back with its layers and their training data") {
  rbm::Stack dbn = rbm::make_stack(30, "dbn");
  rbm::add_layer(dbn, "rbm1", {.visible = 30, .hidden = 12});
  rbm::add_layer(dbn, "rbm2", {.visible = 12, .hidden = 5}, {.persistent = true, .chains = 8}, {}, true);
  rbm::Stack back = rbm::Stack::from_graph(graph_from_json(graph_to_json(*dbn.graph)));
  REQUIRE(back.layers.size() == 2);
  CHECK(back.layers[1].rbm.spec.hidden == 5);
  CHECK(back.layers[1].cd.chains.valid());
  CHECK(back.layers[1].data.name() == dbn.layers[1].data.name());
  CHECK(back.x.name() == "x");
}
