// broadcast_like and sum_to_like: the pair of adjoint ops that every
// broadcasting gradient is written with.
#include <algorithm>

#include "graph/shape_rules.hpp"
#include "ops/elementwise.hpp"
#include "ops/families.hpp"
#include "ops/ops.hpp"

namespace anneal {
namespace {

// Both ops take (x, like) and produce like's shape.
TypeInfo broadcast_like_type(const Node& n) {
  const Dims& x = n.input_type(0).shape;
  const Dims& like = n.input_type(1).shape;
  if (n.input_type(0).dtype != DType::f32) throw ShapeError("broadcast_like takes an f32 input");
  if (broadcast_shapes(x, like) != like)
    throw ShapeError(dims_str(x) + " does not broadcast to " + dims_str(like));
  return {DType::f32, like};
}
TypeInfo sum_to_like_type(const Node& n) {
  const Dims& x = n.input_type(0).shape;
  const Dims& like = n.input_type(1).shape;
  if (n.input_type(0).dtype != DType::f32) throw ShapeError("sum_to_like takes an f32 input");
  if (broadcast_shapes(x, like) != x) throw ShapeError(dims_str(x) + " cannot be summed to " + dims_str(like));
  return {DType::f32, like};
}

template <class T> void broadcast_kernel(KernelArgs& a, bool parallel) {
  const Tensor& x = *a.in[0];
  const T* px = x.data<T>();
  T* po = a.out.data<T>();
  const std::int64_t n = a.out.numel(), m = x.numel();
  // The common cases without the general index map's divisions: a scalar
  // (a loss's gradient), a trailing block (a bias row), a leading block (a
  // per-example value spread over its row).
  const bool trailing = is_trailing_block(a.out.shape(), x.shape());
  if (m == 1 || trailing || is_leading_block(a.out.shape(), x.shape())) {
    const std::int64_t repeat = n / std::max<std::int64_t>(m, 1);
    // In contiguous pieces: a copy of (part of) the block, or a run of one value.
    auto body = [&](std::int64_t s, std::int64_t e) {
      if (m == 1) {
        std::fill(po + s, po + e, px[0]);
      } else if (trailing) {
        for (std::int64_t i = s; i < e;) {
          const std::int64_t j = i % m, len = std::min(e - i, m - j);
          std::copy_n(px + j, len, po + i);
          i += len;
        }
      } else {
        for_each_row_run(s, e, repeat, [&](std::int64_t r, std::int64_t i, std::int64_t end) {
          std::fill(po + i, po + end, px[r]);
        });
      }
    };
    if (parallel) parallel_for(n, kElementwiseGrain, body); else body(0, n);
    return;
  }
  Broadcast bc(a.out.shape(), {&x});
  auto body = [&](std::int64_t s, std::int64_t e) {
    for (std::int64_t i = s; i < e; ++i) po[i] = px[bc.offset(0, i)];
  };
  if (parallel) parallel_for(n, kElementwiseGrain, body); else body(0, n);
}
void broadcast_fast(KernelArgs& a) { broadcast_kernel<float>(a, true); }
// In a fused pass the runtime hands over x's values for the chunk already
// spread (a scalar, or a bias row or per-row column gathered), so a reader
// of the broadcast never needs it written out whole.
struct CopyFn {
  explicit CopyFn(const Node&) {}
  float operator()(float x) const { return x; }
};
void broadcast_chunk(const ChunkArgs& a) { unary_chunk<CopyFn>(a); }
void broadcast_ref(KernelArgs& a) { broadcast_kernel<double>(a, false); }

template <class T> void sum_to_kernel(KernelArgs& a, bool parallel) {
  const Tensor& x = *a.in[0];
  const T* px = x.data<T>();
  T* po = a.out.data<T>();
  std::int64_t n = a.out.numel();
  for (std::int64_t i = 0; i < n; ++i) po[i] = T(0);
  if (n > 0 && is_trailing_block(x.shape(), a.out.shape())) {
    // Each output element is summed over rows in order: deterministic.
    std::int64_t rows = x.numel() / n;
    auto body = [&](std::int64_t s, std::int64_t e) {
      for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t j = s; j < e; ++j) po[j] += px[r * n + j];
    };
    // Split only past a few hundred thousand elements: a [100, 784] bias
    // gradient took 7.9 us on one thread and 11.7 us split over two (W1).
    if (parallel) parallel_for(n, std::max<std::int64_t>(256, 16 * kElementwiseGrain / rows), body); else body(0, n);
    return;
  }
  Broadcast bc(x.shape(), {&a.out});
  for (std::int64_t i = 0; i < x.numel(); ++i) po[bc.offset(0, i)] += px[i];
}
void sum_to_fast(KernelArgs& a) { sum_to_kernel<float>(a, true); }
void sum_to_ref(KernelArgs& a) { sum_to_kernel<double>(a, false); }

std::vector<Value> broadcast_grad(const GradArgs& g) { return {sum_to_like(g.dout, g.node.inputs[0]), Value{}}; }
std::vector<Value> sum_to_grad(const GradArgs& g) { return {broadcast_like(g.dout, g.node.inputs[0]), Value{}}; }

// The `like` input is read for its shape only; it gets no gradient.
const OpDef kBroadcastLike{.name = "broadcast_like", .min_inputs = 2, .max_inputs = 2,
                           .infer = broadcast_like_type, .fast = broadcast_fast, .ref = broadcast_ref,
                           .grad = broadcast_grad, .grad_reads = kReadsInputs, .chunk = broadcast_chunk,
                           .shape_only_inputs = 0b10};
const OpDef kSumToLike{.name = "sum_to_like", .min_inputs = 2, .max_inputs = 2, .infer = sum_to_like_type,
                       .fast = sum_to_fast, .ref = sum_to_ref, .grad = sum_to_grad, .grad_reads = kReadsInputs,
                       .shape_only_inputs = 0b10};

}  // namespace

Value broadcast_like(Value x, Value like) {
  if (x.shape() == like.shape()) return x;
  return x.graph->add(kBroadcastLike, {x, like});
}

Value sum_to_like(Value x, Value like) {
  if (x.shape() == like.shape()) return x;
  return x.graph->add(kSumToLike, {x, like});
}

void detail::register_broadcast_ops(OpList& ops) { ops.insert(ops.end(), {&kBroadcastLike, &kSumToLike}); }

}  // namespace anneal
