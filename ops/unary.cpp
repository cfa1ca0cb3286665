// Elementwise math: neg, exp, log, log1p, sqrt, square, abs, sign, sigmoid,
// tanh, relu, leaky_relu, softplus, and sigmoid_backward. Each row: the
// math, then its gradient written with ops (so it differentiates again). The f32 kernels use
// backend/vmath.hpp's exp/log, which vectorize; the f64 ones are libm's.
#include <cmath>

#include "backend/vmath.hpp"
#include "ops/elementwise.hpp"
#include "ops/families.hpp"
#include "ops/ops.hpp"

namespace anneal {
namespace {

#define ANNEAL_UNARY_FUNCTOR(Name, expr)                  \
  struct Name {                                           \
    explicit Name(const Node&) {}                         \
    template <class T> T operator()(T x) const { return expr; } \
  };
ANNEAL_UNARY_FUNCTOR(NegFn, -x)
ANNEAL_UNARY_FUNCTOR(ExpFn, vmath::exp(x))
ANNEAL_UNARY_FUNCTOR(LogFn, vmath::log(x))
ANNEAL_UNARY_FUNCTOR(Log1pFn, vmath::log1p(x))
ANNEAL_UNARY_FUNCTOR(SqrtFn, std::sqrt(x))
ANNEAL_UNARY_FUNCTOR(SquareFn, x * x)
ANNEAL_UNARY_FUNCTOR(AbsFn, std::abs(x))
ANNEAL_UNARY_FUNCTOR(SignFn, T((x > T(0)) - (x < T(0))))
ANNEAL_UNARY_FUNCTOR(SigmoidFn, vmath::sigmoid_from(x, vmath::exp(-std::abs(x))))
ANNEAL_UNARY_FUNCTOR(TanhFn, std::tanh(x))
ANNEAL_UNARY_FUNCTOR(ReluFn, x > T(0) ? x : T(0))
#undef ANNEAL_UNARY_FUNCTOR

// max(x, 0) + log1p(exp(-|x|)): exact and never overflows. (Naming e keeps
// GCC from interleaving exp into log1p, which made the loop 1.5x slower.)
struct SoftplusFn {
  explicit SoftplusFn(const Node&) {}
  template <class T> T operator()(T x) const {
    const T e = vmath::exp(-std::abs(x));
    return vmath::select(x > T(0), x, T(0)) + vmath::log1p_unit(e);
  }
};

struct LeakyReluFn {
  double slope;
  explicit LeakyReluFn(const Node& n) : slope(n.attrs.f("slope")) {}
  template <class T> T operator()(T x) const { return vmath::select(x > T(0), x, static_cast<T>(slope) * x); }
};

const Value& x_of(const GradArgs& g) { return g.node.inputs[0]; }

std::vector<Value> neg_grad(const GradArgs& g) { return {-g.dout}; }
std::vector<Value> exp_grad(const GradArgs& g) { return {g.dout * g.out}; }
std::vector<Value> log_grad(const GradArgs& g) { return {g.dout / x_of(g)}; }
std::vector<Value> log1p_grad(const GradArgs& g) { return {g.dout / (1.0 + x_of(g))}; }
std::vector<Value> sqrt_grad(const GradArgs& g) { return {g.dout * 0.5 / g.out}; }
std::vector<Value> square_grad(const GradArgs& g) { return {g.dout * (2.0 * x_of(g))}; }
std::vector<Value> abs_grad(const GradArgs& g) { return {g.dout * sign(x_of(g))}; }
std::vector<Value> sigmoid_grad(const GradArgs& g) { return {sigmoid_backward(g.dout, g.out)}; }
std::vector<Value> tanh_grad(const GradArgs& g) { return {g.dout * (1.0 - square(g.out))}; }
// relu and leaky_relu read only their output (out > 0 exactly when x > 0 for
// a positive slope), so a fused matmul+bias+activation need not keep x.
std::vector<Value> relu_grad(const GradArgs& g) { return {g.dout * greater(g.out, g.out.graph->scalar(0))}; }
std::vector<Value> leaky_relu_grad(const GradArgs& g) {
  double s = g.node.attrs.f("slope");
  if (s <= 0) return {g.dout * (s + (1.0 - s) * greater(x_of(g), g.out.graph->scalar(0)))};
  return {g.dout * (s + (1.0 - s) * greater(g.out, g.out.graph->scalar(0)))};
}
std::vector<Value> softplus_grad(const GradArgs& g) { return {g.dout * sigmoid(x_of(g))}; }

template <class F>
OpDef unary(const char* name, GradFn grad, unsigned reads, std::vector<AttrSpec> attrs = {},
            const char* not_diff = nullptr) {
  return OpDef{.name = name, .min_inputs = 1, .max_inputs = 1, .attrs = std::move(attrs), .infer = same_as_input,
               .fast = unary_fast<F>, .ref = unary_ref<F>, .grad = grad, .grad_reads = reads,
               .not_differentiable = not_diff, .chunk = unary_chunk<F>};
}

const OpDef kNeg = unary<NegFn>("neg", neg_grad, kReadsDoutOnly);
const OpDef kExp = unary<ExpFn>("exp", exp_grad, kReadsOutput);
const OpDef kLog = unary<LogFn>("log", log_grad, kReadsInputs);
const OpDef kLog1p = unary<Log1pFn>("log1p", log1p_grad, kReadsInputs);
const OpDef kSqrt = unary<SqrtFn>("sqrt", sqrt_grad, kReadsOutput);
const OpDef kSquare = unary<SquareFn>("square", square_grad, kReadsInputs);
const OpDef kAbs = unary<AbsFn>("abs", abs_grad, kReadsInputs);
const OpDef kSign = unary<SignFn>("sign", nullptr, 0, {}, "a step function: zero gradient almost everywhere");
OpDef with_post_op(OpDef op, PostOp p) {
  op.post_op = p;
  return op;
}
const OpDef kSigmoid = with_post_op(unary<SigmoidFn>("sigmoid", sigmoid_grad, kReadsOutput), PostOp::sigmoid);
const OpDef kTanh = with_post_op(unary<TanhFn>("tanh", tanh_grad, kReadsOutput), PostOp::tanh);
const OpDef kRelu = with_post_op(unary<ReluFn>("relu", relu_grad, kReadsOutput), PostOp::relu);
const OpDef kLeakyRelu = with_post_op(unary<LeakyReluFn>("leaky_relu", leaky_relu_grad, kReadsInputs | kReadsOutput,
                                                         {{"slope", AttrKind::f64, AttrValue{0.01}}}),
                                      PostOp::leaky_relu);
const OpDef kSoftplus = unary<SoftplusFn>("softplus", softplus_grad, kReadsInputs);

// sigmoid's gradient from its output y: dy * y(1 - y) in one loop. As
// three ops (sub, mul, mul) it was three loops per chunk of a fused pass:
// W5's six sigmoid layers spent about 140 us per step there at 1 thread.
struct SigmoidBackwardFn {
  explicit SigmoidBackwardFn(const Node&) {}
  template <class T> T operator()(T dy, T y) const { return dy * (y * (T(1) - y)); }
};
std::vector<Value> sigmoid_backward_grad(const GradArgs& g) {
  const Value& dy = g.node.inputs[0];
  const Value& y = g.node.inputs[1];
  return {sum_to_like(sigmoid_backward(g.dout, y), dy), sum_to_like(g.dout * dy * (1.0 - 2.0 * y), y)};
}
const OpDef kSigmoidBackward{.name = "sigmoid_backward", .min_inputs = 2, .max_inputs = 2,
                             .infer = broadcast_binary, .fast = binary_fast<SigmoidBackwardFn>,
                             .ref = binary_ref<SigmoidBackwardFn>, .grad = sigmoid_backward_grad,
                             .grad_reads = kReadsInputs, .chunk = binary_chunk<SigmoidBackwardFn>};

}  // namespace

Value neg(Value x) { return x.graph->add(kNeg, {x}); }
Value exp(Value x) { return x.graph->add(kExp, {x}); }
Value log(Value x) { return x.graph->add(kLog, {x}); }
Value log1p(Value x) { return x.graph->add(kLog1p, {x}); }
Value sqrt(Value x) { return x.graph->add(kSqrt, {x}); }
Value square(Value x) { return x.graph->add(kSquare, {x}); }
Value abs(Value x) { return x.graph->add(kAbs, {x}); }
Value sign(Value x) { return x.graph->add(kSign, {x}); }
Value sigmoid(Value x) { return x.graph->add(kSigmoid, {x}); }
Value tanh(Value x) { return x.graph->add(kTanh, {x}); }
Value relu(Value x) { return x.graph->add(kRelu, {x}); }
Value leaky_relu(Value x, double slope) { return x.graph->add(kLeakyRelu, {x}, Attrs{{"slope", slope}}); }
Value softplus(Value x) { return x.graph->add(kSoftplus, {x}); }
Value sigmoid_backward(Value dy, Value y) { return y.graph->add(kSigmoidBackward, {dy, y}); }

void detail::register_unary_ops(OpList& ops) {
  ops.insert(ops.end(), {&kNeg, &kExp, &kLog, &kLog1p, &kSqrt, &kSquare, &kAbs, &kSign, &kSigmoid, &kTanh, &kRelu,
                         &kLeakyRelu, &kSoftplus, &kSigmoidBackward});
}

}  // namespace anneal
