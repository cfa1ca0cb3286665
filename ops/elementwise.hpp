// Shared kernels for elementwise ops: one functor holds the math, and the same
// loop runs it in f32 in parallel (fast) and in f64 sequentially (reference).
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "backend/parallel.hpp"
#include "backend/simd.hpp"
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

// The inner loops, cloned per instruction set (backend/simd.hpp) so that
// vmath's exp/log vectorize as wide as the CPU allows.
template <class T, class F>
ANNEAL_SIMD_CLONES void unary_loop(const T* x, bool x_scalar, T* o, std::int64_t n, const F& f) {
  if (x_scalar) {
    const T v = f(x[0]);
    for (std::int64_t i = 0; i < n; ++i) o[i] = v;
    return;
  }
  for (std::int64_t i = 0; i < n; ++i) o[i] = f(x[i]);
}
template <class T, class F>
ANNEAL_SIMD_CLONES void binary_loop(const T* a, bool a_scalar, const T* b, bool b_scalar, T* o, std::int64_t n,
                                    const F& f) {
  if (!a_scalar && !b_scalar) {
    for (std::int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
  } else if (!a_scalar) {
    const T v = b[0];
    for (std::int64_t i = 0; i < n; ++i) o[i] = f(a[i], v);
  } else if (!b_scalar) {
    const T v = a[0];
    for (std::int64_t i = 0; i < n; ++i) o[i] = f(v, b[i]);
  } else {
    const T v = f(a[0], b[0]);
    for (std::int64_t i = 0; i < n; ++i) o[i] = v;
  }
}

// out[i] = f(x[i]) for a functor with `template <class T> T operator()(T)`.
template <class T, class F>
void map_unary(const Tensor& x, Tensor& out, const F& f, bool parallel) {
  const T* px = x.data<T>();
  T* po = out.data<T>();
  auto body = [&](std::int64_t b, std::int64_t e) { unary_loop(px + b, false, po + b, e - b, f); };
  if (parallel) parallel_for(out.numel(), kElementwiseGrain, body); else body(0, out.numel());
}

// True when `small`, leading 1s dropped, is a suffix of `big` (then small's
// element i % numel(small) pairs with big's element i). A scalar always is.
bool is_trailing_block(const Dims& big, const Dims& small);
// True when `small`, right-aligned to `big`, matches big's leading axes and
// is 1 on the rest ([B, 1] in [B, K]): element i of big pairs with element
// i / (numel(big) / numel(small)) of small.
bool is_leading_block(const Dims& big, const Dims& small);
// Splits [s, e) where a new run of `run` elements starts and calls
// f(r, i, end) for each piece [i, end), all of it within run r: how a
// per-row value (a leading block) is spread over its row.
template <class F>
void for_each_row_run(std::int64_t s, std::int64_t e, std::int64_t run, F&& f) {
  for (std::int64_t i = s; i < e;) {
    const std::int64_t r = i / run, end = std::min(e, (r + 1) * run);
    f(r, i, end);
    i = end;
  }
}

// out[i] = f(a[i'], b[i'']) with NumPy broadcasting.
template <class T, class F>
void map_binary(const Tensor& a, const Tensor& b, Tensor& out, const F& f, bool parallel) {
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* po = out.data<T>();
  std::int64_t n = out.numel();
  auto run = [&](auto&& body) { if (parallel) parallel_for(n, kElementwiseGrain, body); else body(0, n); };
  if (a.numel() == n && b.numel() == n) {
    run([&](std::int64_t s, std::int64_t e) { binary_loop(pa + s, false, pb + s, false, po + s, e - s, f); });
    return;
  }
  // The common cases: one side is a trailing block of the other (a bias row,
  // a scalar hyper-parameter), run as contiguous pieces of at most one block.
  const bool b_block = is_trailing_block(a.shape(), b.shape()) && a.numel() == n;
  if (b_block || (is_trailing_block(b.shape(), a.shape()) && b.numel() == n)) {
    const std::int64_t m = b_block ? b.numel() : a.numel();
    run([&](std::int64_t s, std::int64_t e) {
      for (std::int64_t i = s; i < e;) {
        const std::int64_t j = i % m, len = std::min(e - i, m - j);
        if (b_block) binary_loop(pa + i, false, pb + j, m == 1, po + i, len, f);
        else binary_loop(pa + j, m == 1, pb + i, false, po + i, len, f);
        i += len;
      }
    });
    return;
  }
  // One side one value per row of the other (a [B, 1] column against [B, K]):
  // each row's run with that value as a scalar.
  const bool b_lead = is_leading_block(a.shape(), b.shape()) && a.numel() == n;
  if (b_lead || (is_leading_block(b.shape(), a.shape()) && b.numel() == n)) {
    const std::int64_t len = n / (b_lead ? b.numel() : a.numel());
    run([&](std::int64_t s, std::int64_t e) {
      for_each_row_run(s, e, len, [&](std::int64_t r, std::int64_t i, std::int64_t end) {
        if (b_lead) binary_loop(pa + i, false, pb + r, true, po + i, end - i, f);
        else binary_loop(pa + r, true, pb + i, false, po + i, end - i, f);
      });
    });
    return;
  }
  Broadcast bc(out.shape(), {&a, &b});
  run([&](std::int64_t s, std::int64_t e) {
    for (std::int64_t i = s; i < e; ++i) po[i] = f(pa[bc.offset(0, i)], pb[bc.offset(1, i)]);
  });
}

// Kernel factories: a functor type F becomes an op's fast and reference kernel.
// F is built from the node (for attributes such as leaky_relu's slope).
template <class F> void unary_fast(KernelArgs& a) { map_unary<float>(*a.in[0], a.out, F(a.node), true); }
template <class F> void unary_ref(KernelArgs& a) { map_unary<double>(*a.in[0], a.out, F(a.node), false); }
template <class F> void binary_fast(KernelArgs& a) { map_binary<float>(*a.in[0], *a.in[1], a.out, F(a.node), true); }
template <class F> void binary_ref(KernelArgs& a) { map_binary<double>(*a.in[0], *a.in[1], a.out, F(a.node), false); }

// Chunk kernels for fusion (see ChunkArgs): the same functors, f32 only.
template <class F> void unary_chunk(const ChunkArgs& a) {
  unary_loop(a.in[0], a.scalar[0] != 0, a.out, a.n, F(a.node));
}
template <class F> void binary_chunk(const ChunkArgs& a) {
  binary_loop(a.in[0], a.scalar[0] != 0, a.in[1], a.scalar[1] != 0, a.out, a.n, F(a.node));
}

// Shape rules shared by elementwise ops.
TypeInfo same_as_input(const Node& n);      // f32 in, same shape out
TypeInfo broadcast_binary(const Node& n);   // two f32 inputs, broadcast shape out

}  // namespace anneal
