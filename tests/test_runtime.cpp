// The compiled runtime: agreement with the f64 reference interpreter, CSE,
// fusion, GEMM counts, memory planning, concurrency, reproducibility.
#include <doctest/doctest.h>

#include <sstream>

#include <barrier>
#include <chrono>
#include <cmath>
#include <limits>
#include <vector>
#include <thread>

#include "tests/model_graphs.hpp"
#include "backend/cache.hpp"
#include "backend/finite.hpp"
#include "tests/op_check.hpp"

using namespace anneal;
using namespace anneal::test;
using anneal::test::rel_l2;

namespace {


struct ThreadsGuard {
  int saved = num_threads();
  ~ThreadsGuard() { set_num_threads(saved); }
};

void check_against_reference(ModelGraph m, const std::string& name) {
  ThreadsGuard guard;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Session fast(*m.g, {.seed = 7});
    Session ref(*m.g, {.seed = 7, .precision = Precision::reference});
    for (const Value& p : m.g->params()) ref.set(p.name(), fast.get(p.name()));
    auto a = fast.run(m.feeds, m.fetches);
    auto b = ref.run(m.feeds, m.fetches);
    for (std::size_t i = 0; i < a.size(); ++i) {
      INFO(name, " with ", threads, " threads: ", m.fetches[i].name());
      CHECK(rel_l2(a[i], b[i]) <= 1e-5);
    }
  }
}

}  // namespace

TEST_CASE("runtime: the compiled MLP - VAE - RBM CD-1 and GAN match the f64 reference interpreter") {
  check_against_reference(mlp_graph(30, 20, 9), "mlp");
  check_against_reference(vae_graph(30, 20, 4, 9), "vae");
  // Weights of a trained RBM's scale: at N(0, 0.01^2) the bias gradients
  // are differences of nearly equal means, too ill-conditioned for 1e-5.
  check_against_reference(rbm_cd1_graph(30, 20, 9, 0.3), "rbm");
  check_against_reference(gan_graph(8, 20, 30, 9), "gan");
}

TEST_CASE("runtime: the compiled MLP step fuses matmul + bias + activation and elementwise chains") {
  ModelGraph m = mlp_graph();
  Session s(*m.g);
  const Program& p = s.program(m.fetches, updates_of(m), 100);
  INFO(p.describe());
  CHECK(p.stats().fused_matmuls >= 2);
  CHECK(p.describe().find("gemm+bias+relu") != std::string::npos);
  CHECK(p.stats().fused_groups >= 6);  // one per parameter update at least
  CHECK(p.stats().in_place_assigns == 12);  // 6 params + 6 velocities, written where they live
  CHECK(p.stats().cse_merged > 0);
}

TEST_CASE("runtime: a profiled program reports a mean time for every step and stops when asked") {
  ModelGraph m = mlp_graph();
  Session s(*m.g);
  Program& p = s.program(m.fetches, updates_of(m), 100);
  const std::string plain = p.describe();
  CHECK(plain.find(" us  ") == std::string::npos);
  p.set_profiling(true);
  for (int i = 0; i < 3; ++i) s.run_views(m.feeds, m.fetches, updates_of(m));
  const std::string timed = p.describe();
  INFO(timed);
  std::istringstream lines(timed);
  int steps = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("commit ", 0) == 0) continue;
    ++steps;
    const double us = std::stod(line);  // each step line starts with its time
    CHECK(us >= 0);
    CHECK(line.find(" us  L") != std::string::npos);
  }
  CHECK(steps == p.stats().steps);
  p.set_profiling(false);
  CHECK(p.describe() == plain);
}

TEST_CASE("runtime: CD-1 compiles to the 7 GEMMs the math needs") {
  ModelGraph m = rbm_cd1_graph();
  Session s(*m.g);
  const Program& p = s.program({m.fetches[0]}, updates_of(m), 100);
  INFO(p.describe());
  // v0 W, h0 W^T, v1 W, v0^T ph0, v1^T ph1: the forward v0 W is shared with
  // the free energy's by CSE, and no gradient of the data is computed. The
  // visible bias's gradient is a GEMV per phase, r^T v (ops/binary.cpp).
  CHECK(p.stats().gemms == 7);
  std::istringstream lines(p.describe());
  int gemvs = 0;
  for (std::string line; std::getline(lines, line);)
    gemvs += line.find(" gemm grad(mul_") != std::string::npos && line.ends_with("-> [1, 784]");
  CHECK(gemvs == 2);
  // The two weight-gradient products accumulate into one buffer (the
  // reference test above checks the numbers).
  CHECK(p.describe().find("gemm+gemm") != std::string::npos);
}

TEST_CASE("runtime: a step that fetches only gradients does not compute the loss they are shaped like") {
  // grad(loss) seeds with broadcast_like(1, loss): the loss's shape is read,
  // its value is not, so CD-1's updates alone need no softplus of the free energy.
  ModelGraph m = rbm_cd1_graph(60, 40, 16);
  auto train = [&](bool fetch_loss, std::string* described) {
    Session s(*m.g, {.seed = 5});
    std::vector<Value> fetches;
    if (fetch_loss) fetches.push_back(m.fetches[0]);
    for (int i = 0; i < 3; ++i) s.run(m.feeds, fetches, updates_of(m));
    *described = s.program(fetches, updates_of(m), 16).describe();
    return s.get("rbm.W").to_vector();
  };
  std::string with_loss, updates_only;
  auto a = train(true, &with_loss);
  auto b = train(false, &updates_only);
  INFO(updates_only);
  // describe() lines read "L<level> <ops> <node name>"; gradient nodes are
  // named after the forward node, so look at the ops only.
  auto runs_softplus = [](const std::string& described) {
    std::istringstream lines(described);
    std::string level, ops, rest;
    while (lines >> level >> ops && std::getline(lines, rest))
      if (ops.find("softplus") != std::string::npos) return true;
    return false;
  };
  CHECK(runs_softplus(with_loss));
  CHECK_FALSE(runs_softplus(updates_only));
  REQUIRE(a.size() == b.size());
  double max_diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) max_diff = std::max(max_diff, std::abs(double(a[i]) - b[i]));
  CHECK(max_diff < 1e-6);
}

TEST_CASE("runtime: planned memory of the deep autoencoder is at most half of the unplanned sum") {
  Graph g("deep_ae");
  Value x = g.input("x", {Dim::batch(), 784});
  Value h = x;
  std::vector<std::int64_t> sizes{1000, 500, 250, 30, 250, 500, 1000};
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    h = nn::linear(g, "l" + std::to_string(i), h, sizes[i]);
    if (sizes[i] != 30) h = sigmoid(h);
  }
  Value loss = sum(bce_with_logits(nn::linear(g, "out", h, 784), x)) / 100.0;
  auto params = g.params();
  Optimizer opt = sgd(g, "opt", params, grad(loss, params), {.lr = 0.01, .momentum = 0.9});
  Session s(g);
  const Program& p = s.program({loss}, opt.updates(), 100);
  MESSAGE("deep autoencoder: planned peak ", p.stats().arena_bytes / 1024, " KiB of ",
          p.stats().unplanned_bytes / 1024, " KiB unplanned");
  CHECK(p.stats().arena_bytes * 2 <= p.stats().unplanned_bytes);
}

namespace {
// A test op whose kernel waits for its twin: both finish only if they really
// run at the same time. The wait has a timeout, so a sequential schedule
// fails the test instead of hanging it.
std::atomic<int> g_arrived{0};
std::atomic<int> g_met{0};
void rendezvous_kernel(KernelArgs& a) {
  g_arrived.fetch_add(1);
  auto start = std::chrono::steady_clock::now();
  while (g_arrived.load() < 2 && std::chrono::steady_clock::now() - start < std::chrono::seconds(5))
    std::this_thread::yield();
  if (g_arrived.load() >= 2) g_met.fetch_add(1);
  a.out.copy_from(*a.in[0]);
}
TypeInfo same_type(const Node& n) { return n.input_type(0); }
const OpDef kRendezvous{.name = "test_rendezvous", .min_inputs = 1, .max_inputs = 1, .infer = same_type,
                        .fast = rendezvous_kernel, .ref = rendezvous_kernel, .not_differentiable = "test op"};
}  // namespace

TEST_CASE("runtime: independent branches run concurrently with 4 threads and in order with 2") {
  ThreadsGuard guard;
  set_num_threads(4);
  Graph g;
  Value x = g.input("x", {Dim::batch(), 256});
  Value a = g.add(kRendezvous, {x * 2.0});
  Value b = g.add(kRendezvous, {x * 3.0});
  Value y = a + b;
  Session s(g);
  g_arrived = 0;
  g_met = 0;
  Tensor out = s.run({{"x", Tensor::full(DType::f32, {256, 256}, 1.0)}}, y);
  CHECK(g_met.load() == 2);
  CHECK(out.at(0) == 5.0);
  CHECK(s.program({y}, {}, 256).stats().concurrent_levels >= 1);
  // With 2 threads each branch would get one: in order, each with both.
  set_num_threads(2);
  CHECK(s.program({y}, {}, 256).stats().concurrent_levels == 0);
}

TEST_CASE("runtime: the same seed and thread count give bitwise-identical parameters after 100 steps") {
  auto train = [](int threads) {
    ThreadsGuard guard;
    set_num_threads(threads);
    ModelGraph m = rbm_cd1_graph(64, 32, 20);  // stochastic: Bernoulli hidden units
    Session s(*m.g, {.seed = 5});
    Trainer t(s, m.fetches[0], m.optimizers);
    for (int i = 0; i < 100; ++i) t.step(m.feeds);
    return s.get("rbm.W").to_vector();
  };
  CHECK(train(2) == train(2));
  CHECK(train(1) == train(1));
}

TEST_CASE("runtime: CSE - fusion and in-place updates do not change the numbers") {
  ModelGraph m = mlp_graph(40, 30, 16);
  auto run = [&](CompileOptions o) {
    Session s(*m.g, {.seed = 3, .compile = o});
    Trainer t(s, m.fetches[0], m.optimizers);
    for (int i = 0; i < 5; ++i) t.step(m.feeds);
    return s.get("fc1.W").to_vector();
  };
  auto plain = run({.cse = false, .fuse_matmul = false, .fuse_elementwise = false, .concurrent = false,
                    .in_place_updates = false});
  auto full = run({});
  double max_diff = 0;
  for (std::size_t i = 0; i < plain.size(); ++i) max_diff = std::max(max_diff, std::abs(plain[i] - full[i]));
  CHECK(max_diff < 1e-5);
}

TEST_CASE("runtime: a fused pass spreads a per-row column, a bias row and a scalar itself, as the reference does") {
  ThreadsGuard guard;
  Graph g;
  Value x = g.input("x", {Dim::batch(), 700});
  Value r = g.input("r", {Dim::batch(), 1});
  Value b = g.param("b", {700}, Init::normal(0.0, 1.0));
  // broadcast_like as a pass member (its `like` read for the shape only), a
  // [B, 1] column as a mul operand, a bias row and a scalar.
  Value y = -broadcast_like(r, x) * exp(x * 0.5) + b;
  Value z = x * r;  // alone: the lone kernel's per-row runs
  Feeds feeds{{"x", Tensor::empty(DType::f32, {9, 700})}, {"r", Tensor::empty(DType::f32, {9, 1})}};
  for (std::int64_t i = 0; i < 9 * 700; ++i) feeds["x"].data<float>()[i] = std::sin(0.37f * static_cast<float>(i));
  for (std::int64_t i = 0; i < 9; ++i) feeds["r"].data<float>()[i] = 0.5f + static_cast<float>(i);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Session fast(g, {.seed = 4});
    Session ref(g, {.seed = 4, .precision = Precision::reference});
    ref.set("b", fast.get("b"));
    const std::string d = fast.program({y, z}, {}, 9).describe();
    INFO(d);
    CHECK(d.find("broadcast_like+neg") != std::string::npos);  // a member of the pass
    CHECK(d.find(" broadcast_like ") == std::string::npos);  // never a step of its own
    auto a = fast.run(feeds, {y, z});
    auto e = ref.run(feeds, {y, z});
    CHECK(rel_l2(a[0], e[0]) <= 1e-6);
    CHECK(rel_l2(a[1], e[1]) <= 1e-6);
    CHECK(a[1].data<float>()[700 * 3 + 5] == feeds["x"].data<float>()[700 * 3 + 5] * 3.5f);
  }
}

TEST_CASE("runtime: an optimizer update as one compound loop gives the bits of its ops' loops") {
  ThreadsGuard guard;
  // Adam (four ops per parameter), SGD momentum (two), Adam with weight decay
  // (the decay's ops stay separate, the compound reads their result).
  for (int which = 0; which < 3; ++which) {
    ModelGraph m = which == 0 ? vae_graph(50, 40, 6, 16) : which == 1 ? mlp_graph(50, 40, 16) : ModelGraph{};
    if (which == 2) {
      Graph& g = *m.g;
      Value x = g.input("x", {Dim::batch(), 30});
      Value loss = mean(square(nn::linear(g, "fc", x, 20)));
      std::vector<Value> params = g.params();
      m.optimizers.push_back(adam(g, "adam", params, grad(loss, params), {.weight_decay = 0.01}));
      m.fetches = {loss};
      m.feeds = {{"x", Tensor::full(DType::f32, {16, 30}, 0.25)}};
    }
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      auto run = [&](bool compound, int* compounds) {
        Session s(*m.g, {.seed = 9, .compile = {.compound_kernels = compound}});
        std::vector<Value> updates = updates_of(m);
        for (int i = 0; i < 4; ++i) s.run(m.feeds, {m.fetches[0]}, updates);
        *compounds = s.program({m.fetches[0]}, updates, 16).stats().compound_kernels;
        std::vector<std::vector<double>> state;
        for (const Value& p : m.g->params()) state.push_back(s.get(p.name()).to_vector());
        return state;
      };
      INFO("model ", which, ", ", threads, " threads");
      int with = 0, without = 0;
      auto a = run(true, &with), b = run(false, &without);
      CHECK(with >= 2);  // a weight's and a bias's update at least
      CHECK(without == 0);
      CHECK(a == b);
    }
  }
}

TEST_CASE("runtime: a large parameter updated in place on 2 threads can be streamed out and trains the same") {
  ThreadsGuard guard;
  set_num_threads(2);
  ModelGraph m = mlp_graph(1200, 1100, 16);  // fc1.W: 5 MB, past any core's L2 we know of
  auto run = [&](bool in_place, int* streamed) {
    Session s(*m.g, {.seed = 5, .compile = {.in_place_updates = in_place, .stream_updates = true}});
    std::vector<Value> updates = updates_of(m);
    for (int i = 0; i < 3; ++i) s.run(m.feeds, {m.fetches[0]}, updates);
    *streamed = s.program({m.fetches[0]}, updates, 16).stats().streamed_updates;
    return s.get("fc1.W").to_vector();
  };
  int streamed = 0, copied = 0;
  auto a = run(true, &streamed), b = run(false, &copied);
  CHECK(streamed >= 1);
  CHECK(copied == 0);  // not in place: the new value goes to the arena, cached
  // The same arithmetic up to the last bit.
  double max_diff = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  CHECK(max_diff <= 1e-6 * scale);
  // By default only where the CPUs do not share one L3 cache.
  const int by_default = Session(*m.g).program({m.fetches[0]}, updates_of(m), 16).stats().streamed_updates;
  CHECK((by_default >= 1) == !cpus_share_l3());
  CHECK(Session(*m.g, {.compile = {.stream_updates = false}}).program({m.fetches[0]}, updates_of(m), 16).stats().streamed_updates == 0);
  set_num_threads(1);
  CHECK(Session(*m.g, {.compile = {.stream_updates = true}}).program({m.fetches[0]}, updates_of(m), 16).stats().streamed_updates == 0);
}

TEST_CASE("runtime: which CPUs share an L3 is read from sysfs CPU lists") {
  CHECK(parse_cpu_list("0-3,8,10-11") == std::vector<int>{0, 1, 2, 3, 8, 10, 11});
  CHECK(parse_cpu_list("5") == std::vector<int>{5});
  CHECK(parse_cpu_list("3-1").empty());
  CHECK(parse_cpu_list("x").empty());
  CHECK(parse_cpu_list("0-").empty());
}

TEST_CASE("runtime: a fused momentum update follows a changed momentum like the plain program") {
  ModelGraph m = mlp_graph(40, 30, 16);
  auto run = [&](CompileOptions o, std::string* described) {
    Session s(*m.g, {.seed = 3, .compile = o});
    Trainer t(s, m.fetches[0], m.optimizers);
    for (int i = 0; i < 3; ++i) t.step(m.feeds);
    m.optimizers[0].set(s, "momentum", 0.5);  // the GEMM's sum post-op is rebuilt with the new scale
    for (int i = 0; i < 3; ++i) t.step(m.feeds);
    if (described) *described = s.program({m.fetches[0]}, updates_of(m), 16).describe();
    return s.get("fc1.W").to_vector();
  };
  std::string fused_steps;
  auto plain = run({.fuse_matmul = false, .in_place_updates = false}, nullptr);
  auto fused = run({}, &fused_steps);
  INFO(fused_steps);
  // The velocity and weight updates run as one pass (read by the runtime, not baked in at compile).
  CHECK(fused_steps.find("fused axpby+axpby") != std::string::npos);
  double max_diff = 0;
  for (std::size_t i = 0; i < plain.size(); ++i) max_diff = std::max(max_diff, std::abs(plain[i] - fused[i]));
  CHECK(max_diff < 1e-5);
  // And the momentum really changed the trajectory (the check above can fail).
  auto steady = [&] {
    Session s(*m.g, {.seed = 3});
    Trainer t(s, m.fetches[0], m.optimizers);
    for (int i = 0; i < 6; ++i) t.step(m.feeds);
    return s.get("fc1.W").to_vector();
  }();
  double moved = 0;
  for (std::size_t i = 0; i < plain.size(); ++i) moved = std::max(moved, std::abs(steady[i] - fused[i]));
  CHECK(moved > 1e-4);
}

TEST_CASE("runtime: a state that is a GEMM operand is updated from the product only after the GEMM has read it") {
  // v <- 0.5 v + v x: the GEMM reads v, so writing v while it runs would be wrong.
  auto run = [](CompileOptions o) {
    Graph g;
    // Big enough that the GEMM writes some tiles of v before reading others.
    Value x = g.input("x", {128, 128});
    Value v = g.state("v", {128, 128}, Init::constant(0.25));
    Value mu = g.state("mu", {}, Init::constant(0.5));
    Session s(g, {.compile = o});
    std::vector<double> xs(128 * 128);
    for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = 0.01 * static_cast<double>(i % 7) - 0.03;
    Feeds feeds{{"x", Tensor::from(xs, {128, 128})}};
    Value update = assign(v, mu * v + matmul(v, x));
    for (int i = 0; i < 3; ++i) s.run(feeds, {}, {update});
    return s.get("v").to_vector();
  };
  auto plain = run({.fuse_matmul = false, .in_place_updates = false});
  auto fused = run({});
  double max_diff = 0;
  for (std::size_t i = 0; i < plain.size(); ++i) max_diff = std::max(max_diff, std::abs(plain[i] - fused[i]));
  CHECK(max_diff < 1e-6);
}

TEST_CASE("runtime: results of run() stay valid and fetching a param returns its value before the update") {
  Graph g;
  Value w = g.param("w", {3}, Init::constant(1.0));
  Value upd = assign(w, w + 1.0);
  Session s(g);
  auto first = s.run({}, {w}, {upd});
  auto second = s.run({}, {w}, {upd});
  CHECK(first[0].at(0) == 1.0);
  CHECK(second[0].at(0) == 2.0);
  CHECK(s.get("w").at(0) == 3.0);
}

TEST_CASE("runtime: a NaN inside a fused step still names the exact node") {
  Graph g;
  Value x = g.input("x", {Dim::batch(), 4});
  Value bad = log(x - 1.0);
  Value y = bad * 2.0 + 1.0;
  Session s(g);
  try {
    s.run({{"x", Tensor::full(DType::f32, {2, 4}, 0.5)}}, y);
    FAIL("expected a NaN error");
  } catch (const RunError& e) {
    CHECK(std::string(e.what()).find("'" + bad.name() + "'") != std::string::npos);
    CHECK(std::string(e.what()).find("op log") != std::string::npos);
  }
}

TEST_CASE("runtime: one NaN anywhere in a large value is caught, in every thread's part of the scan") {
  ThreadsGuard guard;
  const std::int64_t n = 1 << 20;
  std::vector<float> v(static_cast<std::size_t>(n), 1.0f);
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    CHECK(all_finite(v.data(), n));
    for (std::int64_t at : {std::int64_t{0}, n / 3, n / 2 + 1, n - 1}) {
      INFO(threads, " threads, NaN at ", at);
      v[static_cast<std::size_t>(at)] = std::nanf("");
      CHECK_FALSE(all_finite(v.data(), n));
      v[static_cast<std::size_t>(at)] = std::numeric_limits<float>::infinity();
      CHECK_FALSE(all_finite(v.data(), n));
      v[static_cast<std::size_t>(at)] = 1.0f;
    }
  }
}

TEST_CASE("runtime: the NaN/Inf scan tells every finite extreme from every non-finite value, in float and double") {
  auto check = [](auto zero) {
    using T = decltype(zero);
    using L = std::numeric_limits<T>;
    std::vector<T> v(37, T(1));  // not a multiple of any vector width
    for (T finite : {L::max(), -L::max(), L::min(), L::denorm_min(), -L::denorm_min(), T(0), -T(0)}) {
      v[29] = finite;
      CHECK(all_finite(v.data(), static_cast<std::int64_t>(v.size())));
    }
    for (T bad : {L::infinity(), -L::infinity(), L::quiet_NaN(), -L::quiet_NaN(), L::signaling_NaN()}) {
      for (std::size_t at : {std::size_t{0}, std::size_t{17}, v.size() - 1}) {
        INFO("at ", at);
        v[at] = bad;
        CHECK_FALSE(all_finite(v.data(), static_cast<std::int64_t>(v.size())));
        v[at] = T(1);
      }
    }
  };
  check(0.0f);
  check(0.0);
}

TEST_CASE("runtime: a fused pass that checks its own chunks catches a NaN in its last chunk and in a side output") {
  ThreadsGuard guard;
  // x - 1 > 0 everywhere but at one element, whose log is NaN.
  const std::int64_t rows = 10, cols = 3000;  // several chunks per thread
  Tensor xs = Tensor::full(DType::f32, {rows, cols}, 2.0);
  xs.data<float>()[rows * cols - 1] = 0.5f;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    INFO(threads, " threads");
    {
      // The NaN reaches the pass's own output.
      Graph g;
      Value x = g.input("x", {rows, cols});
      Value bad = log(x - 1.0);
      Value y = bad * 2.0 + 1.0;
      Session s(g);
      CHECK(s.program({y}, {}, 0).stats().fused_groups == 1);
      CHECK_THROWS_WITH_AS(s.run({{"x", xs}}, y), doctest::Contains("op log"), RunError);
    }
    {
      // The NaN only in a side output (a state's new value); the pass's own
      // output (a comparison) is finite.
      Graph g;
      Value x = g.input("x", {rows, cols});
      Value st = g.state("st", {rows, cols}, Init::zeros());
      Value bad = log(x - 1.0);
      Value flag = greater(bad, x * 0.0);
      Value update = assign(st, bad);
      Session s(g);
      CHECK(s.program({flag}, {update}, 0).stats().fused_groups == 1);
      CHECK_THROWS_WITH_AS(s.run({{"x", xs}}, {flag}, {update}), doctest::Contains("op log"), RunError);
    }
  }
}

TEST_CASE("runtime: a GEMM's NaN is caught by the fused pass that scans it as it reads it") {
  ThreadsGuard guard;
  Tensor xs = Tensor::full(DType::f32, {64, 300}, 0.5);
  xs.data<float>()[64 * 300 - 1] = std::numeric_limits<float>::infinity();  // x^T x: Inf and NaN (Inf * 0)
  xs.data<float>()[64 * 300 - 2] = 0.0f;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    INFO(threads, " threads");
    Graph g;
    Value x = g.input("x", {64, 300});
    Value st = g.state("st", {300, 300}, Init::zeros());
    Value v = matmul(x, x, true, false);
    // The pass's own output is finite whatever v holds: only the scan of its
    // operand can see v's NaN.
    Value flag = greater(v * 2.0, st);
    Session s(g);
    Program& p = s.program({flag}, {}, 0);
    CHECK(p.stats().gemms == 1);
    CHECK(p.stats().fused_groups == 1);
    CHECK_THROWS_AS(s.run({{"x", xs}}, flag), RunError);
    xs.data<float>()[64 * 300 - 1] = 1.0f;
    CHECK_NOTHROW(s.run({{"x", xs}}, flag));
    xs.data<float>()[64 * 300 - 1] = std::numeric_limits<float>::infinity();
  }
}
