// Sampling a trained RBM: K steps of block Gibbs sampling from random states,
// each step one run of a small compiled graph whose chains are graph state.
#pragma once
#include <cstdint>

#include "backend/tensor.hpp"
#include "models/rbm.hpp"

namespace anneal::rbm {

struct SampleOptions {
  std::int64_t count = 100;      // independent chains
  int gibbs_steps = 1000;
  std::uint64_t seed = 0;
  std::int64_t doc_length = 0;   // replicated softmax: words per sampled document
};

struct Samples {
  Tensor state;  // the chains' visible states after the last step [count, V]
  Tensor mean;   // E[v | h], h ~ p(h | state): the usual picture [count, V]
};

// The chains of one RBM in its graph: state "<name>.sample.chains", an
// assign to random states (the visible units at zero input: fair coins,
// uniform categories, N(0, σ²)), an assign doing one Gibbs step, and the
// mean of the visible units given a hidden sample.
struct Chains {
  Value state, init, step, mean;
};
Chains make_chains(const Rbm& rbm, std::int64_t count, std::int64_t doc_length = 0);
// Runs init, then `steps` Gibbs steps.
void run_chains(Session& s, const Chains& c, int steps);

Samples sample(Session& trained, const Rbm& rbm, const SampleOptions& options = {});

}  // namespace anneal::rbm
