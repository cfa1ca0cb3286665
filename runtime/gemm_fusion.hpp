// Internal to Program::compile: which nodes around a matmul one oneDNN GEMM
// step computes (bias, activation, a second product, a momentum update).
#pragma once
#include <string>
#include <vector>

#include "backend/gemm.hpp"
#include "runtime/analysis.hpp"

namespace anneal {

struct MatmulFusion {
  int matmul = -1, bias = -1, out = -1;
  int second = -1;  // a plain matmul whose product the GEMM adds onto the first's (C += A2 B2)
  int onto = -1;    // a state the products are added onto, scaled: out = scale * onto + products
  int scale = -1;   // that scalar
  std::vector<int> nodes;
  GemmActivation act = GemmActivation::none;
  float alpha = 0;
};

// matmul -> add(bias row) -> activation, each intermediate used only by the next.
MatmulFusion fuse_matmul(const Analysis& a, int m, bool enabled);
// add(matmul, matmul) of one shape: the second GEMM accumulates onto the first.
MatmulFusion pair_matmuls(const Analysis& a, int m);
// v_new = mu * v + products, assigned back to v: the GEMM adds onto v.
void accumulate_onto_state(const Analysis& a, MatmulFusion& f);
// What describe() prints for the step ("gemm+bias+relu").
std::string gemm_label(const MatmulFusion& f);

}  // namespace anneal
