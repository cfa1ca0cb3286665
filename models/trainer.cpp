#include "models/trainer.hpp"

#include "backend/error.hpp"

namespace anneal {

Trainer::Trainer(Session& session, Value loss, std::vector<Optimizer> optimizers, std::vector<Value> monitors)
    : session_(session), optimizers_(std::move(optimizers)) {
  if (!loss.shape().empty()) throw InvalidInput("Trainer: the loss '" + loss.name() + "' must be a scalar");
  fetches_.push_back(loss);
  fetches_.insert(fetches_.end(), monitors.begin(), monitors.end());
  for (const auto& o : optimizers_) targets_.insert(targets_.end(), o.updates().begin(), o.updates().end());
}

std::vector<double> Trainer::step(const Feeds& feeds, double epoch) {
  for (const auto& o : optimizers_) o.apply(session_, epoch);
  std::vector<Tensor> out = session_.run(feeds, fetches_, targets_);
  std::vector<double> r;
  for (const auto& t : out) r.push_back(t.numel() == 1 ? t.item() : 0.0);
  return r;
}

}  // namespace anneal
