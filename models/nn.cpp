#include "models/nn.hpp"

#include <cmath>

#include "backend/error.hpp"
#include "ops/ops.hpp"

namespace anneal::nn {

Value Linear::operator()(Value x) const {
  Value y = matmul(x, W);
  return b.valid() ? y + b : y;
}

Linear make_linear(Graph& g, const std::string& name, std::int64_t in, std::int64_t out, bool bias) {
  Linear l;
  l.W = g.param(name + ".W", {in, out}, Init::torch_linear());
  double bound = 1.0 / std::sqrt(static_cast<double>(in));
  if (bias) l.b = g.param(name + ".b", {out}, Init::uniform(-bound, bound));
  return l;
}

Linear make_linear(Graph& g, const std::string& name, std::int64_t in, std::int64_t out, Init init, bool bias) {
  Linear l;
  l.W = g.param(name + ".W", {in, out}, init);
  if (bias) l.b = g.param(name + ".b", {out}, Init::zeros());
  return l;
}

Value linear(Graph& g, const std::string& name, Value x, std::int64_t out, bool bias) {
  if (x.rank() != 2)
    throw InvalidInput("nn::linear '" + name + "': input '" + x.name() + "' must be [B, features], got " +
                       dims_str(x.shape()));
  return make_linear(g, name, x.shape()[1], out, bias)(x);
}

}  // namespace anneal::nn
