// Shared kernels for elementwise ops: one functor holds the math, and the same
// loop runs it in f32 in parallel (fast) and in f64 sequentially (reference).
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "backend/parallel.hpp"
#include "graph/graph.hpp"

namespace anneal {

// Per-input strides into a broadcast output: stride 0 along broadcast axes.
// Fixed-size storage: kernels build one per call and must not allocate.
struct Broadcast {
  static constexpr std::size_t kMaxRank = 8;
  static constexpr std::size_t kMaxInputs = 4;
  std::size_t rank = 0;
  std::array<std::int64_t, kMaxRank> out{};                                  // output shape
  std::array<std::array<std::int64_t, kMaxRank>, kMaxInputs> strides{};     // per input, over `out`

  // Throws Error beyond kMaxRank dims or kMaxInputs inputs.
  Broadcast(const Dims& out_shape, std::initializer_list<const Tensor*> in);
  Broadcast(const Dims& out_shape, const std::vector<const Tensor*>& in);
  // Offset of output element `i` into input `k`.
  std::int64_t offset(std::size_t k, std::int64_t i) const {
    std::int64_t off = 0;
    const auto& st = strides[k];
    for (std::size_t d = rank; d-- > 0;) {
      std::int64_t idx = i % out[d];
      i /= out[d];
      off += idx * st[d];
    }
    return off;
  }

 private:
  void add_input(std::size_t k, const Dims& s);
};

// out[i] = f(x[i]) for a functor with `template <class T> T operator()(T)`.
template <class T, class F>
void map_unary(const Tensor& x, Tensor& out, const F& f, bool parallel) {
  const T* px = x.data<T>();
  T* po = out.data<T>();
  auto body = [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) po[i] = f(px[i]);
  };
  if (parallel) parallel_for(out.numel(), kElementwiseGrain, body); else body(0, out.numel());
}

// True when `small`, leading 1s dropped, is a suffix of `big` (then small's
// element i % numel(small) pairs with big's element i). A scalar always is.
bool is_trailing_block(const Dims& big, const Dims& small);

// out[i] = f(a[i'], b[i'']) with NumPy broadcasting.
template <class T, class F>
void map_binary(const Tensor& a, const Tensor& b, Tensor& out, const F& f, bool parallel) {
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* po = out.data<T>();
  std::int64_t n = out.numel();
  if (a.numel() == n && b.numel() == n) {
    auto body = [&](std::int64_t s, std::int64_t e) { for (std::int64_t i = s; i < e; ++i) po[i] = f(pa[i], pb[i]); };
    if (parallel) parallel_for(n, kElementwiseGrain, body); else body(0, n);
    return;
  }
  // The common cases: one side is a trailing block of the other (a bias row,
  // a scalar hyper-parameter), indexed by a modulo instead of the full map.
  if (is_trailing_block(a.shape(), b.shape()) && a.numel() == n) {
    std::int64_t m = b.numel();
    auto body = [&](std::int64_t s, std::int64_t e) {
      if (m == 1) { for (std::int64_t i = s; i < e; ++i) po[i] = f(pa[i], pb[0]); return; }
      for (std::int64_t i = s; i < e; ++i) po[i] = f(pa[i], pb[i % m]);
    };
    if (parallel) parallel_for(n, kElementwiseGrain, body); else body(0, n);
    return;
  }
  if (is_trailing_block(b.shape(), a.shape()) && b.numel() == n) {
    std::int64_t m = a.numel();
    auto body = [&](std::int64_t s, std::int64_t e) {
      if (m == 1) { for (std::int64_t i = s; i < e; ++i) po[i] = f(pa[0], pb[i]); return; }
      for (std::int64_t i = s; i < e; ++i) po[i] = f(pa[i % m], pb[i]);
    };
    if (parallel) parallel_for(n, kElementwiseGrain, body); else body(0, n);
    return;
  }
  Broadcast bc(out.shape(), {&a, &b});
  auto body = [&](std::int64_t s, std::int64_t e) {
    for (std::int64_t i = s; i < e; ++i) po[i] = f(pa[bc.offset(0, i)], pb[bc.offset(1, i)]);
  };
  if (parallel) parallel_for(n, kElementwiseGrain, body); else body(0, n);
}

// Kernel factories: a functor type F becomes an op's fast and reference kernel.
// F is built from the node (for attributes such as leaky_relu's slope).
template <class F> void unary_fast(KernelArgs& a) { map_unary<float>(*a.in[0], a.out, F(a.node), true); }
template <class F> void unary_ref(KernelArgs& a) { map_unary<double>(*a.in[0], a.out, F(a.node), false); }
template <class F> void binary_fast(KernelArgs& a) { map_binary<float>(*a.in[0], *a.in[1], a.out, F(a.node), true); }
template <class F> void binary_ref(KernelArgs& a) { map_binary<double>(*a.in[0], *a.in[1], a.out, F(a.node), false); }

// Chunk kernels for fusion (see ChunkArgs): the same functors, f32 only.
template <class F> void unary_chunk(const ChunkArgs& a) {
  F f(a.node);
  const float* x = a.in[0];
  if (a.scalar[0]) {
    float v = f(x[0]);
    for (std::int64_t i = 0; i < a.n; ++i) a.out[i] = v;
    return;
  }
  for (std::int64_t i = 0; i < a.n; ++i) a.out[i] = f(x[i]);
}
template <class F> void binary_chunk(const ChunkArgs& a) {
  F f(a.node);
  const float* x = a.in[0];
  const float* y = a.in[1];
  float* o = a.out;
  if (!a.scalar[0] && !a.scalar[1]) { for (std::int64_t i = 0; i < a.n; ++i) o[i] = f(x[i], y[i]); return; }
  if (!a.scalar[0]) { float v = y[0]; for (std::int64_t i = 0; i < a.n; ++i) o[i] = f(x[i], v); return; }
  if (!a.scalar[1]) { float v = x[0]; for (std::int64_t i = 0; i < a.n; ++i) o[i] = f(v, y[i]); return; }
  float v = f(x[0], y[0]);
  for (std::int64_t i = 0; i < a.n; ++i) o[i] = v;
}

// Shape rules shared by elementwise ops.
TypeInfo same_as_input(const Node& n);      // f32 in, same shape out
TypeInfo broadcast_binary(const Node& n);   // two f32 inputs, broadcast shape out

}  // namespace anneal
