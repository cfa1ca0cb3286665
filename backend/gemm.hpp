// Single-precision GEMM on oneDNN matmul primitives, created once per
// (shape, transposes, accumulate, thread count) and cached.
#pragma once
#include <cstdint>
#include <string>

namespace anneal {

// C[M,N] = op(A)[M,K] * op(B)[K,N] (+ C when accumulate). Row-major; op(X) is
// X or its transpose, read through strides (no copy).
void gemm_f32(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
              const float* a, const float* b, float* c, bool accumulate = false);

// Number of distinct matmul primitives created so far (tests, benchmarks).
std::int64_t gemm_primitive_count();

// "oneDNN 2.6.3 (cpu: OpenMP)": the version and threading runtime in use.
std::string onednn_version();

}  // namespace anneal
