// Losses: composites of primitives, so their gradients (and second
// derivatives) come from the primitives' rules.
#include "backend/error.hpp"
#include "ops/ops.hpp"

namespace anneal {

// -log(sigmoid(x)) * t - log(1 - sigmoid(x)) * (1 - t) simplifies to
// softplus(x) - x * t, which stays finite for any logit.
Value bce_with_logits(Value logits, Value targets) { return softplus(logits) - logits * targets; }

Value mse(Value a, Value b) { return mean(square(a - b)); }

Value cross_entropy(Value logits, Value labels) {
  if (logits.rank() != 2 || labels.rank() != 1 || logits.shape()[1] == Dim::batch())
    throw InvalidInput("cross_entropy: expects logits [B, K] and labels [B], got " + dims_str(logits.shape()) +
                       " ('" + logits.name() + "') and " + dims_str(labels.shape()) + " ('" + labels.name() + "')");
  return -sum(log_softmax(logits, 1) * one_hot(labels, logits.shape()[1]), {1});
}

// KL(N(mu, s^2) || N(0, 1)) = -1/2 (1 + log s^2 - mu^2 - s^2), per element.
Value kl_normal_std(Value mu, Value logvar) { return -0.5 * (1.0 + logvar - square(mu) - exp(logvar)); }

}  // namespace anneal
