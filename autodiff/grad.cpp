#include "autodiff/grad.hpp"

#include <vector>

#include "backend/error.hpp"
#include "ops/ops.hpp"

namespace anneal {

std::vector<Value> grad(Value loss, const std::vector<Value>& wrt) {
  if (!loss.valid()) throw InvalidInput("grad: the loss is not a valid value");
  Graph& g = *loss.graph;
  if (!loss.shape().empty() || loss.dtype() != DType::f32)
    throw InvalidInput("grad: the loss must be an f32 scalar, but node '" + loss.name() + "' is " +
                       dims_str(loss.shape()) + " " + dtype_name(loss.dtype()));
  const int n = loss.id + 1;

  // Only nodes on a path from some w to the loss need a gradient.
  std::vector<char> from_wrt(static_cast<std::size_t>(n), 0), to_loss(static_cast<std::size_t>(n), 0);
  for (const Value& w : wrt) {
    if (w.graph != &g) throw InvalidInput("grad: '" + w.name() + "' belongs to another graph");
    if (w.id < n) from_wrt[static_cast<std::size_t>(w.id)] = 1;
  }
  for (int i = 0; i < n; ++i) {
    const Node& nd = g.node(i);
    if (nd.op->not_differentiable && !from_wrt[static_cast<std::size_t>(i)]) continue;
    for (const Value& in : nd.inputs)
      if (from_wrt[static_cast<std::size_t>(in.id)] && !nd.op->not_differentiable) from_wrt[static_cast<std::size_t>(i)] = 1;
  }
  to_loss[static_cast<std::size_t>(loss.id)] = 1;
  for (int i = n - 1; i >= 0; --i) {
    if (!to_loss[static_cast<std::size_t>(i)]) continue;
    for (const Value& in : g.node(i).inputs) to_loss[static_cast<std::size_t>(in.id)] = 1;
  }

  std::vector<Value> grads(static_cast<std::size_t>(n));
  grads[static_cast<std::size_t>(loss.id)] = g.scalar(1.0);
  for (int i = n - 1; i >= 0; --i) {
    auto ui = static_cast<std::size_t>(i);
    if (!grads[ui].valid() || !from_wrt[ui] || !to_loss[ui]) continue;
    const Node& nd = g.node(i);
    if (nd.op->not_differentiable || nd.inputs.empty()) continue;
    if (!nd.op->grad)
      throw InvalidInput("grad: " + nd.describe() + " has no gradient rule");
    Graph::Scope scope(g, "grad(" + nd.name + ")/");
    Value out = nd.value();
    std::vector<Value> in_grads = nd.op->grad(GradArgs{nd, out, grads[ui]});
    for (std::size_t k = 0; k < nd.inputs.size() && k < in_grads.size(); ++k) {
      const Value& in = nd.inputs[k];
      auto uk = static_cast<std::size_t>(in.id);
      if (!in_grads[k].valid() || !from_wrt[uk]) continue;
      if (in_grads[k].shape() != in.shape())
        throw Error("grad: the gradient rule of " + nd.describe() + " gave input " + std::to_string(k) +
                    " a gradient of shape " + dims_str(in_grads[k].shape()));
      grads[uk] = grads[uk].valid() ? grads[uk] + in_grads[k] : in_grads[k];
    }
  }

  std::vector<Value> out;
  for (const Value& w : wrt) {
    if (w.id < n && grads[static_cast<std::size_t>(w.id)].valid()) {
      out.push_back(grads[static_cast<std::size_t>(w.id)]);
    } else {
      if (w.dtype() != DType::f32) throw InvalidInput("grad: '" + w.name() + "' is not f32");
      Value zero = g.scalar(0.0);
      out.push_back(w.node().op->role == OpRole::input ? broadcast_like(zero, w)
                                                        : g.constant(Tensor::zeros(DType::f32, w.shape())));
    }
  }
  return out;
}

}  // namespace anneal
