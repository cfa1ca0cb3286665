// Internal to Program::compile: a bound GEMM step (runtime/gemm_fusion.hpp
// decides what it computes) and its panelled form, which runs the fused
// elementwise pass reading the product (an optimizer update reading its
// gradient or momentum) on each panel of output rows while the panel is in
// the core's L2 cache, instead of the GEMM writing the whole product out to
// memory and the pass reading it back.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "backend/gemm.hpp"
#include "runtime/fused_elementwise.hpp"

namespace anneal {

struct Step;
struct Slot;

// out[M,N] = act(op(A) op(B) + bias) (+ op(A2) op(B2)).
struct GemmOperands {
  GemmShape shape;  // the first product, all M rows
  const Tensor *a = nullptr, *b = nullptr, *bias = nullptr;
  GemmShape second_shape;  // used when a2 is set
  const Tensor *a2 = nullptr, *b2 = nullptr;
  Tensor* out = nullptr;
};

// oneDNN plans for `rows` rows of the product, run on `threads` threads.
struct GemmRowsPlan {
  GemmRowsPlan(const GemmOperands& g, std::int64_t rows, int threads);
  std::int64_t rows;
  GemmPlan first;
  std::unique_ptr<GemmPlan> second;
};

// Rows [r0, r0 + plan.rows) of the product, into g.out's rows or, when
// given, into `panel` (plan.rows x n floats).
void run_gemm_rows(const GemmOperands& g, std::int64_t r0, GemmRowsPlan& plan, float* panel = nullptr);

// Rows per panel when a pass over an [m, n] product should run panel by
// panel on `threads` threads; 0 when the product is below 1.5x one core's L2 cache.
std::int64_t panel_rows(std::int64_t m, std::int64_t n, int threads);

// Folds each GEMM step whose product outgrows L2 into the fused pass that
// next reads all of it, when no other step reads the product before that
// pass and nothing the GEMM reads is overwritten before it: the GEMM then
// runs at the pass's level, inside its step. Returns how many were folded.
int fold_gemms_into_passes(std::vector<Step>& steps, const std::vector<Slot>& slots, int threads);

// The GEMM and then the pass, panel by panel: each thread computes its
// panels with one-thread GEMMs and runs the pass over each at once. When
// only the pass reads the product (the pass's panel_product: a plain
// gradient), each thread's panels go to a buffer of its own, L2-sized, and
// the whole product is never stored.
class PanelledGemmPass {
 public:
  PanelledGemmPass(const GemmOperands& g, const FusedElementwise& pass, std::int64_t rows, int threads);
  // As FusedElementwise::run: false when check_finite found a NaN/Inf.
  bool run(std::uint64_t seed, std::uint32_t step, float* scratch, bool check_finite);
  // Floats each thread needs for a private product panel (0: none).
  std::int64_t panel_floats() const;
  // Where thread t's panel is: base + t * stride. Passes never run side by
  // side, so every pass of a program shares one such buffer.
  void use_panels(float* base, std::int64_t stride);

 private:
  GemmOperands g_;
  const FusedElementwise& pass_;
  std::int64_t rows_;
  std::vector<GemmRowsPlan> full_, tail_;  // per thread: full panels and the last, shorter one
  float* panels_ = nullptr;  // with a private product: thread t's panel at panels_ + t * panel_stride_
  std::int64_t panel_stride_ = 0;
};

}  // namespace anneal
