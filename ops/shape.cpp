// Shape ops: reshape, transpose, concat, slice, pad and one_hot. Except for
// one_hot they move elements without looking at them, so one kernel serves
// f32, i32 and the reference kernels' f64. The batch dim (unknown until run
// time) may move whole but is never split, merged, sliced or padded.
#include <algorithm>
#include <cstring>

#include "backend/error.hpp"
#include "backend/parallel.hpp"
#include "graph/shape_rules.hpp"
#include "ops/families.hpp"
#include "ops/ops.hpp"

namespace anneal {
namespace {

std::int64_t rank_of(const TypeInfo& t) { return static_cast<std::int64_t>(t.shape.size()); }

// Calls f.operator()<T>() with the C++ type of `t`.
template <class F> void with_type(DType t, F&& f) {
  switch (t) {
    case DType::f32: f.template operator()<float>(); break;
    case DType::f64: f.template operator()<double>(); break;
    case DType::i32: f.template operator()<std::int32_t>(); break;
  }
}

// A tensor as [outer, len, inner] around `axis`.
struct AxisView {
  std::int64_t outer = 1, len = 1, inner = 1;
  AxisView(const Dims& s, std::int64_t axis) {
    for (std::int64_t d = 0; d < static_cast<std::int64_t>(s.size()); ++d)
      (d < axis ? outer : d == axis ? len : inner) *= s[static_cast<std::size_t>(d)];
  }
};

// `rows` copies of `bytes` bytes between strided row starts.
void copy_rows(void* dst, std::int64_t dst_stride, const void* src, std::int64_t src_stride, std::int64_t rows,
               std::int64_t bytes, bool parallel) {
  if (bytes <= 0) return;
  auto* d = static_cast<char*>(dst);
  const auto* s = static_cast<const char*>(src);
  auto body = [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t r = b; r < e; ++r)
      std::memcpy(d + r * dst_stride, s + r * src_stride, static_cast<std::size_t>(bytes));
  };
  if (parallel) parallel_for(rows, std::max<std::int64_t>(1, (kElementwiseGrain * 4) / bytes), body);
  else body(0, rows);
}

// --- reshape ------------------------------------------------------------------
// Static element counts between batch markers: [2, B, 3, 4] -> {2, 12}. Two
// shapes lay out the same elements for every batch size iff these agree.
std::vector<std::int64_t> segments(const Dims& s) {
  std::vector<std::int64_t> seg{1};
  for (auto d : s)
    if (d == Dim::batch()) seg.push_back(1);
    else seg.back() *= d;
  return seg;
}
std::int64_t product(const std::vector<std::int64_t>& v) {
  std::int64_t p = 1;
  for (auto x : v) p *= x;
  return p;
}

TypeInfo reshape_type(const Node& n) {
  const Dims& from = n.input_type(0).shape;
  const Dims& to = n.attrs.ints("shape");
  for (auto d : to)
    if (d < 0 && d != Dim::batch()) throw ShapeError("negative dimension in " + dims_str(to));
  auto a = segments(from), b = segments(to);
  std::string what = "cannot reshape " + dims_str(from) + " to " + dims_str(to) + ": ";
  if (a.size() != b.size()) throw ShapeError(what + "the batch dim B must appear in both shapes, as a whole dimension");
  if (product(a) != product(b))
    throw ShapeError(what + "the element counts differ (" + std::to_string(product(a)) + " vs " +
                     std::to_string(product(b)) + (a.size() > 1 ? " per batch item)" : ")"));
  if (a != b)
    throw ShapeError(what + "that would split or merge the batch dim B (the dims between batch dims must hold the "
                            "same number of elements in both shapes)");
  return {n.input_type(0).dtype, to};
}
void reshape_kernel(KernelArgs& a) { a.out.copy_from(*a.in[0]); }
std::vector<Value> reshape_grad(const GradArgs& g) { return {reshape(g.dout, g.node.input_type(0).shape)}; }
const OpDef kReshape{.name = "reshape", .min_inputs = 1, .max_inputs = 1,
                     .attrs = {{"shape", AttrKind::i64s, std::nullopt}}, .infer = reshape_type,
                     .fast = reshape_kernel, .ref = reshape_kernel, .grad = reshape_grad,
                     .grad_reads = kReadsDoutOnly};

// --- transpose ----------------------------------------------------------------
// The permutation, normalized; empty means reversed axes.
Axes perm_of(const Node& n) {
  std::int64_t r = rank_of(n.input_type(0));
  Axes p = n.attrs.ints("perm");
  if (p.empty()) {
    for (std::int64_t i = r; i-- > 0;) p.push_back(i);
    return p;
  }
  if (static_cast<std::int64_t>(p.size()) != r)
    throw ShapeError("perm " + dims_str(p) + " has " + std::to_string(p.size()) + " axes for a rank-" +
                     std::to_string(r) + " input");
  std::vector<char> seen(static_cast<std::size_t>(r), 0);
  for (auto& ax : p) {
    ax = normalize_axis(ax, r);
    if (seen[static_cast<std::size_t>(ax)]++) throw ShapeError("perm " + dims_str(n.attrs.ints("perm")) + " repeats an axis");
  }
  return p;
}
TypeInfo transpose_type(const Node& n) {
  const TypeInfo& t = n.input_type(0);
  Dims out;
  for (auto ax : perm_of(n)) out.push_back(t.shape[static_cast<std::size_t>(ax)]);
  return {t.dtype, out};
}
// Each output row gathers along the input axis that became the last one.
template <bool Parallel> void transpose_kernel(KernelArgs& a) {
  const Tensor& x = *a.in[0];
  Tensor& out = a.out;
  Axes perm = perm_of(a.node);
  std::int64_t r = x.rank();
  if (out.numel() == 0) return;
  if (r == 0) return out.copy_from(x);
  Dims in_stride(static_cast<std::size_t>(r)), src(static_cast<std::size_t>(r));
  for (std::int64_t d = r, s = 1; d-- > 0;) in_stride[static_cast<std::size_t>(d)] = s, s *= x.dim(d);
  for (std::int64_t k = 0; k < r; ++k) src[static_cast<std::size_t>(k)] = in_stride[static_cast<std::size_t>(perm[static_cast<std::size_t>(k)])];
  std::int64_t last = out.dim(r - 1), step = src.back(), rows = out.numel() / last;
  with_type(x.dtype(), [&]<class T>() {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    auto body = [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t row = b; row < e; ++row) {
        std::int64_t off = 0;
        for (std::int64_t k = r - 1, i = row; k-- > 0;) off += (i % out.dim(k)) * src[static_cast<std::size_t>(k)], i /= out.dim(k);
        for (std::int64_t j = 0; j < last; ++j) po[row * last + j] = px[off + j * step];
      }
    };
    if (Parallel) parallel_for(rows, std::max<std::int64_t>(1, kElementwiseGrain / last), body);
    else body(0, rows);
  });
}
std::vector<Value> transpose_grad(const GradArgs& g) {
  Axes perm = perm_of(g.node), inv(perm.size());
  for (std::size_t i = 0; i < perm.size(); ++i) inv[static_cast<std::size_t>(perm[i])] = static_cast<std::int64_t>(i);
  return {transpose(g.dout, inv)};
}
const OpDef kTranspose{.name = "transpose", .min_inputs = 1, .max_inputs = 1,
                       .attrs = {{"perm", AttrKind::i64s, AttrValue{Axes{}}}}, .infer = transpose_type,
                       .fast = transpose_kernel<true>, .ref = transpose_kernel<false>, .grad = transpose_grad,
                       .grad_reads = kReadsDoutOnly};

// --- slice and pad (each the other's adjoint) ------------------------------------
// The axis, normalized; the batch axis has no static size to slice or pad.
std::int64_t static_axis(const Node& n, const char* op) {
  const TypeInfo& t = n.input_type(0);
  std::int64_t axis = normalize_axis(n.attrs.i("axis"), rank_of(t));
  if (t.shape[static_cast<std::size_t>(axis)] == Dim::batch())
    throw ShapeError(std::string("cannot ") + op + " the batch axis " + std::to_string(axis) +
                     " (its size is known only at run time)");
  return axis;
}

TypeInfo slice_type(const Node& n) {
  TypeInfo t = n.input_type(0);
  std::int64_t axis = static_axis(n, "slice");
  std::int64_t b = n.attrs.i("begin"), e = n.attrs.i("end"), len = t.shape[static_cast<std::size_t>(axis)];
  if (b < 0 || b > e || e > len)
    throw ShapeError("slice [" + std::to_string(b) + ", " + std::to_string(e) + ") is not within [0, " +
                     std::to_string(len) + ") along axis " + std::to_string(axis));
  t.shape[static_cast<std::size_t>(axis)] = e - b;
  return t;
}
template <bool Parallel> void slice_kernel(KernelArgs& a) {
  std::int64_t axis = normalize_axis(a.node.attrs.i("axis"), a.out.rank());
  AxisView in(a.in[0]->shape(), axis), out(a.out.shape(), axis);
  std::int64_t es = static_cast<std::int64_t>(dtype_size(a.out.dtype())), row = out.len * out.inner * es;
  copy_rows(a.out.raw(), row, static_cast<const char*>(a.in[0]->raw()) + a.node.attrs.i("begin") * in.inner * es,
            in.len * in.inner * es, in.outer, row, Parallel);
}
std::vector<Value> slice_grad(const GradArgs& g) {
  std::int64_t axis = normalize_axis(g.node.attrs.i("axis"), rank_of(g.node.input_type(0)));
  std::int64_t len = g.node.input_type(0).shape[static_cast<std::size_t>(axis)];
  return {pad(g.dout, axis, g.node.attrs.i("begin"), len - g.node.attrs.i("end"))};
}

TypeInfo pad_type(const Node& n) {
  TypeInfo t = n.input_type(0);
  std::int64_t axis = static_axis(n, "pad");
  std::int64_t before = n.attrs.i("before"), after = n.attrs.i("after");
  if (before < 0 || after < 0) throw ShapeError("pad amounts must be >= 0");
  t.shape[static_cast<std::size_t>(axis)] += before + after;
  return t;
}
template <bool Parallel> void pad_kernel(KernelArgs& a) {
  std::int64_t axis = normalize_axis(a.node.attrs.i("axis"), a.out.rank());
  AxisView in(a.in[0]->shape(), axis), out(a.out.shape(), axis);
  std::int64_t es = static_cast<std::int64_t>(dtype_size(a.out.dtype())), row = in.len * in.inner * es;
  if (a.out.nbytes()) std::memset(a.out.raw(), 0, a.out.nbytes());  // all-zero bits: 0 in every dtype
  copy_rows(static_cast<char*>(a.out.raw()) + a.node.attrs.i("before") * out.inner * es, out.len * out.inner * es,
            a.in[0]->raw(), row, in.outer, row, Parallel);
}
std::vector<Value> pad_grad(const GradArgs& g) {
  std::int64_t axis = normalize_axis(g.node.attrs.i("axis"), rank_of(g.node.input_type(0)));
  std::int64_t before = g.node.attrs.i("before");
  return {slice(g.dout, axis, before, before + g.node.input_type(0).shape[static_cast<std::size_t>(axis)])};
}

const OpDef kSlice{.name = "slice", .min_inputs = 1, .max_inputs = 1,
                   .attrs = {{"axis", AttrKind::i64, std::nullopt}, {"begin", AttrKind::i64, std::nullopt},
                             {"end", AttrKind::i64, std::nullopt}},
                   .infer = slice_type, .fast = slice_kernel<true>, .ref = slice_kernel<false>, .grad = slice_grad,
                   .grad_reads = kReadsDoutOnly};
const OpDef kPad{.name = "pad", .min_inputs = 1, .max_inputs = 1,
                 .attrs = {{"axis", AttrKind::i64, std::nullopt}, {"before", AttrKind::i64, std::nullopt},
                           {"after", AttrKind::i64, std::nullopt}},
                 .infer = pad_type, .fast = pad_kernel<true>, .ref = pad_kernel<false>, .grad = pad_grad,
                 .grad_reads = kReadsDoutOnly};

// --- concat -------------------------------------------------------------------
TypeInfo concat_type(const Node& n) {
  const TypeInfo& t0 = n.input_type(0);
  std::int64_t axis = normalize_axis(n.attrs.i("axis"), rank_of(t0));
  auto ua = static_cast<std::size_t>(axis);
  TypeInfo out = t0;
  out.shape[ua] = 0;
  for (std::size_t i = 0; i < n.inputs.size(); ++i) {
    const TypeInfo& t = n.input_type(i);
    std::string which = "input " + std::to_string(i) + " " + dims_str(t.shape) + " " + dtype_name(t.dtype);
    if (t.dtype != t0.dtype) throw ShapeError(which + " does not match the dtype of input 0, " + dtype_name(t0.dtype));
    bool same = t.shape.size() == t0.shape.size();
    for (std::size_t d = 0; same && d < t.shape.size(); ++d) same = d == ua || t.shape[d] == t0.shape[d];
    if (!same)
      throw ShapeError(which + " does not match input 0 " + dims_str(t0.shape) + " except along axis " +
                       std::to_string(axis));
    if (t.shape[ua] == Dim::batch()) throw ShapeError("cannot concatenate along the batch axis " + std::to_string(axis));
    out.shape[ua] += t.shape[ua];
  }
  return out;
}
template <bool Parallel> void concat_kernel(KernelArgs& a) {
  std::int64_t axis = normalize_axis(a.node.attrs.i("axis"), a.out.rank());
  AxisView out(a.out.shape(), axis);
  std::int64_t es = static_cast<std::int64_t>(dtype_size(a.out.dtype())), row = out.len * out.inner * es, off = 0;
  for (const Tensor* t : a.in) {
    std::int64_t block = t->dim(axis) * out.inner * es;
    copy_rows(static_cast<char*>(a.out.raw()) + off, row, t->raw(), block, out.outer, block, Parallel);
    off += block;
  }
}
std::vector<Value> concat_grad(const GradArgs& g) {
  std::int64_t axis = normalize_axis(g.node.attrs.i("axis"), rank_of(g.node.input_type(0))), off = 0;
  std::vector<Value> grads;
  for (std::size_t i = 0; i < g.node.inputs.size(); ++i) {
    std::int64_t len = g.node.input_type(i).shape[static_cast<std::size_t>(axis)];
    grads.push_back(slice(g.dout, axis, off, off + len));
    off += len;
  }
  return grads;
}
const OpDef kConcat{.name = "concat", .min_inputs = 1, .max_inputs = -1,
                    .attrs = {{"axis", AttrKind::i64, std::nullopt}}, .infer = concat_type,
                    .fast = concat_kernel<true>, .ref = concat_kernel<false>, .grad = concat_grad,
                    .grad_reads = kReadsDoutOnly};

// --- one_hot ------------------------------------------------------------------
TypeInfo one_hot_type(const Node& n) {
  const TypeInfo& t = n.input_type(0);
  if (t.dtype != DType::i32) throw ShapeError(std::string("one_hot takes i32 indices, got ") + dtype_name(t.dtype));
  if (n.attrs.i("depth") < 1) throw ShapeError("one_hot depth must be >= 1");
  Dims s = t.shape;
  s.push_back(n.attrs.i("depth"));
  return {DType::f32, s};
}
// An index outside [0, depth) is bad data (a wrong label), not a zero row.
template <class T> void one_hot_kernel(KernelArgs& a) {
  const std::int32_t* idx = a.in[0]->data<std::int32_t>();
  std::int64_t depth = a.node.attrs.i("depth");
  T* o = a.out.data<T>();
  std::fill_n(o, a.out.numel(), T(0));
  for (std::int64_t i = 0; i < a.in[0]->numel(); ++i) {
    if (idx[i] < 0 || idx[i] >= depth)
      throw InvalidInput(a.node.describe() + ": index " + std::to_string(idx[i]) + " at element " +
                         std::to_string(i) + " is outside [0, " + std::to_string(depth) + ")");
    o[i * depth + idx[i]] = T(1);
  }
}
const OpDef kOneHot{.name = "one_hot", .min_inputs = 1, .max_inputs = 1,
                    .attrs = {{"depth", AttrKind::i64, std::nullopt}}, .infer = one_hot_type,
                    .fast = one_hot_kernel<float>, .ref = one_hot_kernel<double>,
                    .not_differentiable = "its input is integer indices"};

}  // namespace

Value reshape(Value x, Dims shape) {
  if (x.shape() == shape) return x;
  return x.graph->add(kReshape, {x}, Attrs{{"shape", std::move(shape)}});
}
Value transpose(Value x, Axes perm) { return x.graph->add(kTranspose, {x}, Attrs{{"perm", std::move(perm)}}); }
Value concat(const std::vector<Value>& xs, std::int64_t axis) {
  if (xs.empty()) throw InvalidInput("concat: needs at least one input");
  return xs[0].graph->add(kConcat, xs, Attrs{{"axis", axis}});
}
Value slice(Value x, std::int64_t axis, std::int64_t begin, std::int64_t end) {
  return x.graph->add(kSlice, {x}, Attrs{{"axis", axis}, {"begin", begin}, {"end", end}});
}
Value pad(Value x, std::int64_t axis, std::int64_t before, std::int64_t after) {
  return x.graph->add(kPad, {x}, Attrs{{"axis", axis}, {"before", before}, {"after", after}});
}
Value one_hot(Value indices, std::int64_t depth) {
  return indices.graph->add(kOneHot, {indices}, Attrs{{"depth", depth}});
}

void detail::register_shape_ops(OpList& ops) {
  ops.insert(ops.end(), {&kReshape, &kTranspose, &kConcat, &kSlice, &kPad, &kOneHot});
}

}  // namespace anneal
