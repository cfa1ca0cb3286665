// RBM building blocks: the CD gradient through autodiff against the textbook
// formulas, exact partition functions against brute-force sums, the unit
// types' samplers, graph JSON and checkpoint round trips, bit-identical PCD
// resume.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <unistd.h>

#include "tests/temp_dir.hpp"
#include "io/checkpoint.hpp"
#include "tests/rbm_testing.hpp"

using namespace anneal;
using namespace anneal::test;
namespace fs = std::filesystem;

namespace {

std::int64_t below(Draws& d, std::int64_t n) { return static_cast<std::int64_t>(d.uniform() * static_cast<double>(n)); }

double rel_l2(const std::vector<double>& a, const std::vector<double>& b) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) num += (a[i] - b[i]) * (a[i] - b[i]), den += b[i] * b[i];
  return std::sqrt(num) / std::max(std::sqrt(den), 1e-30);
}

// Random rows a visible layer of `spec` can hold.
Tensor visible_data(const rbm::RbmSpec& spec, std::int64_t n, std::uint64_t seed) {
  Draws d(seed);
  const std::int64_t v = spec.visible_units();
  std::vector<double> x(static_cast<std::size_t>(n * v), 0.0);
  for (std::int64_t r = 0; r < n; ++r) {
    double* row = x.data() + r * v;
    switch (spec.visible_type) {
      case rbm::UnitType::bernoulli:
        for (std::int64_t i = 0; i < spec.visible; ++i) row[i] = d.uniform() < 0.4 ? 1 : 0;
        break;
      case rbm::UnitType::gaussian:
        for (std::int64_t i = 0; i < spec.visible; ++i) row[i] = 0.5 + d.normal();
        break;
      case rbm::UnitType::softmax:
        for (std::int64_t g = 0; g < spec.visible / spec.group_size; ++g)
          row[g * spec.group_size + below(d, spec.group_size)] = 1;
        break;
      case rbm::UnitType::replicated_softmax: {
        const std::int64_t words = below(d, spec.max_doc_length);
        for (std::int64_t w = 0; w < words; ++w) row[below(d, spec.visible)] += 1;
        break;
      }
    }
    if (spec.label_classes > 0) row[spec.visible + below(d, spec.label_classes)] = 1;
  }
  return Tensor::from(x, {n, v});
}

// A dataset for rbm::train: x (data units) and labels for classification RBMs.
Dataset dataset_for(const rbm::RbmSpec& spec, std::int64_t n, std::uint64_t seed) {
  Tensor rows = visible_data(spec, n, seed);
  Dataset d;
  const std::int64_t v = spec.visible_units(), nx = spec.visible;
  d.x = Tensor::empty(DType::f32, {n, nx});
  for (std::int64_t r = 0; r < n; ++r)
    for (std::int64_t i = 0; i < nx; ++i) d.x.data<float>()[r * nx + i] = rows.data<float>()[r * v + i];
  if (spec.label_classes > 0) {
    d.y = Tensor::zeros(DType::i32, {n});
    for (std::int64_t r = 0; r < n; ++r)
      for (std::int64_t k = 0; k < spec.label_classes; ++k)
        if (rows.data<float>()[r * v + nx + k] == 1.f) d.y.data<std::int32_t>()[r] = static_cast<std::int32_t>(k);
  }
  d.item_shape = {nx};
  return d;
}

void set_random_parameters(Session& s, const rbm::Rbm& r, double w_std, std::uint64_t seed) {
  s.set(r.W.name(), random_tensor(r.W.shape(), w_std, seed));
  s.set(r.b.name(), random_tensor(r.b.shape(), 0.5, seed + 1));
  s.set(r.c.name(), random_tensor(r.c.shape(), 0.5, seed + 2));
  if (r.log_sigma.valid()) s.set(r.log_sigma.name(), random_tensor(r.log_sigma.shape(), 0.3, seed + 3));
}

}  // namespace

TEST_CASE("rbm: the CD-1 gradient through autodiff equals the textbook <v h>_data - <v h>_recon formula") {
  using rbm::UnitType;
  const std::int64_t B = 16, H = 7;
  struct Case {
    const char* what;
    rbm::RbmSpec spec;
    rbm::CdOptions cd;
  };
  const std::vector<Case> cases = {
      {"bernoulli", {.visible = 12, .hidden = H}, {}},
      {"bernoulli, sampled hidden statistics and last visible",
       {.visible = 12, .hidden = H},
       {.hidden_stats = rbm::HiddenStats::sampled, .sample_last_visible = true}},
      {"bernoulli, PCD (3 chains, 2 steps)", {.visible = 12, .hidden = H}, {.k = 2, .persistent = true, .chains = 3}},
      {"gaussian, unit variance", {.visible = 12, .hidden = H, .visible_type = UnitType::gaussian}, {}},
      {"gaussian, learned sigma",
       {.visible = 12, .hidden = H, .visible_type = UnitType::gaussian, .learn_sigma = true},
       {.sample_last_visible = true}},
      {"softmax, 4 groups of 3", {.visible = 12, .hidden = H, .visible_type = UnitType::softmax, .group_size = 3}, {}},
      {"classification, 9 pixels + 3 labels", {.visible = 9, .hidden = H, .label_classes = 3}, {}},
  };
  for (const Case& tc : cases) {
    INFO(tc.what);
    const rbm::RbmSpec& spec = tc.spec;
    const std::int64_t V = spec.visible_units();
    Graph g("cd1");
    Value x = g.input("x", {Dim::batch(), V});
    rbm::Rbm r = rbm::make_rbm(g, "rbm", spec);
    rbm::CdObjective cd = rbm::contrastive_divergence(r, x, tc.cd);
    std::vector<Value> params{r.W, r.b, r.c};
    if (r.log_sigma.valid()) params.push_back(r.log_sigma);
    std::vector<Value> fetches{cd.v_data, cd.h_data, cd.v_model, cd.h_model};
    for (Value gr : grad(cd.loss, params)) fetches.push_back(gr);
    Session s(g, {.seed = 11});
    set_random_parameters(s, r, 0.5, 1);
    auto out = s.run({{"x", visible_data(spec, B, 5)}}, fetches, cd.state_updates);

    // The textbook update, in double from the same samples.
    auto v0 = out[0].to_vector(), h0 = out[1].to_vector(), v1 = out[2].to_vector(), h1 = out[3].to_vector();
    auto W = s.get(r.W.name()).to_vector(), b = s.get(r.b.name()).to_vector();
    std::vector<double> sigma(static_cast<std::size_t>(V), 1.0);
    if (r.log_sigma.valid()) {
      auto ls = s.get(r.log_sigma.name()).to_vector();
      for (std::size_t i = 0; i < ls.size(); ++i) sigma[i] = std::exp(ls[i]);
    }
    const bool gaussian = spec.visible_type == UnitType::gaussian;
    std::vector<double> dW(static_cast<std::size_t>(V * H), 0.0), db(static_cast<std::size_t>(V), 0.0),
        dc(static_cast<std::size_t>(H), 0.0), dls(static_cast<std::size_t>(V), 0.0);
    const std::int64_t M = tc.cd.persistent ? tc.cd.chains : B;  // rows of the negative phase
    for (int phase = 0; phase < 2; ++phase) {
      for (std::int64_t n = 0; n < (phase == 0 ? B : M); ++n) {
        const double sign = phase == 0 ? -1.0 / B : 1.0 / M;  // - <.>_data + <.>_model
        const double* v = (phase == 0 ? v0 : v1).data() + n * V;
        const double* h = (phase == 0 ? h0 : h1).data() + n * H;
        for (std::int64_t i = 0; i < V; ++i) {
          const double si = sigma[static_cast<std::size_t>(i)];
          double wh = 0;
          for (std::int64_t j = 0; j < H; ++j) {
            dW[static_cast<std::size_t>(i * H + j)] += sign * (v[i] / si) * h[j];
            wh += W[static_cast<std::size_t>(i * H + j)] * h[j];
          }
          db[static_cast<std::size_t>(i)] += sign * v[i] / (si * si);
          // d E / d log σ_i, negated like the rest (E = v²/2σ² - v b/σ² - (v/σ) W h - ...).
          if (gaussian)
            dls[static_cast<std::size_t>(i)] -=
                sign * (-v[i] * v[i] / (si * si) + 2 * v[i] * b[static_cast<std::size_t>(i)] / (si * si) + v[i] / si * wh);
        }
        for (std::int64_t j = 0; j < H; ++j) dc[static_cast<std::size_t>(j)] += sign * h[j];
      }
    }
    CHECK(rel_l2(out[4].to_vector(), dW) < 2e-6);
    CHECK(rel_l2(out[5].to_vector(), db) < 2e-6);
    CHECK(rel_l2(out[6].to_vector(), dc) < 2e-6);
    if (r.log_sigma.valid()) CHECK(rel_l2(out[7].to_vector(), dls) < 2e-6);
    // PCD: the chains now hold the negative-phase samples.
    if (tc.cd.persistent) CHECK(s.get("rbm.pcd.chains").to_vector() == v1);
    // Samples are what their units allow.
    for (double vi : v1)
      if (!gaussian && tc.cd.sample_last_visible) CHECK((vi == 0.0 || vi == 1.0));
  }
}

namespace {

// log Z of an RBM with binary hidden units over the listed visible vectors,
// from the energy's definition: Σ_v exp(stat·b̃ + Σ_j softplus(c_j + (stat W)_j)).
double brute_log_z_discrete(const std::vector<std::vector<double>>& vs, const std::vector<double>& W,
                            const std::vector<double>& b, const std::vector<double>& c) {
  const std::size_t H = c.size();
  std::vector<double> terms;
  for (const auto& v : vs) {
    double t = 0;
    for (std::size_t i = 0; i < v.size(); ++i) t += v[i] * b[i];
    for (std::size_t j = 0; j < H; ++j) {
      double a = c[j];
      for (std::size_t i = 0; i < v.size(); ++i) a += v[i] * W[i * H + j];
      t += softplus_d(a);
    }
    terms.push_back(t);
  }
  return log_sum_exp(terms);
}

// ∫ exp(f(x)) dx on [-60, 60] by Simpson's rule, in log space.
template <class F> double log_integral(F&& f) {
  const int n = 24000;
  const double lo = -60, hi = 60, step = (hi - lo) / n;
  std::vector<double> terms;
  for (int k = 0; k <= n; ++k) {
    double w = k == 0 || k == n ? 1 : (k % 2 ? 4 : 2);
    terms.push_back(f(lo + k * step) + std::log(w * step / 3));
  }
  return log_sum_exp(terms);
}

std::vector<std::vector<double>> all_binary(std::size_t n) {
  std::vector<std::vector<double>> out;
  for (std::size_t m = 0; m < (std::size_t{1} << n); ++m) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<double>((m >> i) & 1u);
    out.push_back(v);
  }
  return out;
}

}  // namespace

TEST_CASE("rbm: exact log Z matches brute-force sums and integrals whichever layer it enumerates") {
  using rbm::UnitType;
  auto exact = [](const rbm::RbmSpec& spec, std::uint64_t seed, std::vector<double>& W, std::vector<double>& b,
                  std::vector<double>& c, std::vector<double>& sigma) {
    Graph g;
    rbm::Rbm r = rbm::make_rbm(g, "rbm", spec);
    Session s(g);
    set_random_parameters(s, r, 0.8, seed);
    W = s.get("rbm.W").to_vector();
    b = s.get("rbm.b").to_vector();
    c = s.get("rbm.c").to_vector();
    sigma.assign(static_cast<std::size_t>(spec.visible_units()), 1.0);
    if (r.log_sigma.valid()) {
      auto ls = s.get("rbm.log_sigma").to_vector();
      for (std::size_t i = 0; i < sigma.size(); ++i) sigma[i] = std::exp(ls[i]);
    }
    return rbm::exact_log_z(s, r, {.chunk = 100});  // several chunks and a short last one
  };
  std::vector<double> W, b, c, sigma;
  auto close = [](double got, double want) {
    INFO("exact ", got, " brute force ", want);
    CHECK(std::abs(got - want) <= 2e-5 * (1 + std::abs(want)));
  };

  SUBCASE("bernoulli, visible side enumerated (10 < 14) and hidden side (9 < 14)") {
    double z = exact({.visible = 10, .hidden = 14}, 1, W, b, c, sigma);
    close(z, brute_log_z_discrete(all_binary(10), W, b, c));
    z = exact({.visible = 14, .hidden = 9}, 2, W, b, c, sigma);
    close(z, brute_log_z_discrete(all_binary(14), W, b, c));
  }
  SUBCASE("softmax groups and label units") {
    std::vector<std::vector<double>> softmax_vs;  // 3 groups of 3
    for (int m = 0; m < 27; ++m) {
      std::vector<double> v(9, 0.0);
      for (int gi = 0, r = m; gi < 3; ++gi, r /= 3) v[static_cast<std::size_t>(gi * 3 + r % 3)] = 1;
      softmax_vs.push_back(v);
    }
    for (std::int64_t hidden : {6, 3}) {  // 27 < 64: visible enumerated; 8 < 27: hidden
      double z = exact({.visible = 9, .hidden = hidden, .visible_type = UnitType::softmax, .group_size = 3}, 3, W, b, c,
                       sigma);
      close(z, brute_log_z_discrete(softmax_vs, W, b, c));
    }
    std::vector<std::vector<double>> labeled_vs;  // 5 pixels + 3 labels
    for (auto v : all_binary(5))
      for (int y = 0; y < 3; ++y) {
        auto row = v;
        for (int k = 0; k < 3; ++k) row.push_back(k == y ? 1 : 0);
        labeled_vs.push_back(row);
      }
    for (std::int64_t hidden : {9, 4}) {  // 96 < 512: visible; 16 < 96: hidden
      double z = exact({.visible = 5, .hidden = hidden, .label_classes = 3}, 4, W, b, c, sigma);
      close(z, brute_log_z_discrete(labeled_vs, W, b, c));
    }
  }
  SUBCASE("gaussian visibles (unit and learned sigma) against numerical integrals") {
    for (bool learn : {false, true}) {
      INFO("learned sigma: ", learn);
      const std::size_t V = 2, H = 4;
      double z = exact({.visible = 2, .hidden = 4, .visible_type = UnitType::gaussian, .learn_sigma = learn}, 5, W, b, c,
                       sigma);
      // Z = Σ_h exp(c·h) Π_i ∫ exp(-v²/2σ² + v b/σ² + (v/σ)(W h)_i) dv
      std::vector<double> terms;
      for (const auto& h : all_binary(H)) {
        double t = 0;
        for (std::size_t j = 0; j < H; ++j) t += c[j] * h[j];
        for (std::size_t i = 0; i < V; ++i) {
          double wh = 0, s = sigma[i];
          for (std::size_t j = 0; j < H; ++j) wh += W[i * H + j] * h[j];
          t += log_integral([&](double v) { return -v * v / (2 * s * s) + v * b[i] / (s * s) + v / s * wh; });
        }
        terms.push_back(t);
      }
      close(z, log_sum_exp(terms));
    }
  }
  SUBCASE("gaussian hidden units: the visible side is enumerated") {
    const std::size_t V = 8, H = 3;
    double z = exact({.visible = 8, .hidden = 3, .hidden_type = UnitType::gaussian}, 6, W, b, c, sigma);
    std::vector<double> terms;
    for (const auto& v : all_binary(V)) {
      double t = 0;
      for (std::size_t i = 0; i < V; ++i) t += v[i] * b[i];
      for (std::size_t j = 0; j < H; ++j) {
        double a = c[j];
        for (std::size_t i = 0; i < V; ++i) a += v[i] * W[i * H + j];
        t += log_integral([&](double h) { return -h * h / 2 + a * h; });
      }
      terms.push_back(t);
    }
    close(z, log_sum_exp(terms));
  }
  SUBCASE("too large or continuous on both sides: a clear error") {
    Graph g;
    rbm::Rbm big = rbm::bernoulli(g, "big", 40, 30);
    rbm::Rbm gauss = rbm::make_rbm(g, "gauss", {.visible = 3, .hidden = 2, .visible_type = UnitType::gaussian,
                                                .hidden_type = UnitType::bernoulli});
    Session s(g);
    CHECK_THROWS_WITH_AS(rbm::exact_log_z(s, big), doctest::Contains("max_configurations"), InvalidInput);
    CHECK_NOTHROW(rbm::exact_log_z(s, gauss));  // the hidden side is enumerable
    CHECK_THROWS_AS(rbm::make_rbm(g, "bad", {.visible = 3, .hidden = 2, .visible_type = UnitType::gaussian,
                                             .hidden_type = UnitType::gaussian}),
                    InvalidInput);
  }
}

TEST_CASE("rbm: softmax and replicated-softmax samples are one-hot groups and word counts with the right frequencies") {
  Graph g;
  const std::int64_t n = 20000;  // a frequency's standard error is at most 0.0035
  Value logits = g.input("logits", {Dim::batch(), 4});
  Value counts = g.input("counts", {Dim::batch(), 1});
  Value groups = rbm::softmax_units(1, 4)->sample(logits);
  Value words = rbm::replicated_softmax_units(4, 40)->sample(logits, counts);
  Session s(g, {.seed = 2});
  std::vector<double> l, d;
  for (std::int64_t i = 0; i < n; ++i) {
    l.insert(l.end(), {0.0, 1.0, 2.0, -1.0});
    d.push_back(static_cast<double>(i % 41));
  }
  auto out = s.run({{"logits", Tensor::from(l, {n, 4})}, {"counts", Tensor::from(d, {n, 1})}}, {groups, words});
  const double z = 1 + std::exp(1.0) + std::exp(2.0) + std::exp(-1.0);
  const double p[4] = {1 / z, std::exp(1.0) / z, std::exp(2.0) / z, std::exp(-1.0) / z};
  double freq_one_hot[4] = {0, 0, 0, 0}, freq_words[4] = {0, 0, 0, 0}, total_words = 0;
  bool one_hot_ok = true, lengths_ok = true;
  for (std::int64_t i = 0; i < n; ++i) {
    double row = 0, len = 0;
    for (int k = 0; k < 4; ++k) {
      double gk = out[0].at(i * 4 + k), wk = out[1].at(i * 4 + k);
      row += gk;
      len += wk;
      freq_one_hot[k] += gk;
      freq_words[k] += wk;
      one_hot_ok &= gk == 0.0 || gk == 1.0;
    }
    one_hot_ok &= row == 1.0;
    lengths_ok &= len == d[static_cast<std::size_t>(i)];
    total_words += len;
  }
  CHECK(one_hot_ok);
  CHECK(lengths_ok);
  for (int k = 0; k < 4; ++k) {
    CHECK(std::abs(freq_one_hot[k] / n - p[k]) < 0.02);
    CHECK(std::abs(freq_words[k] / total_words - p[k]) < 0.01);
  }
}

TEST_CASE("rbm: a model saved as graph JSON loads back as the same RBM and trains bit-identically") {
  rbm::ModelOptions mo{.name = "rbm",
                       .spec = {.visible = 20, .hidden = 8, .label_classes = 3},
                       .cd = {.persistent = true, .chains = 10},
                       .discriminative_weight = 0.5};
  rbm::Model built = rbm::build_model(mo);
  rbm::Model loaded = rbm::model_from_graph(graph_from_json(graph_to_json(*built.graph)));
  CHECK(loaded.training.rbm.spec.label_classes == 3);
  CHECK(loaded.training.cd.chains.valid());
  CHECK(loaded.training.optimizers.size() == 2);
  rbm::set_schedules(loaded.training.optimizers, mo.optim);
  Dataset data = dataset_for(mo.spec, 60, 9);
  auto run = [&](rbm::Model& m) {
    Session s(*m.graph, {.seed = 4});
    rbm::train(s, m, data, nullptr, {.epochs = 2, .batch = 20});
    return std::vector<std::vector<double>>{s.get("rbm.W").to_vector(), s.get("rbm.pcd.chains").to_vector()};
  };
  CHECK(run(built) == run(loaded));
}

using anneal::testing::TempDir;

TEST_CASE("rbm: checkpoints round-trip every RBM type (PCD chains included) and a resumed PCD run is bit-identical") {
  using rbm::UnitType;
  struct Case {
    const char* what;
    rbm::RbmSpec spec;
    rbm::CdOptions cd;
  };
  const rbm::CdOptions pcd{.persistent = true, .chains = 16};
  const std::vector<Case> cases = {
      {"bernoulli, PCD", {.visible = 24, .hidden = 10}, pcd},
      {"gaussian with learned sigma, PCD",
       {.visible = 24, .hidden = 10, .visible_type = UnitType::gaussian, .learn_sigma = true}, pcd},
      {"softmax, PCD", {.visible = 24, .hidden = 10, .visible_type = UnitType::softmax, .group_size = 4}, pcd},
      {"replicated softmax, CD-2",
       {.visible = 24, .hidden = 10, .visible_type = UnitType::replicated_softmax, .max_doc_length = 30}, {.k = 2}},
      {"gaussian hidden units, PCD", {.visible = 24, .hidden = 10, .hidden_type = UnitType::gaussian}, pcd},
      {"classification, PCD", {.visible = 24, .hidden = 10, .label_classes = 4}, pcd},
  };
  TempDir dir;
  for (const Case& tc : cases) {
    INFO(tc.what);
    rbm::ModelOptions mo{.spec = tc.spec, .cd = tc.cd, .optim = {.lr = Schedule::constant(0.01)}};
    rbm::Model m = rbm::build_model(mo);
    Dataset data = dataset_for(tc.spec, 64, 21);
    const rbm::TrainOptions first{.epochs = 1, .batch = 16, .monitor_examples = 32};
    rbm::TrainOptions second = first;
    second.epochs = 2;
    second.first_epoch = 1;

    Session straight(*m.graph, {.seed = 8});
    rbm::train(straight, m, data, &data, {.epochs = 2, .batch = 16, .monitor_examples = 32});

    Session before(*m.graph, {.seed = 8});
    rbm::train(before, m, data, &data, first);
    const std::string path = (dir.path / "weights.safetensors").string();
    save_checkpoint(before, path);
    Session resumed(*m.graph, {.seed = 8});
    load_checkpoint(resumed, path);
    auto saved = checkpoint_tensors(before), restored = checkpoint_tensors(resumed);
    CHECK(saved.size() == restored.size());
    for (const auto& [name, t] : saved) {
      INFO(name);
      REQUIRE(restored.count(name) == 1);
      CHECK(restored.at(name).to_vector() == t.to_vector());
    }
    if (tc.cd.persistent) CHECK(saved.count("state.rbm.pcd.chains") == 1);
    rbm::train(resumed, m, data, &data, second);
    auto want = checkpoint_tensors(straight), got = checkpoint_tensors(resumed);
    for (const auto& [name, t] : want) {
      INFO(name);
      CHECK(got.at(name).to_vector() == t.to_vector());
    }
    CHECK(resumed.step() == straight.step());
  }
}
