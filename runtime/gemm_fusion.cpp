#include "runtime/gemm_fusion.hpp"

#include "graph/shape_rules.hpp"

namespace anneal {
namespace {

bool plain_matmul(const Analysis& a, int id) { return is_op(a.node(id), "matmul") && a.node(id).type.dtype == DType::f32; }

GemmActivation gemm_activation(PostOp p) {
  switch (p) {
    case PostOp::relu: return GemmActivation::relu;
    case PostOp::leaky_relu: return GemmActivation::leaky_relu;
    case PostOp::sigmoid: return GemmActivation::sigmoid;
    case PostOp::tanh: return GemmActivation::tanh;
    case PostOp::none: break;
  }
  return GemmActivation::none;
}

}  // namespace

// matmul -> add(bias row) -> activation, each intermediate used only by the next.
MatmulFusion fuse_matmul(const Analysis& a, int m, bool enabled) {
  MatmulFusion f;
  f.matmul = f.out = m;
  f.nodes = {m};
  if (!enabled) return f;
  Dims mshape = a.shape(m);
  const auto& cs = a.consumers[static_cast<std::size_t>(m)];
  if (cs.size() == 1 && a.single_consumer(m, cs[0]) && is_op(a.node(cs[0]), "add")) {
    int add = cs[0];
    int other = a.in(add, 0) == m ? a.in(add, 1) : a.in(add, 0);
    Dims bs = a.shape(other);
    bool row = (bs.size() == 1 && bs[0] == mshape[1]) || (bs.size() == 2 && bs[0] == 1 && bs[1] == mshape[1]);
    if (other != m && row && a.shape(add) == mshape) {
      f.bias = other;
      f.out = add;
      f.nodes.push_back(add);
    }
  }
  const auto& cs2 = a.consumers[static_cast<std::size_t>(f.out)];
  if (cs2.size() == 1 && a.single_consumer(f.out, cs2[0])) {
    const Node& x = a.node(cs2[0]);
    if (x.op->post_op != PostOp::none && a.shape(cs2[0]) == mshape) {
      f.act = gemm_activation(x.op->post_op);
      if (x.op->post_op == PostOp::leaky_relu) f.alpha = static_cast<float>(x.attrs.f("slope"));
      f.out = cs2[0];
      f.nodes.push_back(cs2[0]);
    }
  }
  return f;
}

// add(matmul, matmul) of one shape, each product used only by the add (how
// autodiff sums a weight's gradient over its uses): one step where the second
// GEMM accumulates into the first's output (oneDNN's sum post-op), so the two
// products never exist apart and no pass adds them.
MatmulFusion pair_matmuls(const Analysis& a, int m) {
  MatmulFusion f;
  const auto& cs = a.consumers[static_cast<std::size_t>(m)];
  if (cs.size() != 1 || !a.single_consumer(m, cs[0]) || !is_op(a.node(cs[0]), "add")) return f;
  int add = cs[0];
  int other = a.in(add, 0) == m ? a.in(add, 1) : a.in(add, 0);
  if (other == m || !plain_matmul(a, other) || !a.single_consumer(other, add) || a.shape(other) != a.shape(m) ||
      a.shape(add) != a.shape(m))
    return f;
  f.matmul = m;
  f.second = other;
  f.out = add;
  f.nodes = {m, other, add};
  return f;
}

std::string gemm_label(const MatmulFusion& f) {
  std::string s = f.second >= 0 ? "gemm+gemm" : "gemm";
  if (f.bias >= 0) s += "+bias";
  switch (f.act) {
    case GemmActivation::relu: s += "+relu"; break;
    case GemmActivation::leaky_relu: s += "+leaky_relu"; break;
    case GemmActivation::sigmoid: s += "+sigmoid"; break;
    case GemmActivation::tanh: s += "+tanh"; break;
    case GemmActivation::none: break;
  }
  return s;
}

}  // namespace anneal
