// A GEMM whose product outgrows the L2 cache runs panel by panel inside the
// fused pass that reads it (runtime/gemm_step.hpp): same numbers as running
// them one after the other, on any thread count, and NaNs are still caught.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tests/model_graphs.hpp"

using namespace anneal;
using namespace anneal::test;

namespace {

struct ThreadsGuard {
  int saved = num_threads();
  ~ThreadsGuard() { set_num_threads(saved); }
};

// Products of 4-6 MB: larger than any core's L2 we know of, so they are panelled.
std::vector<std::pair<std::string, ModelGraph>> big_models() {
  std::vector<std::pair<std::string, ModelGraph>> m;
  m.emplace_back("MLP, SGD with momentum (two axpby per weight)", mlp_graph(1200, 1100, 32));
  m.emplace_back("MLP, plain SGD (a lone axpby per weight becomes a one-member pass)", mlp_graph(1200, 1100, 32, 0.0));
  m.emplace_back("VAE, Adam (plain gradients)", vae_graph(1500, 900, 8, 32));
  m.emplace_back("RBM CD-1 (two products in one GEMM)", rbm_cd1_graph(1200, 1100, 32));
  return m;
}

}  // namespace

TEST_CASE("runtime: panelled GEMM + update passes train the same weights as GEMM then pass, on 1-3 threads") {
  ThreadsGuard guard;
  for (auto& [name, m] : big_models()) {
    const std::string first_param = m.g->params().front().name();
    auto train = [&](bool panels, int* panelled) {
      Session s(*m.g, {.seed = 11, .compile = {.panel_gemms = panels}});
      std::vector<Value> updates = updates_of(m);
      for (int i = 0; i < 3; ++i) s.run(m.feeds, {m.fetches[0]}, updates);
      *panelled = s.program({m.fetches[0]}, updates, 32).stats().panelled_gemms;
      return s.get(first_param).to_vector();
    };
    const std::vector<double> initial = Session(*m.g, {.seed = 11}).get(first_param).to_vector();
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      INFO(name, " with ", threads, " threads");
      int with = 0, without = 0;
      auto plain = train(false, &without);
      auto panelled = train(true, &with);
      CHECK(without == 0);
      CHECK(with >= 1);
      double diff = 0, moved = 0, scale = 0;
      for (std::size_t i = 0; i < plain.size(); ++i) {
        diff = std::max(diff, std::abs(plain[i] - panelled[i]));
        moved = std::max(moved, std::abs(plain[i] - initial[i]));
        scale = std::max(scale, std::abs(plain[i]));
      }
      CHECK(diff <= 1e-6 * scale);
      CHECK(moved > 1e-3 * scale);  // training moved every compared weight's matrix
    }
  }
}

TEST_CASE("runtime: a NaN in a panelled GEMM's product is caught and names the GEMM") {
  ThreadsGuard guard;
  const std::int64_t batch = 16, in = 1200, out = 1100;
  Tensor xs = Tensor::full(DType::f32, {batch, in}, 0.5);
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    for (std::int64_t col : {std::int64_t{0}, in / 2, in - 1}) {  // first, middle and last panel
      INFO(threads, " threads, NaN in column ", col);
      Graph g;
      Value x = g.input("x", {batch, in});
      Value d = g.input("d", {batch, out});
      Value w = g.param("w", {in, out}, Init::zeros());
      Value grad_w = matmul(x, d, true, false);
      Value update = assign(w, w - 0.1 * grad_w);
      Session s(g, {.compile = {.panel_gemms = true}});
      const ProgramStats& stats = s.program({}, {update}, 0).stats();
      REQUIRE(stats.panelled_gemms == 1);
      // Only the update reads the gradient: it exists a panel at a time, in
      // per-thread buffers, and takes no place in the arena.
      CHECK(stats.arena_bytes < static_cast<std::size_t>(in * out) * sizeof(float));
      Tensor bad = xs.clone();
      bad.data<float>()[3 * in + col] = std::numeric_limits<float>::quiet_NaN();
      Feeds feeds{{"x", bad}, {"d", Tensor::full(DType::f32, {batch, out}, 0.25)}};
      std::string what;
      try {
        s.run(feeds, {}, {update});
      } catch (const RunError& e) {
        what = e.what();
      }
      CHECK(what.find(grad_w.name()) != std::string::npos);
      // Clean data passes (in a fresh session: the failed step's in-place
      // update already wrote its NaNs into w).
      feeds["x"] = xs;
      Session clean(g, {.compile = {.panel_gemms = true}});
      CHECK_NOTHROW(clean.run(feeds, {}, {update}));
    }
  }
}
