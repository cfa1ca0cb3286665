// (being written)
#include "ops/families.hpp"
#include "ops/ops.hpp"

namespace anneal {
void detail::register_shape_ops(OpList&) {}
}  // namespace anneal
