// Internal to Program::compile: which nodes around a matmul one oneDNN GEMM
// step computes (bias, activation, a second product).
#pragma once
#include <string>
#include <vector>

#include "backend/gemm.hpp"
#include "runtime/analysis.hpp"

namespace anneal {

struct MatmulFusion {
  int matmul = -1, bias = -1, out = -1;
  int second = -1;  // a plain matmul whose product the GEMM adds onto the first's (C += A2 B2)
  std::vector<int> nodes;
  GemmActivation act = GemmActivation::none;
  float alpha = 0;
};

// matmul -> add(bias row) -> activation, each intermediate used only by the next.
MatmulFusion fuse_matmul(const Analysis& a, int m, bool enabled);
// add(matmul, matmul) of one shape: the second GEMM accumulates onto the first.
MatmulFusion pair_matmuls(const Analysis& a, int m);
// What describe() prints for the step ("gemm+bias+relu").
std::string gemm_label(const MatmulFusion& f);

}  // namespace anneal
