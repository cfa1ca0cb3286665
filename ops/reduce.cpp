// Reductions: sum, max, logsumexp and size_of (the run-time element count that
// mean divides by); mean, softmax and log_softmax are composites.
// Deterministic by construction: every output element is reduced by one
// thread in a fixed order, in fixed-size blocks of partial sums added in
// order, so neither the thread count nor the schedule changes a result.
#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/parallel.hpp"
#include "backend/small_vector.hpp"
#include "graph/shape_rules.hpp"
#include "ops/families.hpp"
#include "ops/ops.hpp"

namespace anneal {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Outputs accumulated side by side (a stack buffer, no allocation).
constexpr std::int64_t kTile = 256;
// Reduced elements per partial sum. Fixed, so a long reduction can be split
// across threads without changing its arithmetic.
constexpr std::int64_t kBlock = 1 << 14;

struct SumOp {
  static constexpr double init = 0.0;
  static double combine(double a, double b) { return a + b; }
};
struct MaxOp {
  static constexpr double init = -kInf;
  // NaN wins, like the sum.
  static double combine(double a, double b) { return b > a || std::isnan(b) ? b : a; }
};

// A reduction's input seen as groups of adjacent axes that are all kept or
// all reduced (size-1 axes dropped), so offsets cost a few divisions per row.
using Groups = SmallVector<std::int64_t, 16>;

// Reduced axes as a bit mask: computed without allocating.
using AxisMask = std::uint32_t;

struct ReduceLayout {
  Groups kept, kept_stride;  // outer kept groups, outermost first
  Groups red, red_stride;    // outer reduced groups, outermost first
  std::int64_t inner = 1;  // a trailing kept group: neighbouring outputs are contiguous
  std::int64_t run = 1, run_stride = 1;  // the innermost reduced group
  std::int64_t n_out = 1, n_red = 1;     // output elements; reduced elements per output

  ReduceLayout(const Dims& shape, AxisMask axes) {
    struct Group { std::int64_t size, stride; bool reduced; };
    SmallVector<Group, 32> groups;  // innermost first
    std::int64_t stride = 1;
    for (std::size_t d = shape.size(); d-- > 0;) {
      bool r = (axes >> d) & 1u;
      (r ? n_red : n_out) *= shape[d];
      if (shape[d] != 1) {
        if (!groups.empty() && groups.back().reduced == r) groups.back().size *= shape[d];
        else groups.push_back({shape[d], stride, r});
      }
      stride *= shape[d];
    }
    std::size_t g = 0;
    if (g < groups.size() && !groups[g].reduced) inner = groups[g++].size;
    if (g < groups.size()) run = groups[g].size, run_stride = groups[g].stride, ++g;
    for (std::size_t k = groups.size(); k-- > g;) {
      (groups[k].reduced ? red : kept).push_back(groups[k].size);
      (groups[k].reduced ? red_stride : kept_stride).push_back(groups[k].stride);
    }
  }

  static std::int64_t offset(std::int64_t i, const Groups& size, const Groups& stride) {
    std::int64_t off = 0;
    for (std::size_t k = size.size(); k-- > 0;) off += (i % size[k]) * stride[k], i /= size[k];
    return off;
  }
  // Offset of output element o, and of the start of reduced row ro (of n_red / run).
  std::int64_t out_offset(std::int64_t o) const { return offset(o / inner, kept, kept_stride) + o % inner; }
  std::int64_t red_offset(std::int64_t ro) const { return offset(ro, red, red_stride); }
};

// Folds reduced elements [p0, p1) (in row-major order) into acc[0..n) for
// the n contiguous outputs starting at input offset `base`.
template <class R, class T>
void accumulate(const T* x, const ReduceLayout& L, std::int64_t base, std::int64_t n, std::int64_t p0,
                std::int64_t p1, double* acc) {
  for (std::int64_t p = p0; p < p1;) {
    std::int64_t j0 = p % L.run, j1 = std::min(L.run, j0 + (p1 - p));
    const T* q = x + base + L.red_offset(p / L.run);
    if (n == 1 && L.run_stride == 1) {
      // One output over a contiguous run: kLanes interleaved partials (no
      // serial chain of adds; vectorizes), folded in a fixed order.
      constexpr std::int64_t kLanes = 8;
      double lane[kLanes];
      std::fill_n(lane, kLanes, R::init);
      std::int64_t j = j0;
      for (; j + kLanes <= j1; j += kLanes)
        for (std::int64_t l = 0; l < kLanes; ++l) lane[l] = R::combine(lane[l], static_cast<double>(q[j + l]));
      for (; j < j1; ++j) lane[0] = R::combine(lane[0], static_cast<double>(q[j]));
      for (std::int64_t l = 0; l < kLanes; ++l) acc[0] = R::combine(acc[0], lane[l]);
      p += j1 - j0;
      continue;
    }
    for (std::int64_t j = j0; j < j1; ++j) {
      const T* row = q + j * L.run_stride;
      for (std::int64_t i = 0; i < n; ++i) acc[i] = R::combine(acc[i], static_cast<double>(row[i]));
    }
    p += j1 - j0;
  }
}

// Outputs [s, e), in tiles of contiguous outputs; each output's blocks are
// folded in order.
template <class R, class T>
void reduce_outputs(const T* x, T* out, const ReduceLayout& L, std::int64_t s, std::int64_t e) {
  double total[kTile], part[kTile];
  for (std::int64_t o = s; o < e;) {
    std::int64_t n = std::min({e - o, L.inner - o % L.inner, kTile});
    std::fill_n(total, n, R::init);
    for (std::int64_t p = 0; p < L.n_red; p += kBlock) {
      std::fill_n(part, n, R::init);
      accumulate<R>(x, L, L.out_offset(o), n, p, std::min(L.n_red, p + kBlock), part);
      for (std::int64_t i = 0; i < n; ++i) total[i] = R::combine(total[i], part[i]);
    }
    for (std::int64_t i = 0; i < n; ++i) out[o + i] = static_cast<T>(total[i]);
    o += n;
  }
}

template <class R, class T>
void reduce(const Tensor& xt, Tensor& outt, AxisMask axes, bool parallel) {
  ReduceLayout L(xt.shape(), axes);
  const T* x = xt.data<T>();
  T* out = outt.data<T>();
  std::int64_t blocks = (L.n_red + kBlock - 1) / kBlock;
  if (parallel && blocks > 1 && L.n_out < num_threads()) {
    // Too few outputs to occupy the threads: split each into its blocks,
    // then fold the partials in order (the same arithmetic as above).
    // Reused across calls: no allocation once warm.
    thread_local std::vector<double> parts;
    parts.assign(static_cast<std::size_t>(L.n_out * blocks), R::init);
    double* pp = parts.data();  // this thread's buffer, shared with the workers
    parallel_for(L.n_out * blocks, 1, [&](std::int64_t s, std::int64_t e) {
      for (std::int64_t t = s; t < e; ++t) {
        std::int64_t o = t / blocks, p = t % blocks * kBlock;
        accumulate<R>(x, L, L.out_offset(o), 1, p, std::min(L.n_red, p + kBlock), pp + t);
      }
    });
    for (std::int64_t o = 0; o < L.n_out; ++o) {
      double total = R::init;
      for (std::int64_t b = 0; b < blocks; ++b) total = R::combine(total, pp[o * blocks + b]);
      out[o] = static_cast<T>(total);
    }
    return;
  }
  auto body = [&](std::int64_t s, std::int64_t e) { reduce_outputs<R>(x, out, L, s, e); };
  if (parallel) parallel_for(L.n_out, std::max<std::int64_t>(1, kElementwiseGrain / std::max<std::int64_t>(1, L.n_red)), body);
  else body(0, L.n_out);
}

std::vector<std::int64_t> axes_of(const Node& n) {
  return normalize_axes(n.attrs.ints("axes"), static_cast<std::int64_t>(n.input_type(0).shape.size()));
}

// The same axes as a mask (validated when the node was built); empty: all.
AxisMask axis_mask(const Node& n) {
  const auto& axes = n.attrs.ints("axes");
  auto rank = static_cast<std::int64_t>(n.input_type(0).shape.size());
  if (axes.empty()) return rank >= 32 ? ~AxisMask{0} : (AxisMask{1} << rank) - 1;
  AxisMask m = 0;
  for (auto ax : axes) m |= AxisMask{1} << (ax < 0 ? ax + rank : ax);
  return m;
}

template <class R> void reduce_fast(KernelArgs& a) { reduce<R, float>(*a.in[0], a.out, axis_mask(a.node), true); }
template <class R> void reduce_ref(KernelArgs& a) { reduce<R, double>(*a.in[0], a.out, axis_mask(a.node), false); }

TypeInfo reduce_type(const Node& n) {
  if (n.input_type(0).dtype != DType::f32) throw ShapeError("reductions take an f32 input");
  if (n.input_type(0).shape.size() > 16) throw ShapeError("reductions take inputs of rank 16 at most");
  return {DType::f32, reduced_shape(n.input_type(0).shape, axes_of(n), n.attrs.i("keepdims") != 0)};
}

// A reduction's output (or its gradient) in keepdims form, so that it
// broadcasts against the input.
Value kept(Value v, const Node& n, const std::vector<std::int64_t>& axes) {
  return reshape(v, reduced_shape(n.input_type(0).shape, axes, true));
}

std::vector<Value> sum_grad(const GradArgs& g) {
  return {broadcast_like(kept(g.dout, g.node, axes_of(g.node)), g.node.inputs[0])};
}
// Every element equal to the max gets the gradient (ties each get all of it).
std::vector<Value> max_grad(const GradArgs& g) {
  auto axes = axes_of(g.node);
  const Value& x = g.node.inputs[0];
  return {kept(g.dout, g.node, axes) * equal(x, kept(g.out, g.node, axes))};
}

const std::vector<AttrSpec> kReduceAttrs = {{"axes", AttrKind::i64s, AttrValue{std::vector<std::int64_t>{}}},
                                            {"keepdims", AttrKind::i64, AttrValue{std::int64_t{0}}}};

const OpDef kSum{.name = "sum", .min_inputs = 1, .max_inputs = 1, .attrs = kReduceAttrs, .infer = reduce_type,
                 .fast = reduce_fast<SumOp>, .ref = reduce_ref<SumOp>, .grad = sum_grad,
                 .grad_reads = kReadsInputs};
const OpDef kMax{.name = "max", .min_inputs = 1, .max_inputs = 1, .attrs = kReduceAttrs, .infer = reduce_type,
                 .fast = reduce_fast<MaxOp>, .ref = reduce_ref<MaxOp>, .grad = max_grad,
                 .grad_reads = kReadsInputs | kReadsOutput};

// size_of: a shape query, so one graph serves every batch size.
TypeInfo size_of_type(const Node& n) {
  axes_of(n);  // validates the axes
  return {DType::f32, {}};
}
template <class T> void size_of_kernel(KernelArgs& a) {
  double count = 1;
  AxisMask m = axis_mask(a.node);
  for (std::int64_t ax = 0; ax < a.in[0]->rank(); ++ax)
    if ((m >> ax) & 1u) count *= static_cast<double>(a.in[0]->dim(ax));
  a.out.data<T>()[0] = static_cast<T>(count);
}
const OpDef kSizeOf{.name = "size_of", .min_inputs = 1, .max_inputs = 1,
                    .attrs = {{"axes", AttrKind::i64s, AttrValue{std::vector<std::int64_t>{}}}},
                    .infer = size_of_type, .fast = size_of_kernel<float>, .ref = size_of_kernel<double>,
                    .not_differentiable = "it depends on the input's shape only", .shape_only_inputs = 0b1};

// logsumexp along one axis: max + log(sum(exp(x - max))), never overflows.
std::int64_t lse_axis(const Node& n) {
  return normalize_axis(n.attrs.i("axis"), static_cast<std::int64_t>(n.input_type(0).shape.size()));
}
TypeInfo lse_type(const Node& n) {
  if (n.input_type(0).dtype != DType::f32) throw ShapeError("logsumexp takes an f32 input");
  return {DType::f32, reduced_shape(n.input_type(0).shape, {lse_axis(n)}, n.attrs.i("keepdims") != 0)};
}
template <class T> void lse_kernel(KernelArgs& a, bool parallel) {
  const Tensor& x = *a.in[0];
  std::int64_t axis = lse_axis(a.node), len = x.dim(axis), inner = 1;
  for (std::int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
  const T* px = x.data<T>();
  T* po = a.out.data<T>();
  auto body = [&](std::int64_t s, std::int64_t e) {
    for (std::int64_t o = s; o < e; ++o) {
      const T* p = px + (o / inner) * len * inner + o % inner;
      double m = MaxOp::init;
      for (std::int64_t k = 0; k < len; ++k) m = MaxOp::combine(m, static_cast<double>(p[k * inner]));
      double r = m;  // all -inf: -inf; any +inf: +inf; NaN: NaN
      if (std::isfinite(m)) {
        double s_exp = 0;
        for (std::int64_t k = 0; k < len; ++k) s_exp += std::exp(static_cast<double>(p[k * inner]) - m);
        r = m + std::log(s_exp);
      }
      po[o] = static_cast<T>(r);
    }
  };
  std::int64_t n = a.out.numel();
  if (parallel) parallel_for(n, std::max<std::int64_t>(1, kElementwiseGrain / std::max<std::int64_t>(1, len)), body);
  else body(0, n);
}
void lse_fast(KernelArgs& a) { lse_kernel<float>(a, true); }
void lse_ref(KernelArgs& a) { lse_kernel<double>(a, false); }
// d lse / dx = exp(x - lse): the softmax, written with ops.
std::vector<Value> lse_grad(const GradArgs& g) {
  std::vector<std::int64_t> axes{lse_axis(g.node)};
  const Value& x = g.node.inputs[0];
  return {kept(g.dout, g.node, axes) * exp(x - kept(g.out, g.node, axes))};
}
const OpDef kLogsumexp{.name = "logsumexp", .min_inputs = 1, .max_inputs = 1,
                       .attrs = {{"axis", AttrKind::i64, AttrValue{std::int64_t{-1}}},
                                 {"keepdims", AttrKind::i64, AttrValue{std::int64_t{0}}}},
                       .infer = lse_type, .fast = lse_fast, .ref = lse_ref, .grad = lse_grad,
                       .grad_reads = kReadsInputs | kReadsOutput};

Attrs reduce_attrs(const Axes& axes, bool keepdims) {
  return Attrs{{"axes", axes}, {"keepdims", std::int64_t{keepdims}}};
}

}  // namespace

Value sum(Value x, Axes axes, bool keepdims) { return x.graph->add(kSum, {x}, reduce_attrs(axes, keepdims)); }
Value max(Value x, Axes axes, bool keepdims) { return x.graph->add(kMax, {x}, reduce_attrs(axes, keepdims)); }
Value size_of(Value x, Axes axes) { return x.graph->add(kSizeOf, {x}, Attrs{{"axes", axes}}); }
Value mean(Value x, Axes axes, bool keepdims) {
  Value total = sum(x, axes, keepdims);  // built first on every compiler: node ids are stable
  return total / size_of(x, axes);
}

Value logsumexp(Value x, std::int64_t axis, bool keepdims) {
  return x.graph->add(kLogsumexp, {x}, Attrs{{"axis", axis}, {"keepdims", std::int64_t{keepdims}}});
}
Value log_softmax(Value x, std::int64_t axis) { return x - logsumexp(x, axis, true); }
Value softmax(Value x, std::int64_t axis) { return exp(log_softmax(x, axis)); }

void detail::register_reduce_ops(OpList& ops) { ops.insert(ops.end(), {&kSum, &kMax, &kSizeOf, &kLogsumexp}); }

}  // namespace anneal
