// A fast NaN/Inf scan, run on every value a checked training step produces.
#pragma once
#include <cstdint>

namespace anneal {

// On the calling thread's share of the thread budget (backend/threads.hpp).
bool all_finite(const float* p, std::int64_t n);
bool all_finite(const double* p, std::int64_t n);

}  // namespace anneal
