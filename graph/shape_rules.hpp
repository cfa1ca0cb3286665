// Shared pieces of shape rules: broadcasting and axis normalization, aware of
// the symbolic batch dimension.
#pragma once
#include <cstdint>
#include <vector>

#include "backend/tensor.hpp"

namespace anneal {

// NumPy broadcasting. The batch dim broadcasts with 1 and with itself only.
// Throws ShapeError.
Dims broadcast_shapes(const Dims& a, const Dims& b);
// Normalizes a possibly negative axis against `rank`; throws ShapeError.
std::int64_t normalize_axis(std::int64_t axis, std::int64_t rank);
// Sorted, unique, normalized axes; empty `axes` means all axes.
std::vector<std::int64_t> normalize_axes(const std::vector<std::int64_t>& axes, std::int64_t rank);
// `shape` with `axes` removed (or set to 1 when keepdims).
Dims reduced_shape(const Dims& shape, const std::vector<std::int64_t>& axes, bool keepdims);
// Replaces the batch marker by `batch`.
Dims resolve_batch(const Dims& shape, std::int64_t batch);

}  // namespace anneal
