#include "ops/elementwise.hpp"

#include "graph/shape_rules.hpp"

namespace anneal {

Broadcast::Broadcast(const Dims& out_shape, const std::vector<const Tensor*>& in) : out(out_shape) {
  std::size_t r = out.size();
  for (const Tensor* t : in) {
    const Dims& s = t->shape();
    if (s != out) plain = false;
    std::vector<std::int64_t> st(r, 0);
    std::int64_t stride = 1;
    for (std::size_t j = 0; j < s.size(); ++j) {
      std::size_t axis = s.size() - 1 - j;
      std::size_t oaxis = r - 1 - j;
      st[oaxis] = s[axis] == 1 ? 0 : stride;
      stride *= s[axis];
    }
    strides.push_back(std::move(st));
  }
}

std::int64_t Broadcast::offset(std::size_t k, std::int64_t i) const {
  std::int64_t off = 0;
  const auto& st = strides[k];
  for (std::size_t d = out.size(); d-- > 0;) {
    std::int64_t idx = i % out[d];
    i /= out[d];
    off += idx * st[d];
  }
  return off;
}

namespace {
void require_float(const Node& n, std::size_t i) {
  if (n.input_type(i).dtype != DType::f32)
    throw ShapeError("input " + std::to_string(i) + " must be f32, got " + dtype_name(n.input_type(i).dtype));
}
}  // namespace

TypeInfo same_as_input(const Node& n) {
  require_float(n, 0);
  return n.input_type(0);
}

TypeInfo broadcast_binary(const Node& n) {
  require_float(n, 0);
  require_float(n, 1);
  return {DType::f32, broadcast_shapes(n.input_type(0).shape, n.input_type(1).shape)};
}

}  // namespace anneal
