#include "graph/shape_rules.hpp"

#include <algorithm>

#include "graph/graph.hpp"

namespace anneal {

Dims broadcast_shapes(const Dims& a, const Dims& b) {
  std::size_t r = std::max(a.size(), b.size());
  Dims out(r);
  for (std::size_t i = 0; i < r; ++i) {
    std::int64_t x = i < r - a.size() ? 1 : a[i - (r - a.size())];
    std::int64_t y = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (x == y || y == 1) out[i] = x;
    else if (x == 1) out[i] = y;
    else throw ShapeError("shapes " + dims_str(a) + " and " + dims_str(b) + " do not broadcast");
  }
  return out;
}

std::int64_t normalize_axis(std::int64_t axis, std::int64_t rank) {
  std::int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw ShapeError("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return a;
}

std::vector<std::int64_t> normalize_axes(const std::vector<std::int64_t>& axes, std::int64_t rank) {
  std::vector<std::int64_t> out;
  if (axes.empty()) {
    for (std::int64_t i = 0; i < rank; ++i) out.push_back(i);
    return out;
  }
  for (auto a : axes) out.push_back(normalize_axis(a, rank));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end()) throw ShapeError("repeated axis");
  return out;
}

Dims reduced_shape(const Dims& shape, const std::vector<std::int64_t>& axes, bool keepdims) {
  Dims out;
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(shape.size()); ++i) {
    bool reduced = std::find(axes.begin(), axes.end(), i) != axes.end();
    if (!reduced) out.push_back(shape[static_cast<std::size_t>(i)]);
    else if (keepdims) out.push_back(1);
  }
  return out;
}

Dims resolve_batch(const Dims& shape, std::int64_t batch) {
  Dims out = shape;
  for (auto& d : out)
    if (d == Dim::batch()) d = batch;
  return out;
}

}  // namespace anneal
