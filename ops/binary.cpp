// Broadcasting arithmetic and comparisons: add, sub, mul, div, equal,
// greater, select.
#include <cmath>

#include "graph/shape_rules.hpp"
#include "ops/elementwise.hpp"
#include "ops/families.hpp"
#include "ops/ops.hpp"

namespace anneal {
namespace {

#define ANNEAL_BINARY_FUNCTOR(Name, expr)                 \
  struct Name {                                           \
    explicit Name(const Node&) {}                         \
    template <class T> T operator()(T a, T b) const { return expr; } \
  };
ANNEAL_BINARY_FUNCTOR(AddFn, a + b)
ANNEAL_BINARY_FUNCTOR(SubFn, a - b)
ANNEAL_BINARY_FUNCTOR(MulFn, a * b)
ANNEAL_BINARY_FUNCTOR(DivFn, a / b)
ANNEAL_BINARY_FUNCTOR(EqualFn, T(a == b ? 1 : 0))
ANNEAL_BINARY_FUNCTOR(GreaterFn, T(a > b ? 1 : 0))
#undef ANNEAL_BINARY_FUNCTOR

const Value& lhs(const GradArgs& g) { return g.node.inputs[0]; }
const Value& rhs(const GradArgs& g) { return g.node.inputs[1]; }

std::vector<Value> add_grad(const GradArgs& g) {
  return {sum_to_like(g.dout, lhs(g)), sum_to_like(g.dout, rhs(g))};
}
std::vector<Value> sub_grad(const GradArgs& g) {
  return {sum_to_like(g.dout, lhs(g)), sum_to_like(-g.dout, rhs(g))};
}
// sum_to_like(dout * x, like). Where dout spreads one value per row over
// x's [R, C] (the gradient of a row sum: an [R, 1] column broadcast) and
// `like` is a row of C, that is the column sums of x weighted by the
// column, r^T x: one small GEMM instead of a pass writing dout, one writing
// the product and one summing it (W1's visible-bias gradient).
Value sum_of_product_to_like(const Value& dout, const Value& x, const Value& like) {
  const Node& d = dout.node();
  const Dims& s = dout.shape();
  if (d.op->name == "broadcast_like" && s.size() == 2 && x.shape() == s && x.dtype() == DType::f32) {
    const Value& r = d.inputs[0];
    const Dims& row = like.shape();
    const bool column = r.shape() == Dims{s[0], 1};
    const bool is_row = row == Dims{s[1]} || row == Dims{1, s[1]};
    if (column && is_row && s[0] != 1 && s[1] != 1) return reshape(matmul(r, x, true, false), row);
  }
  return sum_to_like(dout * x, like);
}

std::vector<Value> mul_grad(const GradArgs& g) {
  return {sum_of_product_to_like(g.dout, rhs(g), lhs(g)), sum_of_product_to_like(g.dout, lhs(g), rhs(g))};
}
std::vector<Value> div_grad(const GradArgs& g) {
  // d(a/b)/db = -a/b^2, written with the inputs only so it differentiates again.
  return {sum_to_like(g.dout / rhs(g), lhs(g)), sum_to_like(-(g.dout * lhs(g)) / square(rhs(g)), rhs(g))};
}

template <class F>
OpDef binary(const char* name, GradFn grad, unsigned reads, const char* not_diff = nullptr) {
  return OpDef{.name = name, .min_inputs = 2, .max_inputs = 2, .infer = broadcast_binary, .fast = binary_fast<F>,
               .ref = binary_ref<F>, .grad = grad, .grad_reads = reads, .not_differentiable = not_diff,
               .chunk = binary_chunk<F>};
}

const OpDef kAdd = binary<AddFn>("add", add_grad, kReadsDoutOnly);
const OpDef kSub = binary<SubFn>("sub", sub_grad, kReadsDoutOnly);
const OpDef kMul = binary<MulFn>("mul", mul_grad, kReadsInputs);
const OpDef kDiv = binary<DivFn>("div", div_grad, kReadsInputs);
const OpDef kEqual = binary<EqualFn>("equal", nullptr, 0, "a step function: zero gradient almost everywhere");
const OpDef kGreater = binary<GreaterFn>("greater", nullptr, 0, "a step function: zero gradient almost everywhere");

// select(cond, a, b): three-way broadcasting.
TypeInfo select_type(const Node& n) {
  for (std::size_t i = 0; i < 3; ++i)
    if (n.input_type(i).dtype != DType::f32) throw ShapeError("select takes f32 inputs");
  Dims s = broadcast_shapes(broadcast_shapes(n.input_type(0).shape, n.input_type(1).shape), n.input_type(2).shape);
  return {DType::f32, s};
}
template <class T> void select_kernel(KernelArgs& a, bool parallel) {
  Broadcast bc(a.out.shape(), a.in);
  const T* c = a.in[0]->data<T>();
  const T* x = a.in[1]->data<T>();
  const T* y = a.in[2]->data<T>();
  T* o = a.out.data<T>();
  auto body = [&](std::int64_t s, std::int64_t e) {
    for (std::int64_t i = s; i < e; ++i)
      o[i] = c[bc.offset(0, i)] != T(0) ? x[bc.offset(1, i)] : y[bc.offset(2, i)];
  };
  if (parallel) parallel_for(a.out.numel(), kElementwiseGrain, body); else body(0, a.out.numel());
}
void select_fast(KernelArgs& a) { select_kernel<float>(a, true); }
void select_chunk(const ChunkArgs& a) {
  auto at = [&](int k, std::int64_t i) { return a.scalar[k] ? a.in[k][0] : a.in[k][i]; };
  for (std::int64_t i = 0; i < a.n; ++i) a.out[i] = at(0, i) != 0.f ? at(1, i) : at(2, i);
}
void select_ref(KernelArgs& a) { select_kernel<double>(a, false); }
std::vector<Value> select_grad(const GradArgs& g) {
  const Value& c = g.node.inputs[0];
  Value zero = g.dout.graph->scalar(0.0);
  return {Value{}, sum_to_like(select(c, g.dout, zero), g.node.inputs[1]),
          sum_to_like(select(c, zero, g.dout), g.node.inputs[2])};
}
const OpDef kSelect{.name = "select", .min_inputs = 3, .max_inputs = 3, .infer = select_type,
                    .fast = select_fast, .ref = select_ref, .grad = select_grad, .grad_reads = kReadsInputs,
                    .chunk = select_chunk};

Value scalar_like(Value a, double v) { return a.graph->scalar(v); }

}  // namespace

namespace {

// broadcast_like(x, like) as an operand whose partner already has like's
// shape: the arithmetic broadcasts x itself, so the spread copy is never
// written (a gradient's dout, spread over a sum's input, times a value).
Value spread_input(const Value& v, const Value& partner) {
  const Node& n = v.node();
  if (n.op->name == "broadcast_like" && partner.shape() == v.shape() && partner.dtype() == v.dtype())
    return n.inputs[0];
  return v;
}

Value arithmetic(const OpDef& op, const Value& a, const Value& b) {
  return a.graph->add(op, {spread_input(a, b), spread_input(b, a)});
}

}  // namespace

Value add(Value a, Value b) { return arithmetic(kAdd, a, b); }
Value sub(Value a, Value b) { return arithmetic(kSub, a, b); }
Value mul(Value a, Value b) { return arithmetic(kMul, a, b); }
Value div(Value a, Value b) { return arithmetic(kDiv, a, b); }
Value equal(Value a, Value b) { return a.graph->add(kEqual, {a, b}); }
Value greater(Value a, Value b) { return a.graph->add(kGreater, {a, b}); }
Value select(Value cond, Value a, Value b) { return a.graph->add(kSelect, {cond, a, b}); }

Value operator+(Value a, Value b) { return add(a, b); }
Value operator-(Value a, Value b) { return sub(a, b); }
Value operator*(Value a, Value b) { return mul(a, b); }
Value operator/(Value a, Value b) { return div(a, b); }
Value operator+(Value a, double b) { return add(a, scalar_like(a, b)); }
Value operator-(Value a, double b) { return sub(a, scalar_like(a, b)); }
Value operator*(Value a, double b) { return mul(a, scalar_like(a, b)); }
Value operator/(Value a, double b) { return div(a, scalar_like(a, b)); }
Value operator+(double a, Value b) { return add(scalar_like(b, a), b); }
Value operator-(double a, Value b) { return sub(scalar_like(b, a), b); }
Value operator*(double a, Value b) { return mul(scalar_like(b, a), b); }
Value operator/(double a, Value b) { return div(scalar_like(b, a), b); }
Value operator-(Value a) { return neg(a); }

void detail::register_binary_ops(OpList& ops) {
  ops.insert(ops.end(), {&kAdd, &kSub, &kMul, &kDiv, &kEqual, &kGreater, &kSelect});
}

}  // namespace anneal
