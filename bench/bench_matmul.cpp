// The cost of a linear layer's three GEMMs, through the engine and raw:
//   forward  y  = x W        [100,784] x [784,500]
//   backward dx = dy W^T     [100,500] x [500,784]
//            dW = x^T dy     [784,100] x [100,500]
// Matmul_fwd_bwd runs them as a graph (loss = sum(y * R), gradients by
// autodiff) in a fast Session; GEMM_raw calls anneal::gemm_f32 directly, so
// the gap between the two is the engine's overhead. The argument is the
// thread budget (anneal::set_num_threads).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "anneal.hpp"

namespace {

using namespace anneal;

constexpr std::int64_t kBatch = 100, kIn = 784, kOut = 500;
constexpr double kFlops = 3.0 * 2.0 * kBatch * kIn * kOut;  // per iteration

// Deterministic values in [-1, 1): the timings must not depend on the data.
Tensor filled(Dims shape, std::uint32_t seed) {
  Tensor t = Tensor::empty(DType::f32, std::move(shape));
  float* d = t.data<float>();
  std::uint32_t s = seed * 2654435761u + 1;
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    s = s * 1664525u + 1013904223u;
    d[i] = static_cast<float>(s >> 8) / static_cast<float>(1u << 23) - 1.0f;
  }
  return t;
}

void set_counters(benchmark::State& state) {
  state.SetItemsProcessed(state.iterations() * kBatch);  // examples per second
  state.counters["FLOPS"] =
      benchmark::Counter(kFlops * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["threads"] = static_cast<double>(num_threads());
}

void BM_Matmul_fwd_bwd(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  Graph g("matmul_bench");
  Value x = g.input("x", {Dim::batch(), kIn});
  Value r = g.input("r", {Dim::batch(), kOut});
  Value W = g.param("W", {kIn, kOut}, Init::normal(0.05));
  Value loss = sum_to_like(matmul(x, W) * r, g.scalar(0));
  std::vector<Value> grads = grad(loss, {x, W});
  const std::vector<Value> fetches{loss, grads[0], grads[1]};  // the loss makes the forward GEMM run

  Session session(g);
  Feeds feeds{{"x", filled({kBatch, kIn}, 1)}, {"r", filled({kBatch, kOut}, 2)}};
  session.run(feeds, fetches);  // warm-up: parameters and oneDNN primitives
  for (auto _ : state) {
    std::vector<Tensor> out = session.run(feeds, fetches);
    benchmark::DoNotOptimize(out.data());
  }
  set_counters(state);
}

void BM_GEMM_raw(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  Tensor x = filled({kBatch, kIn}, 1), W = filled({kIn, kOut}, 3), dy = filled({kBatch, kOut}, 2);
  Tensor y = Tensor::empty(DType::f32, {kBatch, kOut});
  Tensor dx = Tensor::empty(DType::f32, {kBatch, kIn});
  Tensor dW = Tensor::empty(DType::f32, {kIn, kOut});
  auto step = [&] {
    gemm_f32(false, false, kBatch, kOut, kIn, x.data<float>(), W.data<float>(), y.data<float>());
    gemm_f32(false, true, kBatch, kIn, kOut, dy.data<float>(), W.data<float>(), dx.data<float>());
    gemm_f32(true, false, kIn, kOut, kBatch, x.data<float>(), dy.data<float>(), dW.data<float>());
  };
  step();  // warm-up: creates the primitives
  for (auto _ : state) {
    step();
    benchmark::DoNotOptimize(y.raw());
    benchmark::DoNotOptimize(dx.raw());
    benchmark::DoNotOptimize(dW.raw());
    benchmark::ClobberMemory();
  }
  set_counters(state);
  state.SetLabel(onednn_version());
}

// Wall-clock time: the work runs on the OpenMP pool, not only this thread.
BENCHMARK(BM_Matmul_fwd_bwd)
    ->Name("Matmul_fwd_bwd/784x500")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GEMM_raw)
    ->Name("GEMM_raw/784x500")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
