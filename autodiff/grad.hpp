// Reverse-mode autodiff as a graph transformation: grad() appends gradient
// nodes to the graph, built from each op's gradient rule with ordinary ops, so
// a gradient can be run, printed, saved and differentiated again.
#pragma once
#include <vector>

#include "graph/graph.hpp"

namespace anneal {

// d(loss)/d(w) for each w in `wrt`, in the same order. `loss` must be an f32
// scalar. Nodes created for node X are named "grad(X)/...". A `wrt` that the
// loss does not depend on gets zeros of its shape. Throws InvalidInput naming
// the node whose op has no gradient rule (and is not declared not
// differentiable).
std::vector<Value> grad(Value loss, const std::vector<Value>& wrt);

}  // namespace anneal
