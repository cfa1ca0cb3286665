// Layer builders: a few lines of graph per layer, parameters named under the
// layer's name so "enc." selects the encoder's parameter group.
#pragma once
#include <string>

#include "graph/graph.hpp"

namespace anneal::nn {

struct Linear {
  Value W;  // [in, out]
  Value b;  // [out] (invalid when built without bias)
  Value operator()(Value x) const;
};

// A fully connected layer y = x W + b, x: [B, in] -> [B, out]. Parameters
// "<name>.W" and "<name>.b", initialized like PyTorch's nn.Linear (uniform
// ±1/sqrt(in)) unless `init` says otherwise; the bias then starts at zero.
Linear make_linear(Graph& g, const std::string& name, std::int64_t in, std::int64_t out, bool bias = true);
Linear make_linear(Graph& g, const std::string& name, std::int64_t in, std::int64_t out, Init init,
                   bool bias = true);

// Builds a layer for x's width and applies it.
Value linear(Graph& g, const std::string& name, Value x, std::int64_t out, bool bias = true);

}  // namespace anneal::nn
