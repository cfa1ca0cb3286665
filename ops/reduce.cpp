// (being written)
#include "ops/families.hpp"
#include "ops/ops.hpp"

namespace anneal {
void detail::register_reduce_ops(OpList&) {}
}  // namespace anneal
