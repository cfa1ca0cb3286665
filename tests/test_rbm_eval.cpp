// Exact and annealed partition functions of trained RBMs, and sampling.
//
// Settings (fixed seeds): a 784-16 Bernoulli RBM trained by CD-1 (lr 0.02,
// batch 100, 5 epochs) on the first 10,000 binarized Fashion-MNIST training
// images, evaluated on the first 2,000 test images; a 32-16 Gaussian RBM
// with learned σ trained by CD-1 (lr 0.01, 30 epochs) on 2,000 generated
// vectors. AIS: the paper's 14,500 temperatures, 100 runs, base-rate model
// from the training data; and the same with 10 temperatures.
#include <doctest/doctest.h>

#include <memory>

#include "tests/rbm_testing.hpp"

using namespace anneal;
using namespace anneal::test;

namespace {

struct Trained {
  rbm::Model model;
  std::unique_ptr<Session> session;
  Dataset train, test;
  std::vector<double> test_log_prob;  // exact, after each epoch
};

// The 784-16 RBM, trained once per process.
const Trained& small_fmnist_rbm() {
  static std::unique_ptr<Trained> t;
  if (t) return *t;
  t = std::make_unique<Trained>();
  t->train = binarize(take(fmnist("train"), 10000));
  t->test = binarize(take(fmnist("test"), 2000));
  t->model = rbm::build_model({.spec = {.visible = 784, .hidden = 16}, .optim = {.lr = Schedule::constant(0.02)}});
  t->session = std::make_unique<Session>(*t->model.graph, SessionOptions{.seed = 1});
  rbm::train(*t->session, t->model, t->train, &t->test, {.epochs = 5, .batch = 100, .seed = 1},
             [&](const rbm::EpochReport&) {
               const rbm::Rbm& r = t->model.training.rbm;
               double log_z = rbm::exact_log_z(*t->session, r);
               t->test_log_prob.push_back(rbm::mean_log_prob(*t->session, r, t->test, log_z));
             });
  return *t;
}

void check_ais(Session& s, const rbm::Rbm& r, const Dataset& base_data, const std::string& what) {
  INFO(what);
  const double exact = rbm::exact_log_z(s, r);
  const rbm::AisResult ais = rbm::ais_log_z(s, r, base_data, {.runs = 100, .seed = 3});
  const rbm::AisResult quick = rbm::ais_log_z(s, r, base_data, {.betas = rbm::ais_betas(10), .runs = 100, .seed = 3});
  MESSAGE(what, ": exact log Z ", exact, ", base-rate model ", ais.log_z_base, "; AIS (", ais.temperatures, " x ",
          ais.runs, ") ", ais.log_z, " [", ais.log_z_lo, ", ", ais.log_z_hi, "], error ", ais.log_z - exact,
          "; with 10 temperatures ", quick.log_z, ", error ", quick.log_z - exact);
  CHECK(ais.temperatures == 14500);
  CHECK(exact - ais.log_z_base >= 20);  // a hard case: far from the base-rate model
  CHECK(std::abs(ais.log_z - exact) < 0.1);
  CHECK(ais.log_z_lo <= exact);
  CHECK(exact <= ais.log_z_hi);
  CHECK(std::abs(quick.log_z - exact) > 1.0);
  CHECK(std::abs(quick.log_z - exact) > 10 * std::abs(ais.log_z - exact));
}

}  // namespace

TEST_CASE("rbm: a small RBM's exact test log-probability rises over the epochs") {
  if (!have_fmnist()) return;
  const auto& lp = small_fmnist_rbm().test_log_prob;
  REQUIRE(lp.size() == 5);
  MESSAGE("784-16 exact test log p(v) by epoch: ", lp[0], ", ", lp[1], ", ", lp[2], ", ", lp[3], ", ", lp[4]);
  CHECK(lp[4] >= lp[0] + 10);
  for (std::size_t e = 1; e < lp.size(); ++e) CHECK(lp[e] >= lp[e - 1] - 1.0);
}

TEST_CASE("rbm: PCD with a decaying learning rate raises a small RBM's exact test log-probability") {
  // 784-16, PCD-1 with 100 chains, lr 0.01 -> 0.0001 (cosine), momentum
  // 0.5, 5 epochs, the data of the case above.
  if (!have_fmnist()) return;
  const Trained& cd = small_fmnist_rbm();
  rbm::Model m = rbm::build_model({.spec = {.visible = 784, .hidden = 16},
                                   .cd = {.persistent = true, .chains = 100},
                                   .optim = {.lr = Schedule::cosine(0.01, 0.0001, 0, 5),
                                             .momentum = Schedule::constant(0.5)}});
  Session s(*m.graph, {.seed = 1});
  std::vector<double> lp;
  rbm::train(s, m, cd.train, nullptr, {.epochs = 5, .batch = 100, .seed = 1}, [&](const rbm::EpochReport& r) {
    if (r.epoch == 1 || r.epoch == 5)
      lp.push_back(rbm::mean_log_prob(s, m.training.rbm, cd.test, rbm::exact_log_z(s, m.training.rbm)));
  });
  REQUIRE(lp.size() == 2);
  MESSAGE("784-16 PCD exact test log p(v): epoch 1 ", lp[0], ", epoch 5 ", lp[1]);
  CHECK(lp[1] >= lp[0] + 10);
}

TEST_CASE("rbm: AIS agrees with the exact log Z within 0.1 nats and its 3-sigma interval holds it but 10 temperatures do not") {
  if (have_fmnist()) {
    const Trained& t = small_fmnist_rbm();
    check_ais(*t.session, t.model.training.rbm, t.train, "784-16 bernoulli (Fashion-MNIST)");
  }
  Dataset data = gaussian_factors(2000, 32, 8, 0.5, 1);
  rbm::Model m = rbm::build_model({.spec = {.visible = 32, .hidden = 16, .visible_type = rbm::UnitType::gaussian,
                                            .learn_sigma = true},
                                   .optim = {.lr = Schedule::constant(0.01)}});
  Session s(*m.graph, {.seed = 1});
  rbm::train(s, m, data, nullptr, {.epochs = 30, .batch = 100, .seed = 1});
  check_ais(s, m.training.rbm, data, "32-16 gaussian with learned sigma (generated)");
}

TEST_CASE("rbm: AIS rejects what it cannot anneal and names the problem") {
  Graph g;
  rbm::Rbm gh = rbm::make_rbm(g, "gh", {.visible = 4, .hidden = 3, .hidden_type = rbm::UnitType::gaussian});
  rbm::Rbm rs = rbm::replicated_softmax(g, "rs", 5, 3, 10);
  rbm::Rbm ok = rbm::bernoulli(g, "ok", 4, 3);
  Session s(g);
  Dataset d;
  d.x = Tensor::zeros(DType::f32, {3, 4});
  CHECK_THROWS_WITH_AS(rbm::ais_log_z(s, gh, d), doctest::Contains("bernoulli hidden"), InvalidInput);
  CHECK_THROWS_WITH_AS(rbm::exact_log_z(s, rs), doctest::Contains("document length"), InvalidInput);
  CHECK_THROWS_WITH_AS(rbm::ais_log_z(s, ok, d, {.betas = {0.0, 0.7, 0.5, 1.0}}), doctest::Contains("decrease"),
                       InvalidInput);
  CHECK(rbm::ais_betas(10).size() == 10);
  CHECK(rbm::ais_betas_paper().size() == 14500);
  CHECK(rbm::ais_betas_paper()[500] == 0.5);
  CHECK(rbm::ais_betas_paper()[4500] == doctest::Approx(0.9));
}

TEST_CASE("rbm: block Gibbs chains from random states sample the model's exact distribution") {
  // A 8-4 RBM with strong random weights: 20,000 chains, 50 steps each; the
  // empirical distribution over all 256 visible vectors against p(v).
  Graph g;
  rbm::Rbm r = rbm::bernoulli(g, "rbm", 8, 4);
  Session s(g);
  s.set("rbm.W", random_tensor({8, 4}, 1.0, 1));
  s.set("rbm.b", random_tensor({8}, 0.5, 2));
  s.set("rbm.c", random_tensor({4}, 0.5, 3));
  const double log_z = rbm::exact_log_z(s, r);
  Dataset all;
  all.x = Tensor::zeros(DType::f32, {256, 8});
  for (std::int64_t m = 0; m < 256; ++m)
    for (std::int64_t i = 0; i < 8; ++i) all.x.data<float>()[m * 8 + i] = static_cast<float>((m >> i) & 1);
  // log p(v) per configuration, through the graph's free energy.
  Value x = g.input("x", {Dim::batch(), 8});
  Tensor neg_f = s.run({{"x", all.x}}, -r.free_energy(x));
  const std::int64_t n = 20000;
  rbm::Samples smp = rbm::sample(s, r, {.count = n, .gibbs_steps = 50, .seed = 5});
  REQUIRE(smp.state.shape() == Dims{n, 8});
  std::vector<double> counts(256, 0.0);
  for (std::int64_t c = 0; c < n; ++c) {
    std::int64_t m = 0;
    for (std::int64_t i = 0; i < 8; ++i) m |= static_cast<std::int64_t>(smp.state.at(c * 8 + i)) << i;
    counts[static_cast<std::size_t>(m)] += 1;
  }
  // Exact samples would be off by E|p̂ - p| = sqrt(2p(1-p)/πn) per cell.
  double tv = 0, noise = 0, total = 0;
  for (std::int64_t m = 0; m < 256; ++m) {
    double p = std::exp(neg_f.at(m) - log_z);
    total += p;
    tv += 0.5 * std::abs(p - counts[static_cast<std::size_t>(m)] / static_cast<double>(n));
    noise += 0.5 * std::sqrt(2 * p * (1 - p) / (3.14159265358979 * static_cast<double>(n)));
  }
  MESSAGE("total variation between ", n, " Gibbs samples and p(v): ", tv, " (exact samples: about ", noise, ")");
  CHECK(total == doctest::Approx(1.0).epsilon(1e-4));
  CHECK(tv < 1.5 * noise);
  bool means_ok = true;
  for (std::int64_t i = 0; i < smp.mean.numel(); ++i) means_ok &= smp.mean.at(i) >= 0 && smp.mean.at(i) <= 1;
  CHECK(means_ok);
}
