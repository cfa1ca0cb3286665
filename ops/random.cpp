// (being written)
#include "ops/families.hpp"
#include "ops/ops.hpp"

namespace anneal {
void detail::register_random_ops(OpList&) {}
}  // namespace anneal
