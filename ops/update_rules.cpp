// Update rules that optimizers are written with: axpby (a*x + b*y, a moving
// average or a momentum step) and adam_update. Each is one loop with its
// arithmetic in registers. Why not primitives: the fused pass runs one loop
// per op over each chunk, and Adam written with primitives (13 ops) made 13
// loops through L1 per chunk, 3-5x slower than one loop; on the VAE
// workload its two big update passes were a quarter of the step.
#include <array>
#include <cmath>

#include "ops/elementwise.hpp"
#include "ops/families.hpp"
#include "ops/ops.hpp"

namespace anneal {
namespace {

// A rule reads `Tensors` same-shape tensors, then scalar (0-d)
// hyper-parameters; `at` is its arithmetic for one element, which the
// compounds below share.
struct AxpbyRule {
  static constexpr std::size_t kTensors = 2, kScalars = 2;
  template <class T> static T at(T x, T y, T a, T b) { return a * x + b * y; }
  template <class T>
  ANNEAL_SIMD_CLONES static void loop(const T* const* t, const T* s, T* o, std::int64_t n) {
    const T *x = t[0], *y = t[1];
    const T a = s[0], b = s[1];
#pragma GCC ivdep  // o is one of the inputs (an in-place update) or apart from all
    for (std::int64_t i = 0; i < n; ++i) o[i] = at(x[i], y[i], a, b);
  }
};

struct AdamUpdateRule {
  static constexpr std::size_t kTensors = 3, kScalars = 2;
  template <class T> static T at(T p, T m, T v, T lr, T eps) { return p - lr * m / (std::sqrt(v) + eps); }
  template <class T>
  ANNEAL_SIMD_CLONES static void loop(const T* const* t, const T* s, T* o, std::int64_t n) {
    const T *p = t[0], *m = t[1], *v = t[2];
    const T lr = s[0], eps = s[1];
#pragma GCC ivdep
    for (std::int64_t i = 0; i < n; ++i) o[i] = at(p[i], m[i], v[i], lr, eps);
  }
};

// --- compounds: an optimizer's update as one loop (see ChunkCompound) ---------
// Each output is written at the index it was read from (an in-place update
// of a moment or parameter), never elsewhere.

// optim.cpp's Adam: m' = axpby(m, g, b1, 1 - b1), g2 = square(g),
// v' = axpby(v, g2, b2, 1 - b2), p' = adam_update(p, m', v', step, eps).
ANNEAL_SIMD_CLONES void adam_compound(const float* const* in, float* const* out, std::int64_t n) {
  const float *m = in[0], *g = in[1], *v = in[4], *p = in[7];
  const float b1 = in[2][0], keep1 = in[3][0], b2 = in[5][0], keep2 = in[6][0], step = in[8][0], eps = in[9][0];
  float *m_out = out[0], *g2_out = out[1], *v_out = out[2], *p_out = out[3];
#pragma GCC ivdep
  for (std::int64_t i = 0; i < n; ++i) {
    const float mi = AxpbyRule::at(m[i], g[i], b1, keep1);
    const float g2 = g[i] * g[i];  // square's arithmetic (ops/unary.cpp)
    const float vi = AxpbyRule::at(v[i], g2, b2, keep2);
    m_out[i] = mi;
    g2_out[i] = g2;
    v_out[i] = vi;
    p_out[i] = AdamUpdateRule::at(p[i], mi, vi, step, eps);
  }
}

// SGD with momentum: v' = axpby(v, g, mu, 1), p' = axpby(p, v', 1, -lr).
ANNEAL_SIMD_CLONES void axpby_chain_compound(const float* const* in, float* const* out, std::int64_t n) {
  const float *x = in[0], *y = in[1], *x2 = in[4];
  const float a = in[2][0], b = in[3][0], a2 = in[5][0], b2 = in[6][0];
  float *first = out[0], *second = out[1];
#pragma GCC ivdep
  for (std::int64_t i = 0; i < n; ++i) {
    const float t = AxpbyRule::at(x[i], y[i], a, b);
    first[i] = t;
    second[i] = AxpbyRule::at(x2[i], t, a2, b2);
  }
}

template <class R>
TypeInfo rule_type(const Node& n) {
  const Dims& shape = n.input_type(0).shape;
  for (std::size_t i = 0; i < n.inputs.size(); ++i) {
    const TypeInfo& t = n.input_type(i);
    if (t.dtype != DType::f32) throw ShapeError(n.op->name + " takes f32 inputs; input " + std::to_string(i) + " is not");
    if (i < R::kTensors && t.shape != shape)
      throw ShapeError(n.op->name + ": input " + std::to_string(i) + " must have input 0's shape " + dims_str(shape));
    if (i >= R::kTensors && !t.shape.empty())
      throw ShapeError(n.op->name + ": input " + std::to_string(i) + " must be a scalar (shape [])");
  }
  return {DType::f32, shape};
}

template <class R, class T>
void rule_kernel(KernelArgs& a, bool parallel) {
  std::array<const T*, R::kTensors> t{};
  std::array<T, R::kScalars> s{};
  for (std::size_t k = 0; k < R::kTensors; ++k) t[k] = a.in[k]->data<T>();
  for (std::size_t k = 0; k < R::kScalars; ++k) s[k] = a.in[R::kTensors + k]->template data<T>()[0];
  T* o = a.out.data<T>();
  auto body = [&](std::int64_t b, std::int64_t e) {
    std::array<const T*, R::kTensors> tb{};
    for (std::size_t k = 0; k < R::kTensors; ++k) tb[k] = t[k] + b;
    R::loop(tb.data(), s.data(), o + b, e - b);
  };
  if (parallel) parallel_for(a.out.numel(), kElementwiseGrain, body); else body(0, a.out.numel());
}
template <class R> void rule_fast(KernelArgs& a) { rule_kernel<R, float>(a, true); }
template <class R> void rule_ref(KernelArgs& a) { rule_kernel<R, double>(a, false); }
// In a fused pass the tensors are chunks (or, in a pass of 0-d values, one
// value each: then n is 1) and the hyper-parameters are scalars.
template <class R> void rule_chunk(const ChunkArgs& a) {
  std::array<float, R::kScalars> s{};
  for (std::size_t k = 0; k < R::kScalars; ++k) s[k] = a.in[R::kTensors + k][0];
  R::loop(a.in, s.data(), a.out, a.n);
}

std::vector<Value> axpby_grad(const GradArgs& g) {
  const auto& in = g.node.inputs;
  return {g.dout * in[2], g.dout * in[3], sum_to_like(g.dout * in[0], in[2]), sum_to_like(g.dout * in[1], in[3])};
}

template <class R>
OpDef rule(const char* name, GradFn grad, const char* not_diff = nullptr) {
  constexpr int inputs = static_cast<int>(R::kTensors + R::kScalars);
  return OpDef{.name = name, .min_inputs = inputs, .max_inputs = inputs, .infer = rule_type<R>,
               .fast = rule_fast<R>, .ref = rule_ref<R>, .grad = grad, .grad_reads = kReadsInputs,
               .not_differentiable = not_diff, .chunk = rule_chunk<R>};
}

const OpDef kAxpby = rule<AxpbyRule>("axpby", axpby_grad);
const OpDef kAdamUpdate =
    rule<AdamUpdateRule>("adam_update", nullptr, "an optimizer's update rule: a step, never differentiated");

}  // namespace

Value axpby(Value x, Value y, Value a, Value b) { return x.graph->add(kAxpby, {x, y, a, b}); }
Value adam_update(Value p, Value m, Value v, Value lr, Value eps) {
  return p.graph->add(kAdamUpdate, {p, m, v, lr, eps});
}

void detail::register_update_rule_ops(OpList& ops) { ops.insert(ops.end(), {&kAxpby, &kAdamUpdate}); }

void detail::register_update_rule_compounds(std::vector<ChunkCompound>& compounds) {
  compounds.push_back({.ops = {"axpby", "square", "axpby", "adam_update"},
                       .inputs = {"abcd", "b", "e1fg", "h02ij"},
                       .scalars = "cdfgij",
                       .fn = adam_compound});
  compounds.push_back({.ops = {"axpby", "axpby"}, .inputs = {"abcd", "e0fg"}, .scalars = "cdfg", .fn = axpby_chain_compound});
}

}  // namespace anneal
