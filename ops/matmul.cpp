// matmul: [M,K] x [K,N] -> [M,N], either operand optionally transposed.
// Fast kernel: a cached oneDNN matmul primitive. Reference: a triple loop.
#include "backend/gemm.hpp"
#include "ops/families.hpp"
#include "ops/ops.hpp"

namespace anneal {
namespace {

struct MatmulDims {
  std::int64_t m, n, k;
};

MatmulDims dims_of(const Dims& a, const Dims& b, bool ta, bool tb) {
  return {ta ? a[1] : a[0], tb ? b[0] : b[1], ta ? a[0] : a[1]};
}

TypeInfo matmul_type(const Node& n) {
  const Dims& a = n.input_type(0).shape;
  const Dims& b = n.input_type(1).shape;
  if (n.input_type(0).dtype != DType::f32 || n.input_type(1).dtype != DType::f32)
    throw ShapeError("matmul takes f32 inputs");
  if (a.size() != 2 || b.size() != 2) throw ShapeError("matmul takes two matrices");
  bool ta = n.attrs.i("trans_a") != 0, tb = n.attrs.i("trans_b") != 0;
  std::int64_t ka = ta ? a[0] : a[1], kb = tb ? b[1] : b[0];
  if (ka != kb)
    throw ShapeError("inner dimensions differ: " + dims_str(a) + (ta ? "^T" : "") + " x " + dims_str(b) +
                     (tb ? "^T" : ""));
  MatmulDims d = dims_of(a, b, ta, tb);
  return {DType::f32, {d.m, d.n}};
}

void matmul_fast(KernelArgs& a) {
  bool ta = a.node.attrs.i("trans_a") != 0, tb = a.node.attrs.i("trans_b") != 0;
  MatmulDims d = dims_of(a.in[0]->shape(), a.in[1]->shape(), ta, tb);
  gemm_f32(ta, tb, d.m, d.n, d.k, a.in[0]->data<float>(), a.in[1]->data<float>(), a.out.data<float>());
}

void matmul_ref(KernelArgs& a) {
  bool ta = a.node.attrs.i("trans_a") != 0, tb = a.node.attrs.i("trans_b") != 0;
  const Dims& as = a.in[0]->shape();
  const Dims& bs = a.in[1]->shape();
  MatmulDims d = dims_of(as, bs, ta, tb);
  const double* pa = a.in[0]->data<double>();
  const double* pb = a.in[1]->data<double>();
  double* pc = a.out.data<double>();
  for (std::int64_t i = 0; i < d.m; ++i)
    for (std::int64_t j = 0; j < d.n; ++j) {
      double s = 0;
      for (std::int64_t p = 0; p < d.k; ++p)
        s += (ta ? pa[p * as[1] + i] : pa[i * as[1] + p]) * (tb ? pb[j * bs[1] + p] : pb[p * bs[1] + j]);
      pc[i * d.n + j] = s;
    }
}

std::vector<Value> matmul_grad(const GradArgs& g) {
  const Value& A = g.node.inputs[0];
  const Value& B = g.node.inputs[1];
  const Value& dC = g.dout;
  bool ta = g.node.attrs.i("trans_a") != 0, tb = g.node.attrs.i("trans_b") != 0;
  if (!ta && !tb) return {matmul(dC, B, false, true), matmul(A, dC, true, false)};
  if (!ta && tb) return {matmul(dC, B), matmul(dC, A, true, false)};
  if (ta && !tb) return {matmul(B, dC, false, true), matmul(A, dC)};
  return {matmul(B, dC, true, true), matmul(dC, A, true, true)};
}

const OpDef kMatmul{.name = "matmul", .min_inputs = 2, .max_inputs = 2,
                    .attrs = {{"trans_a", AttrKind::i64, AttrValue{std::int64_t{0}}},
                              {"trans_b", AttrKind::i64, AttrValue{std::int64_t{0}}}},
                    .infer = matmul_type, .fast = matmul_fast, .ref = matmul_ref, .grad = matmul_grad,
                    .grad_reads = kReadsInputs};

}  // namespace

Value matmul(Value a, Value b, bool trans_a, bool trans_b) {
  return a.graph->add(kMatmul, {a, b},
                      Attrs{{"trans_a", std::int64_t{trans_a}}, {"trans_b", std::int64_t{trans_b}}});
}

void detail::register_matmul_ops(OpList& ops) { ops.push_back(&kMatmul); }

}  // namespace anneal
