#include "ops/elementwise.hpp"

#include "backend/error.hpp"
#include "graph/shape_rules.hpp"

namespace anneal {

Broadcast::Broadcast(const Dims& out_shape, std::initializer_list<const Tensor*> in) {
  if (out_shape.size() > kMaxRank || in.size() > kMaxInputs)
    throw Error("broadcast of rank " + std::to_string(out_shape.size()) + " exceeds the kernel limit");
  rank = out_shape.size();
  std::copy(out_shape.begin(), out_shape.end(), out.begin());
  std::size_t k = 0;
  for (const Tensor* t : in) add_input(k++, t->shape());
}

Broadcast::Broadcast(const Dims& out_shape, const std::vector<const Tensor*>& in) {
  if (out_shape.size() > kMaxRank || in.size() > kMaxInputs)
    throw Error("broadcast of rank " + std::to_string(out_shape.size()) + " exceeds the kernel limit");
  rank = out_shape.size();
  std::copy(out_shape.begin(), out_shape.end(), out.begin());
  for (std::size_t k = 0; k < in.size(); ++k) add_input(k, in[k]->shape());
}

void Broadcast::add_input(std::size_t k, const Dims& s) {
  std::int64_t stride = 1;
  for (std::size_t j = 0; j < s.size(); ++j) {
    std::size_t axis = s.size() - 1 - j;
    std::size_t oaxis = rank - 1 - j;
    strides[k][oaxis] = s[axis] == 1 ? 0 : stride;
    stride *= s[axis];
  }
}

bool is_trailing_block(const Dims& big, const Dims& small) {
  std::size_t lead = 0;
  while (lead < small.size() && small[lead] == 1) ++lead;
  std::size_t len = small.size() - lead;
  if (len > big.size()) return false;
  return std::equal(small.begin() + static_cast<std::ptrdiff_t>(lead), small.end(),
                    big.end() - static_cast<std::ptrdiff_t>(len));
}

bool is_leading_block(const Dims& big, const Dims& small) {
  if (small.size() > big.size()) return false;
  const std::size_t pad = big.size() - small.size();
  std::size_t k = big.size();
  while (k > 0 && (k <= pad ? 1 : small[k - 1 - pad]) == 1) --k;
  for (std::size_t d = 0; d < k; ++d)
    if ((d < pad ? 1 : small[d - pad]) != big[d]) return false;
  return true;
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
