#include "models/trainer.hpp"

#include "backend/error.hpp"

namespace anneal {

Trainer::Trainer(Session& session, Value loss, std::vector<Optimizer> optimizers, std::vector<Value> monitors,
                 std::vector<Value> state_updates)
    : session_(session), optimizers_(std::move(optimizers)) {
  if (!loss.shape().empty()) throw InvalidInput("Trainer: the loss '" + loss.name() + "' must be a scalar");
  fetches_.push_back(loss);
  fetches_.insert(fetches_.end(), monitors.begin(), monitors.end());
  for (const auto& o : optimizers_) targets_.insert(targets_.end(), o.updates().begin(), o.updates().end());
  targets_.insert(targets_.end(), state_updates.begin(), state_updates.end());
}

const std::vector<double>& Trainer::step(const Feeds& feeds, double epoch) {
  for (const auto& o : optimizers_) o.apply(session_, epoch);
  const bool compiled = session_.options().compiled && session_.options().precision == Precision::fast;
  const std::vector<Tensor>& out =
      compiled ? session_.run_views(feeds, fetches_, targets_) : (owned_ = session_.run(feeds, fetches_, targets_));
  values_.resize(out.size());
  for (std::size_t i = 0; i < out.size(); ++i) values_[i] = out[i].numel() == 1 ? out[i].item() : 0.0;
  return values_;
}

}  // namespace anneal
