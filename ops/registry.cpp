#include "ops/registry.hpp"

#include "graph/sources.hpp"
#include "ops/families.hpp"

namespace anneal {

const std::vector<const OpDef*>& all_ops() {
  // Explicit registration: self-registering statics get dropped by the
  // linker from static libraries.
  static const std::vector<const OpDef*> ops = [] {
    detail::OpList l{&input_op(), &param_op(), &state_op(), &constant_op()};
    detail::register_matmul_ops(l);
    detail::register_binary_ops(l);
    detail::register_unary_ops(l);
    detail::register_broadcast_ops(l);
    detail::register_reduce_ops(l);
    detail::register_shape_ops(l);
    detail::register_control_ops(l);
    detail::register_cast_ops(l);
    detail::register_random_ops(l);
    detail::register_update_rule_ops(l);
    return l;
  }();
  return ops;
}

const std::vector<ChunkCompound>& chunk_compounds() {
  static const std::vector<ChunkCompound> compounds = [] {
    std::vector<ChunkCompound> c;
    detail::register_update_rule_compounds(c);
    return c;
  }();
  return compounds;
}

const OpDef* find_op(const std::string& name) {
  for (const OpDef* op : all_ops())
    if (op->name == name) return op;
  return nullptr;
}

}  // namespace anneal
