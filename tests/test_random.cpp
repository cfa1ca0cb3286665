// Random numbers: Philox known answers, the stream layout the kernels must
// follow, sample moments, the reparameterized gradient, thread invariance
// and stream keying; plus the op cases for every random op.
#include <doctest/doctest.h>

#include <vector>

#include <cmath>
#include <cstring>

#include "tests/op_check.hpp"

using namespace anneal;
using anneal::test::InputSpec;
using anneal::test::OpCase;

namespace {

const Dims k357{3, 5, 7};

// A tolerance of five standard errors: a correct sampler fails one check in
// ~1.7 million, and the seeds are fixed, so the suite is deterministic.
constexpr double kSigmas = 5.0;

// Restores the thread budget when a test ends, however it ends.
struct ThreadBudgetGuard {
  int saved = num_threads();
  ~ThreadBudgetGuard() { set_num_threads(saved); }
};

Value zero(Graph& g) { return g.scalar(0.0); }
Value total(Value x) { return sum_to_like(x, zero(*x.graph)); }

Feeds batch_feed(const std::string& name, Tensor t) { return Feeds{{name, std::move(t)}}; }

}  // namespace

TEST_CASE("philox: the batched words of a stream equal its blocks one by one") {
  const RandomStream rng{0x0123456789abcdefull, 17, 5};
  // Ranges across the 32-bit carry of the block counter too.
  for (std::uint64_t first : {std::uint64_t{0}, std::uint64_t{1000}, std::uint64_t{0xfffffff0ull}}) {
    for (std::int64_t count : {1, 17, 100}) {
      std::vector<std::uint32_t> w(static_cast<std::size_t>(4 * count));
      rng.words(first, count, w.data());
      for (std::int64_t k = 0; k < count; ++k) {
        PhiloxCounter b = rng.block(first + static_cast<std::uint64_t>(k));
        for (std::size_t j = 0; j < 4; ++j) REQUIRE(w[static_cast<std::size_t>(4 * k) + j] == b[j]);
      }
    }
  }
}

TEST_CASE("philox: Philox4x32-10 matches Random123's known-answer vectors") {
  // Random123 tests/kat_vectors, "philox4x32 10" rows.
  CHECK(philox4x32_10({0, 0, 0, 0}, {0, 0}) == PhiloxCounter{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  CHECK(philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu}) ==
        PhiloxCounter{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
  CHECK(philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u}) ==
        PhiloxCounter{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
  // constexpr: usable at compile time.
  static_assert(philox4x32_10({0, 0, 0, 0}, {0, 0})[0] == 0x6627e8d5u);
}

TEST_CASE("philox: RandomStream layout (block counter - node - step - 64-bit seed as key)") {
  RandomStream s{0x0123456789abcdefull, 17, 42};
  std::uint64_t b = 0x100000003ull;  // needs the high counter word
  CHECK(s.block(b) == philox4x32_10({3u, 1u, 17u, 42u}, {0x89abcdefu, 0x01234567u}));
  for (std::uint64_t i = 4 * b; i < 4 * b + 4; ++i) {
    CHECK(s.uniform_at(i) == uniform_open01(s.block(b)[i % 4]));
    CHECK(s.uniform_at(i) > 0.0);
    CHECK(s.uniform_at(i) < 1.0);
  }
  CHECK(uniform_open01(0u) > 0.0);
  CHECK(uniform_open01(0xffffffffu) < 1.0);
}

TEST_CASE("random: Box-Muller in float stays within 4e-7 of the double definition, at every edge of its reductions") {
  // Where log(u) switches to log1p(-(1 - u)), the extreme uniforms, and the
  // first and last angle of every octant (the octant logic's swaps and signs).
  std::vector<std::uint32_t> words = {0u, 0xffu, 0x100u, 0x7fffffffu, 0x80000000u, 0x800000ffu, 0xffffff00u, 0xffffffffu};
  for (std::uint32_t o = 0; o < 8; ++o) {
    words.push_back(o << 29);
    words.push_back((o << 29) | 0x1fffffffu);
  }
  RandomStream stream{5, 6, 7};
  for (std::uint64_t b = 0; b < 50000; ++b)
    for (std::uint32_t w : stream.block(b)) words.push_back(w);
  double worst = 0;
  for (std::size_t i = 0; i + 1 < words.size(); ++i)
    for (std::uint32_t b : {words[i + 1], words[(i * 7919) % words.size()]}) {
      double d0, d1;
      float f0, f1;
      box_muller(words[i], b, d0, d1);
      box_muller_f32(words[i], b, f0, f1);
      worst = std::max({worst, std::abs(f0 - d0) / std::max(1.0, std::abs(d0)), std::abs(f1 - d1) / std::max(1.0, std::abs(d1))});
    }
  CHECK(worst < 4e-7);
  CHECK(worst > 0);  // float, not a copy of the double form
}

TEST_CASE("random: kernels follow the stream definition of their node and step") {
  Graph g;
  Value u = uniform(g, {1001}, -2.0, 3.0);
  Value z = randn(g, {3, 337});  // 1011 elements: the last block is partial
  for (Precision prec : {Precision::fast, Precision::reference}) {
    Session s(g, {.seed = 99, .precision = prec});
    s.set_step(7);
    auto out = s.run({}, {u, z});
    RandomStream su{99, static_cast<std::uint32_t>(u.id), 7}, sz{99, static_cast<std::uint32_t>(z.id), 7};
    bool fast = prec == Precision::fast;
    INFO("precision ", (fast ? "fast" : "reference"));
    for (std::int64_t i = 0; i < out[0].numel(); ++i) {
      double want = -2.0 + 5.0 * su.uniform_at(static_cast<std::uint64_t>(i));
      if (fast) REQUIRE(out[0].data<float>()[i] == static_cast<float>(want));
      else REQUIRE(out[0].data<double>()[i] == want);
    }
    for (std::int64_t i = 0; i < out[1].numel(); ++i) {
      double want = sz.normal_at(static_cast<std::uint64_t>(i));
      // fast: Box-Muller in float (box_muller_f32), a few ulps from the definition.
      if (fast) REQUIRE(std::abs(out[1].data<float>()[i] - want) <= 4e-7 * std::max(1.0, std::abs(want)));
      else REQUIRE(out[1].data<double>()[i] == want);
    }
  }
}

TEST_CASE("random: uniform(lo - hi) has the right range - mean and variance") {
  const std::int64_t n = 1 << 20;
  const double lo = -2.0, hi = 3.0, w = hi - lo;
  Graph g;
  Value u = uniform(g, {n}, lo, hi);
  Session s(g, {.seed = 1});
  std::vector<double> v = s.run({}, u).to_vector();
  double sum = 0, sq = 0, mn = hi, mx = lo;
  for (double x : v) { sum += x; mn = std::min(mn, x); mx = std::max(mx, x); }
  double mean = sum / n;
  for (double x : v) sq += (x - mean) * (x - mean);
  double var = sq / (n - 1);
  CHECK(mn > lo);
  CHECK(mx < hi);
  // Var(x) = w^2/12; the sample variance's variance is (mu4 - var^2)/n = w^4/(180 n).
  CHECK(std::abs(mean - (lo + hi) / 2) < kSigmas * std::sqrt(w * w / 12 / n));
  CHECK(std::abs(var - w * w / 12) < kSigmas * std::sqrt(w * w * w * w / 180 / n));
  // Ten equal bins, each within five standard errors of n/10.
  std::vector<double> bins(10, 0.0);
  for (double x : v) bins[std::min<std::size_t>(9, static_cast<std::size_t>((x - lo) / w * 10))] += 1;
  for (double c : bins) CHECK(std::abs(c / n - 0.1) < kSigmas * std::sqrt(0.1 * 0.9 / n));
}

TEST_CASE("random: randn is standard normal (moments and mass within 1 - 2 sigma)") {
  const std::int64_t n = 1 << 20;
  Graph g;
  Value z = randn(g, {1024, n / 1024});
  Session s(g, {.seed = 2});
  std::vector<double> v = s.run({}, z).to_vector();
  double m1 = 0, m2 = 0, m3 = 0, m4 = 0, in1 = 0, in2 = 0;
  for (double x : v) {
    m1 += x, m2 += x * x, m3 += x * x * x, m4 += x * x * x * x;
    in1 += std::abs(x) < 1.0;
    in2 += std::abs(x) < 2.0;
  }
  m1 /= n, m2 /= n, m3 /= n, m4 /= n, in1 /= n, in2 /= n;
  // Standard errors of the raw moments of N(0,1): sqrt(Var(z^k) / n).
  CHECK(std::abs(m1) < kSigmas * std::sqrt(1.0 / n));
  CHECK(std::abs(m2 - 1.0) < kSigmas * std::sqrt(2.0 / n));
  CHECK(std::abs(m3) < kSigmas * std::sqrt(15.0 / n));
  CHECK(std::abs(m4 - 3.0) < kSigmas * std::sqrt(96.0 / n));
  const double p1 = std::erf(1.0 / std::sqrt(2.0)), p2 = std::erf(2.0 / std::sqrt(2.0));  // 0.6827, 0.9545
  CHECK(std::abs(in1 - p1) < kSigmas * std::sqrt(p1 * (1 - p1) / n));
  CHECK(std::abs(in2 - p2) < kSigmas * std::sqrt(p2 * (1 - p2) / n));
}

TEST_CASE("random: bernoulli(p) fires with frequency p (p = 0 and 1 exactly)") {
  const std::int64_t n = 200000;
  Graph g;
  Value p = g.input("p", {Dim::batch()});
  Value b = bernoulli(p);
  Session s(g, {.seed = 3});
  for (double prob : {0.0, 0.05, 0.5, 0.9, 1.0}) {
    INFO("p = ", prob);
    Tensor out = s.run(batch_feed("p", Tensor::full(DType::f32, {n}, prob)), b);
    REQUIRE(out.shape() == Dims{n});
    double ones = 0;
    bool binary = true;
    for (double x : out.to_vector()) { ones += x; binary &= x == 0.0 || x == 1.0; }
    CHECK(binary);
    double freq = ones / n, pf = static_cast<float>(prob);
    if (prob == 0.0 || prob == 1.0) CHECK(freq == prob);
    else CHECK(std::abs(freq - pf) < kSigmas * std::sqrt(pf * (1 - pf) / n));
  }
}

TEST_CASE("random: categorical draws match softmax(logits)") {
  const std::int64_t rows = 200000;
  const std::vector<double> logits = {0.5, -1.0, 2.0, 0.0, 1.0, -3.0, 0.25};
  const auto k = static_cast<std::int64_t>(logits.size());
  std::vector<double> probs(logits.size());
  double z = 0;
  for (std::size_t j = 0; j < logits.size(); ++j) z += probs[j] = std::exp(logits[j]);
  for (auto& q : probs) q /= z;

  std::vector<double> fed;
  for (std::int64_t r = 0; r < rows; ++r) fed.insert(fed.end(), logits.begin(), logits.end());
  Graph g;
  Value x = g.input("logits", {Dim::batch(), k});
  Value c = categorical(x);
  CHECK(c.dtype() == DType::i32);
  CHECK(c.shape() == Dims{Dim::batch()});
  for (Precision prec : {Precision::fast, Precision::reference}) {
    INFO("precision ", (prec == Precision::fast ? "fast" : "reference"));
    Session s(g, {.seed = 4, .precision = prec});
    Tensor out = s.run(batch_feed("logits", Tensor::from(fed, {rows, k})), c);
    REQUIRE(out.shape() == Dims{rows});
    REQUIRE(out.dtype() == DType::i32);
    std::vector<double> counts(logits.size(), 0.0);
    for (std::int64_t r = 0; r < rows; ++r) {
      std::int32_t idx = out.data<std::int32_t>()[r];
      REQUIRE(idx >= 0);
      REQUIRE(idx < k);
      counts[static_cast<std::size_t>(idx)] += 1;
    }
    for (std::size_t j = 0; j < probs.size(); ++j) {
      INFO("category ", j, " p = ", probs[j], " freq = ", counts[j] / rows);
      CHECK(std::abs(counts[j] / rows - probs[j]) < kSigmas * std::sqrt(probs[j] * (1 - probs[j]) / rows));
    }
  }
}

TEST_CASE("random: categorical follows each row's own logits") {
  // Rows that put (almost) all mass on one category pick it.
  Graph g;
  Value x = g.input("logits", {Dim::batch(), 5});
  Value c = categorical(x);
  std::vector<double> fed;
  const std::int64_t rows = 1000;
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t j = 0; j < 5; ++j) fed.push_back(j == r % 5 ? 30.0 : -30.0);
  Session s(g, {.seed = 5});
  Tensor out = s.run(batch_feed("logits", Tensor::from(fed, {rows, 5})), c);
  for (std::int64_t r = 0; r < rows; ++r) REQUIRE(out.data<std::int32_t>()[r] == r % 5);
}

TEST_CASE("random: masking_noise keeps each element with probability 1 - p") {
  const std::int64_t rows = 1000, cols = 500, n = rows * cols;
  Graph g;
  Value x = g.input("x", {Dim::batch(), cols});
  Value y = masking_noise(x, 0.3);
  CHECK(y.shape() == x.shape());
  Session s(g, {.seed = 6});
  Tensor out = s.run(batch_feed("x", Tensor::full(DType::f32, {rows, cols}, 2.5)), y);
  REQUIRE(out.shape() == Dims{rows, cols});
  double kept = 0;
  bool values_ok = true;
  for (double v : out.to_vector()) { kept += v != 0.0; values_ok &= v == 0.0 || v == 2.5; }
  CHECK(values_ok);
  double pf = static_cast<float>(0.3);
  CHECK(std::abs(kept / n - (1 - pf)) < kSigmas * std::sqrt(pf * (1 - pf) / n));
  CHECK_THROWS_AS(masking_noise(x, 1.5), InvalidInput);
}

TEST_CASE("random: the reparameterized normal's gradient is (1 - eps)") {
  // loss = sum(mu + sigma * eps): d/dmu = 1 and d/dsigma = eps, summed over
  // the rows sigma broadcasts along; eps is recovered from the sample.
  const std::int64_t rows = 4, cols = 250;
  Graph g;
  Value mu = g.param("mu", {rows, cols}, Init::normal(1.0));
  Value sigma = g.param("sigma", {cols}, Init::uniform(0.5, 2.0));
  Value z = normal(mu, sigma);
  REQUIRE(z.shape() == Dims{rows, cols});
  std::vector<Value> d = grad(total(z), {mu, sigma});
  for (Precision prec : {Precision::fast, Precision::reference}) {
    bool fast = prec == Precision::fast;
    INFO("precision ", (fast ? "fast" : "reference"));
    const double tol = fast ? 1e-4 : 1e-10;
    Session s(g, {.seed = 7, .precision = prec});
    auto out = s.run({}, {z, d[0], d[1], mu, sigma});
    const Tensor &zs = out[0], &dmu = out[1], &dsigma = out[2], &m = out[3], &sg = out[4];
    REQUIRE(dmu.shape() == mu.shape());
    REQUIRE(dsigma.shape() == sigma.shape());
    for (std::int64_t i = 0; i < dmu.numel(); ++i) REQUIRE(dmu.at(i) == 1.0);
    std::vector<double> eps_sum(static_cast<std::size_t>(cols), 0.0);
    double eps_sq = 0;
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t c = 0; c < cols; ++c) {
        double eps = (zs.at(r * cols + c) - m.at(r * cols + c)) / sg.at(c);
        eps_sum[static_cast<std::size_t>(c)] += eps;
        eps_sq += eps * eps;
      }
    CHECK(eps_sq / (rows * cols) > 0.5);  // the noise is really there
    for (std::int64_t c = 0; c < cols; ++c) {
      INFO("column ", c);
      CHECK(std::abs(dsigma.at(c) - eps_sum[static_cast<std::size_t>(c)]) <
            tol * (1 + std::abs(eps_sum[static_cast<std::size_t>(c)])));
    }
  }
}

TEST_CASE("random: gaussian_rsample's gradient is (1 - exp(logvar/2) eps / 2)") {
  Graph g;
  Value mu = g.param("mu", {300}, Init::normal(1.0));
  Value logvar = g.param("logvar", {300}, Init::uniform(-2.0, 1.0));
  Value z = gaussian_rsample(mu, logvar);
  std::vector<Value> d = grad(total(z), {mu, logvar});
  Session s(g, {.seed = 8, .precision = Precision::reference});
  auto out = s.run({}, {z, d[0], d[1], mu, logvar});
  for (std::int64_t i = 0; i < 300; ++i) {
    double sd = std::exp(0.5 * out[4].at(i));
    double eps = (out[0].at(i) - out[3].at(i)) / sd;
    CHECK(out[1].at(i) == 1.0);
    CHECK(out[2].at(i) == doctest::Approx(0.5 * sd * eps).epsilon(1e-10));
  }
}

TEST_CASE("random: samples are bitwise equal on 1 - 2 and 3 threads") {
  ThreadBudgetGuard guard;
  const std::int64_t n = (1 << 20) + 3;  // a partial last block
  const std::int64_t k = 7, rows = 150001;  // 1,050,007 categorical stream elements
  Graph g;
  Value u = uniform(g, {n}, -1.0, 4.0);
  Value z = randn(g, {n});
  Value p = g.input("p", {Dim::batch()});
  Value b = bernoulli(p);
  Value logits = g.input("logits", {rows, k});
  Value c = categorical(logits);
  std::vector<double> pv(static_cast<std::size_t>(n)), lv(static_cast<std::size_t>(rows * k));
  for (std::size_t i = 0; i < pv.size(); ++i) pv[i] = static_cast<double>(i % 97) / 96.0;
  for (std::size_t i = 0; i < lv.size(); ++i) lv[i] = static_cast<double>((i * 7919) % 13) / 4.0 - 1.5;
  Feeds feeds{{"p", Tensor::from(pv, {n})}, {"logits", Tensor::from(lv, {rows, k})}};

  auto sample = [&](int threads) {
    set_num_threads(threads);
    Session s(g, {.seed = 9});
    s.set_step(3);
    return s.run(feeds, {u, z, b, c});
  };
  std::vector<Tensor> one = sample(1);
  for (int threads : {2, 3}) {
    std::vector<Tensor> many = sample(threads);
    const char* names[] = {"uniform", "randn", "bernoulli", "categorical"};
    for (std::size_t i = 0; i < one.size(); ++i) {
      INFO(names[i], " on ", threads, " threads");
      REQUIRE(one[i].shape() == many[i].shape());
      REQUIRE(one[i].nbytes() == many[i].nbytes());
      CHECK(std::memcmp(one[i].raw(), many[i].raw(), one[i].nbytes()) == 0);
    }
  }
}

TEST_CASE("random: streams are keyed by seed - node and step") {
  Graph g;
  Value a = uniform(g, {64});
  Value b = uniform(g, {64});  // same op and shape, another node
  auto draw = [&](std::uint64_t seed, std::uint64_t step) {
    Session s(g, {.seed = seed});
    s.set_step(step);
    return s.run({}, {a, b});
  };
  auto same = [](const Tensor& x, const Tensor& y) { return x.to_vector() == y.to_vector(); };
  auto base = draw(1, 5);
  CHECK(same(base[0], draw(1, 5)[0]));        // same seed and step: the same sample
  CHECK_FALSE(same(base[0], draw(1, 6)[0]));  // another step
  CHECK_FALSE(same(base[0], draw(2, 5)[0]));  // another seed
  CHECK_FALSE(same(base[0], base[1]));        // another node

  // Session::run advances the step, so consecutive runs differ.
  Session s(g, {.seed = 1});
  s.set_step(5);
  Tensor first = s.run({}, a), second = s.run({}, a);
  CHECK(s.step() == 7);
  CHECK(same(first, base[0]));
  CHECK_FALSE(same(first, second));
}

TEST_CASE("random: shape rules and errors name the problem") {
  Graph g;
  CHECK(uniform(g, {Dim::batch(), 3}).shape() == Dims{Dim::batch(), 3});
  CHECK_THROWS_AS(uniform(g, {2, -3}), InvalidInput);
  CHECK_THROWS_AS(uniform(g, {2}, 1.0, 0.0), InvalidInput);
  Value s = g.param("s", {}, Init::zeros());
  CHECK_THROWS_AS(categorical(s), InvalidInput);  // no category axis
  Value lab = g.state("labels", {4}, Init::zeros(), DType::i32);
  CHECK_THROWS_AS(bernoulli(lab), InvalidInput);
  Value l = g.input("l", {3, Dim::batch()});
  CHECK_THROWS_AS(categorical(l), InvalidInput);  // batch as the category axis
  Value m = g.param("m", {3, 4}, Init::zeros()), sd = g.param("sd", {5}, Init::zeros());
  CHECK_THROWS_WITH_AS(normal(m, sd), doctest::Contains("do not broadcast"), InvalidInput);
  // A batched sample needs a batched input in the same run.
  Value x = g.input("x", {Dim::batch(), 3});
  Value y = x + randn_like(x);
  Session sess(g);
  Tensor out = sess.run(Feeds{{"x", Tensor::zeros(DType::f32, {6, 3})}}, y);
  CHECK(out.shape() == Dims{6, 3});
  CHECK_THROWS_AS(sess.run({}, randn_like(x)), InvalidInput);
}

// Fast (block-wise, parallel) and reference (element-wise, sequential) kernels
// on the same stream. The large shapes split into several parallel chunks,
// and sizes that are not multiples of 4 put rows and chunk edges mid-block.
ANNEAL_OP_CASES("random: fast kernels draw the reference kernels' stream", {
    OpCase{.name = "uniform", .ops = {"uniform"},
           .build = [](Graph& g, const std::vector<Value>&) { return uniform(g, k357, -2.0, 3.0); },
           .stochastic = true},
    OpCase{.name = "uniform large", .ops = {"uniform"},
           .build = [](Graph& g, const std::vector<Value>&) { return uniform(g, {129, 257}); },
           .stochastic = true},
    OpCase{.name = "randn", .ops = {"randn"},
           .build = [](Graph& g, const std::vector<Value>&) { return randn(g, k357); }, .stochastic = true},
    OpCase{.name = "randn large", .ops = {"randn"},
           .build = [](Graph& g, const std::vector<Value>&) { return randn(g, {129, 257}); }, .stochastic = true},
    OpCase{.name = "bernoulli", .ops = {"bernoulli"}, .inputs = {{k357, 0.0, 1.0}},
           .build = [](Graph&, const std::vector<Value>& x) { return bernoulli(x[0]); }, .fast_tol = 0.0,
           .stochastic = true},
    OpCase{.name = "bernoulli large", .ops = {"bernoulli"}, .inputs = {{{129, 257}, 0.0, 1.0}},
           .build = [](Graph&, const std::vector<Value>& x) { return bernoulli(x[0]); }, .fast_tol = 0.0,
           .stochastic = true},
    OpCase{.name = "categorical", .ops = {"categorical"}, .inputs = {{k357, -2.0, 2.0}},
           .build = [](Graph&, const std::vector<Value>& x) { return categorical(x[0]); }, .fast_tol = 0.0,
           .stochastic = true},
    OpCase{.name = "categorical large, 33 categories", .ops = {"categorical"}, .inputs = {{{2049, 33}, -2.0, 2.0}},
           .build = [](Graph&, const std::vector<Value>& x) { return categorical(x[0]); }, .fast_tol = 0.0,
           .stochastic = true},
    // The composites: the harness evaluates every run at step 0, so the noise
    // is fixed and the samples are smooth functions of their inputs, whose
    // gradients can be checked by finite differences like any other op's.
    OpCase{.name = "normal(mu, sigma), sigma broadcast", .ops = {"randn", "mul", "add"},
           .inputs = {{k357}, {{5, 7}, 0.5, 2.0}},
           .build = [](Graph&, const std::vector<Value>& x) { return normal(x[0], x[1]); }, .second_order = true},
    OpCase{.name = "gaussian_rsample", .ops = {"randn", "exp", "mul", "add"}, .inputs = {{k357}, {k357, -2.0, 1.0}},
           .build = [](Graph&, const std::vector<Value>& x) { return gaussian_rsample(x[0], x[1]); },
           .second_order = true},
    OpCase{.name = "masking_noise", .ops = {"uniform", "greater", "mul"}, .inputs = {{k357}},
           .build = [](Graph&, const std::vector<Value>& x) { return masking_noise(x[0], 0.4); }},
});
