// The ops that start a graph: inputs, parameters, state and constants. Their
// values come from the session, not from a kernel (constants excepted).
#pragma once
#include "graph/op_def.hpp"

namespace anneal {

const OpDef& input_op();
const OpDef& param_op();
const OpDef& state_op();
const OpDef& constant_op();

}  // namespace anneal
