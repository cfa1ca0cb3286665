// One harness for every op test: each OpCase builds a small graph from
// parameter inputs, and the harness checks (1) the fast f32 kernels against
// the f64 reference kernels, (2) autodiff gradients against central finite
// differences in f64, (3) optionally second-order gradients.
// Test files register cases with ANNEAL_OP_CASES; a test walks the op
// registry and fails on any op without a case.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "anneal.hpp"

namespace anneal::test {

struct InputSpec {
  Dims shape;
  // Values in [lo, hi] (uniform); ints draws integers in [lo, hi).
  double lo = -1.0, hi = 1.0;
  bool integer = false;  // an i32 state input (labels), never differentiated
  // Kinks (relu, abs at 0): values nearer zero than this are moved to ±min_abs,
  // so finite differences never straddle the kink.
  double min_abs = 0.0;
};

struct OpCase {
  std::string name;          // for messages
  std::vector<std::string> ops;  // op names this case covers
  std::vector<InputSpec> inputs;
  std::function<Value(Graph&, const std::vector<Value>&)> build;
  bool check_grad = true;
  bool second_order = false;
  double step = 1e-6;        // finite-difference step
  double tol = 1e-6;         // gradient tolerance (relative, with floor 1)
  double fast_tol = 1e-5;    // relative L2 error of fast vs reference
  bool stochastic = false;   // outputs random: only fast vs reference (same stream)
};

std::vector<OpCase>& registered_cases();
// ||a - b|| / ||b||: how the fast kernels are compared with the reference.
double rel_l2(const Tensor& a, const Tensor& b);
bool register_cases(std::vector<OpCase> cases);

void check_fast_matches_reference(const OpCase& c);
void check_gradient(const OpCase& c);
void check_second_order(const OpCase& c);
void check_case(const OpCase& c);  // all that apply
void check_cases(const std::vector<OpCase>& cases);

}  // namespace anneal::test

#define ANNEAL_CAT2(a, b) a##b
#define ANNEAL_CAT(a, b) ANNEAL_CAT2(a, b)
// Registers a file's cases for the registry walk and runs them as one test.
#define ANNEAL_OP_CASES(test_name, ...)                                                          \
  static const std::vector<::anneal::test::OpCase> ANNEAL_CAT(anneal_cases_, __LINE__) = __VA_ARGS__; \
  static const bool ANNEAL_CAT(anneal_reg_, __LINE__) =                                            \
      ::anneal::test::register_cases(ANNEAL_CAT(anneal_cases_, __LINE__));                         \
  TEST_CASE(test_name) { ::anneal::test::check_cases(ANNEAL_CAT(anneal_cases_, __LINE__)); }
