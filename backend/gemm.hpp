// Single-precision GEMM on oneDNN matmul primitives. Primitives are created
// once per (shape, transposes, epilogue, thread count) and cached for the
// process; a GemmPlan also keeps its memory objects (scratchpads come from
// one buffer per calling thread), so running it again allocates nothing on
// Anneal's side.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace anneal {

// An activation applied by the GEMM itself (a oneDNN eltwise post-op).
enum class GemmActivation { none, relu, leaky_relu, sigmoid, tanh };

struct GemmShape {
  bool trans_a = false, trans_b = false;
  std::int64_t m = 0, n = 0, k = 0;
  bool bias = false;        // + bias[n] on every row
  GemmActivation act = GemmActivation::none;
  float alpha = 0.f;        // leaky_relu's slope
  bool accumulate = false;  // C += ... instead of C = ...
  // A transposed A stored [k, lda] with lda > m: the plan computes rows of a
  // wider product (a panel of it), reading A's columns in place.
  std::int64_t lda = 0;
  bool operator<(const GemmShape& o) const;
};

// C[M,N] = act(op(A)[M,K] * op(B)[K,N] + bias (+ C when accumulate)).
// Row-major; op(X) is X or its transpose, read through strides (no copy).
class GemmPlan {
 public:
  GemmPlan(const GemmShape& shape, int threads);
  ~GemmPlan();
  GemmPlan(GemmPlan&&) noexcept;
  GemmPlan& operator=(GemmPlan&&) noexcept;
  void run(const float* a, const float* b, float* c, const float* bias = nullptr);
  const GemmShape& shape() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-off convenience (creates the memory objects on every call).
void gemm_f32(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
              const float* a, const float* b, float* c, bool accumulate = false);

// True while the calling thread is inside oneDNN's primitive execution:
// oneDNN 2.6 builds its argument map on every execute (a few small heap
// allocations per GEMM that no API avoids), and the allocation test tells
// those apart from Anneal's own.
bool inside_onednn_execute();

// Number of distinct matmul primitives created so far (tests, benchmarks).
std::int64_t gemm_primitive_count();

// "oneDNN 2.6.3 (cpu: OpenMP)": the version and threading runtime in use.
std::string onednn_version();

}  // namespace anneal
