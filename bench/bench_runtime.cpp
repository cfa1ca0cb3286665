// The runtime against its parts:
//  - Runtime_gemm / Runtime_elementwise / Runtime_interleave: a GEMM, an
//    elementwise pass, and the two alternating. With one thread budget for
//    oneDNN and our loops (both on libgomp's pool), the alternation costs no
//    more than the sum of its parts.
//  - Runtime_mlp_step_{interpreted,compiled}: one training step of the
//    784-500-500-10 MLP with SGD momentum, node by node vs the compiled plan.
// The argument is the thread budget (anneal::set_num_threads). CPU is the
// whole process's CPU time, so CPU / Time shows how many cores were busy.
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "anneal.hpp"
#include "backend/parallel.hpp"

namespace {

using namespace anneal;

constexpr std::int64_t kM = 100, kK = 784, kN = 500;
constexpr std::int64_t kElements = 1 << 20;

struct InterleaveData {
  std::vector<float> a = std::vector<float>(kM * kK, 0.5f), b = std::vector<float>(kK * kN, 0.25f),
                     c = std::vector<float>(kM * kN), x = std::vector<float>(kElements, 1.0f),
                     y = std::vector<float>(kElements);
};

void elementwise_pass(InterleaveData& d) {
  const float* x = d.x.data();
  float* y = d.y.data();
  parallel_for(kElements, kElementwiseGrain, [&](std::int64_t s, std::int64_t e) {
    for (std::int64_t i = s; i < e; ++i) y[i] = 1.0f / (1.0f + std::exp(-x[i]));
  });
}

void run_interleave(benchmark::State& state, bool gemm, bool elementwise) {
  set_num_threads(static_cast<int>(state.range(0)));
  InterleaveData d;
  GemmPlan plan({.m = kM, .n = kN, .k = kK}, num_threads());
  for (auto _ : state) {
    if (gemm) plan.run(d.a.data(), d.b.data(), d.c.data());
    if (elementwise) elementwise_pass(d);
    benchmark::DoNotOptimize(d.c.data());
    benchmark::DoNotOptimize(d.y.data());
  }
}

void BM_Runtime_gemm(benchmark::State& s) { run_interleave(s, true, false); }
void BM_Runtime_elementwise(benchmark::State& s) { run_interleave(s, false, true); }
void BM_Runtime_interleave(benchmark::State& s) { run_interleave(s, true, true); }
BENCHMARK(BM_Runtime_gemm)->Name("Runtime_gemm")->Arg(1)->Arg(2)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Runtime_elementwise)->Name("Runtime_elementwise")->Arg(1)->Arg(2)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Runtime_interleave)->Name("Runtime_interleave")->Arg(1)->Arg(2)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMicrosecond);

void mlp_step(benchmark::State& state, bool compiled) {
  set_num_threads(static_cast<int>(state.range(0)));
  Graph g("mlp");
  Value x = g.input("x", {Dim::batch(), 784});
  Value y = g.input("labels", {Dim::batch()}, DType::i32);
  Value h = relu(nn::linear(g, "fc1", x, 500));
  h = relu(nn::linear(g, "fc2", h, 500));
  Value loss = mean(cross_entropy(nn::linear(g, "out", h, 10), y));
  auto params = g.params();
  Optimizer opt = sgd(g, "opt", params, grad(loss, params), {.lr = 0.01, .momentum = 0.9});
  Session s(g, {.compiled = compiled});
  Trainer t(s, loss, {opt});
  std::vector<double> labels(100);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<double>(i % 10);
  Feeds feeds{{"x", Tensor::full(DType::f32, {100, 784}, 0.5)}, {"labels", Tensor::from(labels, {100}, DType::i32)}};
  t.step(feeds);
  for (auto _ : state) benchmark::DoNotOptimize(t.step(feeds).data());
}
void BM_Runtime_mlp_step_interpreted(benchmark::State& s) { mlp_step(s, false); }
void BM_Runtime_mlp_step_compiled(benchmark::State& s) { mlp_step(s, true); }
BENCHMARK(BM_Runtime_mlp_step_interpreted)->Name("Runtime_mlp_step_interpreted")->Arg(1)->Arg(2)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Runtime_mlp_step_compiled)->Name("Runtime_mlp_step_compiled")->Arg(1)->Arg(2)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
