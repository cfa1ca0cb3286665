// Every op by name: what the JSON loader and the op tests walk.
#pragma once
#include <string>
#include <vector>

#include "graph/op_def.hpp"

namespace anneal {

// All ops, sources included, in a fixed order (built on first use).
const std::vector<const OpDef*>& all_ops();
// nullptr when no op has that name.
const OpDef* find_op(const std::string& name);
// Runs of elementwise ops a fused pass computes in one loop (an optimizer's update).
const std::vector<ChunkCompound>& chunk_compounds();

}  // namespace anneal
