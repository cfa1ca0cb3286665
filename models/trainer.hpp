// One training step = one session run: fetch the loss (and monitors), run
// every optimizer's updates and any further state updates (e.g. PCD's
// persistent chains) as targets. Schedules are applied before each step from
// the fractional epoch.
#pragma once
#include <vector>

#include "models/optim.hpp"
#include "runtime/session.hpp"

namespace anneal {

class Trainer {
 public:
  Trainer(Session& session, Value loss, std::vector<Optimizer> optimizers, std::vector<Value> monitors = {},
          std::vector<Value> state_updates = {});

  // Runs one step; returns the loss followed by the monitors, as doubles
  // (valid until the next step). Allocates nothing once warm.
  const std::vector<double>& step(const Feeds& feeds, double epoch = 0.0);

  Session& session() { return session_; }
  std::vector<Optimizer>& optimizers() { return optimizers_; }

 private:
  Session& session_;
  std::vector<Value> fetches_;
  std::vector<Value> targets_;
  std::vector<Optimizer> optimizers_;
  std::vector<double> values_;
  std::vector<Tensor> owned_;  // the interpreter's results
};

}  // namespace anneal
