// Internal: one registration function per op file (see registry.cpp).
#pragma once
#include <vector>

#include "graph/op_def.hpp"

namespace anneal::detail {

using OpList = std::vector<const OpDef*>;
void register_matmul_ops(OpList& ops);
void register_binary_ops(OpList& ops);
void register_unary_ops(OpList& ops);
void register_broadcast_ops(OpList& ops);
void register_reduce_ops(OpList& ops);
void register_shape_ops(OpList& ops);
void register_control_ops(OpList& ops);
void register_cast_ops(OpList& ops);
void register_random_ops(OpList& ops);
void register_update_rule_ops(OpList& ops);
void register_update_rule_compounds(std::vector<ChunkCompound>& compounds);

}  // namespace anneal::detail
