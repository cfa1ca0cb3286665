#include "models/rbm_units.hpp"

#include <cmath>
#include <numbers>

#include "backend/error.hpp"
#include "ops/ops.hpp"

namespace anneal::rbm {

const char* unit_type_name(UnitType t) {
  switch (t) {
    case UnitType::bernoulli: return "bernoulli";
    case UnitType::gaussian: return "gaussian";
    case UnitType::softmax: return "softmax";
    case UnitType::replicated_softmax: return "replicated_softmax";
  }
  return "?";
}

UnitType unit_type_from_name(const std::string& name) {
  for (UnitType t : {UnitType::bernoulli, UnitType::gaussian, UnitType::softmax, UnitType::replicated_softmax})
    if (name == unit_type_name(t)) return t;
  throw InvalidInput("unknown unit type '" + name + "' (expected bernoulli, gaussian, softmax or replicated_softmax)");
}

void Units::configuration(std::uint64_t, float*) const {
  throw InvalidInput(std::string(unit_type_name(type())) + " units cannot be enumerated");
}

namespace {

Value sum_last(Value x) { return sum(x, {-1}); }
double logit(double p) { return std::log(p) - std::log1p(-p); }

class Bernoulli final : public Units {
 public:
  using Units::Units;
  UnitType type() const override { return UnitType::bernoulli; }
  Value log_partition(Value a, Value) const override { return sum_last(softplus(a)); }
  Value mean(Value a, Value) const override { return sigmoid(a); }
  Value sample(Value a, Value) const override { return bernoulli(sigmoid(a)); }
  double log_configurations() const override { return static_cast<double>(size_) * std::numbers::ln2; }
  void configuration(std::uint64_t index, float* row) const override {
    for (std::int64_t i = 0; i < size_; ++i) row[i] = static_cast<float>((index >> i) & 1u);
  }
  std::vector<double> base_rate_bias(std::span<const double> means, double rows, double prior) const override {
    std::vector<double> b;
    for (double m : means) b.push_back(logit((m * rows + prior) / (rows + 2 * prior)));
    return b;
  }
};

// Variance σ² = exp(2 log_sigma) per unit, or 1.
class Gaussian final : public Units {
 public:
  Gaussian(std::int64_t n, Value log_sigma) : Units(n), log_sigma_(log_sigma) {}
  UnitType type() const override { return UnitType::gaussian; }
  Value stat(Value x) const override { return log_sigma_.valid() ? x * exp(-log_sigma_) : x; }
  Value natural_bias(Value bias) const override { return stat(bias); }
  Value base_energy(Value x) const override { return 0.5 * sum_last(square(stat(x))); }
  Value log_partition(Value a, Value) const override {
    Value lp = 0.5 * sum_last(square(a)) + 0.5 * static_cast<double>(size_) * std::log(2 * std::numbers::pi);
    return log_sigma_.valid() ? lp + sum(log_sigma_) : lp;
  }
  Value mean(Value a, Value) const override { return log_sigma_.valid() ? a * exp(log_sigma_) : a; }
  // σ (a + ε) = σa + σε.
  Value sample(Value a, Value) const override { return mean(a + randn_like(a), {}); }
  std::vector<double> base_rate_bias(std::span<const double> means, double, double) const override {
    return {means.begin(), means.end()};
  }

 private:
  Value log_sigma_;
};

class Softmax final : public Units {
 public:
  Softmax(std::int64_t groups, std::int64_t k) : Units(groups * k), groups_(groups), k_(k) {}
  UnitType type() const override { return UnitType::softmax; }
  Value log_partition(Value a, Value) const override { return sum_last(logsumexp(grouped(a), -1)); }
  Value mean(Value a, Value) const override { return reshape(softmax(grouped(a), -1), a.shape()); }
  Value sample(Value a, Value) const override { return reshape(one_hot(categorical(grouped(a)), k_), a.shape()); }
  double log_configurations() const override {
    return static_cast<double>(groups_) * std::log(static_cast<double>(k_));
  }
  void configuration(std::uint64_t index, float* row) const override {
    for (std::int64_t i = 0; i < size_; ++i) row[i] = 0.f;
    auto k = static_cast<std::uint64_t>(k_);
    for (std::int64_t g = 0; g < groups_; ++g, index /= k) row[g * k_ + static_cast<std::int64_t>(index % k)] = 1.f;
  }
  std::vector<double> base_rate_bias(std::span<const double> means, double rows, double prior) const override {
    std::vector<double> b;
    for (double m : means) b.push_back(std::log((m * rows + prior) / (rows + static_cast<double>(k_) * prior)));
    return b;
  }

 private:
  // [..., G*K] -> [..., G, K]
  Value grouped(Value a) const {
    Dims s = a.shape();
    s.back() = groups_;
    s.push_back(k_);
    return reshape(a, s);
  }
  std::int64_t groups_, k_;
};

class ReplicatedSoftmax final : public Units {
 public:
  ReplicatedSoftmax(std::int64_t vocabulary, std::int64_t max_length) : Units(vocabulary), max_length_(max_length) {}
  UnitType type() const override { return UnitType::replicated_softmax; }
  Value log_partition(Value a, Value count) const override {
    return sum_last(need(count) * logsumexp(a, -1, true));
  }
  Value mean(Value a, Value count) const override { return need(count) * softmax(a, -1); }
  Value sample(Value a, Value count) const override { return multinomial(a, need(count), max_length_); }
  std::vector<double> base_rate_bias(std::span<const double> means, double rows, double prior) const override {
    double words = 0;
    for (double m : means) words += m * rows;
    std::vector<double> b;
    for (double m : means) b.push_back(std::log((m * rows + prior) / (words + static_cast<double>(size_) * prior)));
    return b;
  }

 private:
  static Value need(Value count) {
    if (!count.valid())
      throw InvalidInput("replicated softmax units need the document length (a count [rows, 1]) for this quantity");
    return count;
  }
  std::int64_t max_length_;
};

class Joint final : public Units {
 public:
  explicit Joint(std::vector<UnitsPtr> blocks) : Units(total(blocks)), blocks_(std::move(blocks)) {}
  UnitType type() const override { return blocks_.front()->type(); }
  Value stat(Value x) const override {
    return join(x, [](const Units& u, Value xb) { return u.stat(xb); });
  }
  Value natural_bias(Value bias) const override {
    return join(bias, [](const Units& u, Value b) { return u.natural_bias(b); });
  }
  Value base_energy(Value x) const override {
    return add_up(x, [](const Units& u, Value xb) { return u.base_energy(xb); });
  }
  Value log_partition(Value a, Value count) const override {
    return add_up(a, [&](const Units& u, Value ab) { return u.log_partition(ab, count); });
  }
  Value mean(Value a, Value count) const override {
    return join(a, [&](const Units& u, Value ab) { return u.mean(ab, count); });
  }
  Value sample(Value a, Value count) const override {
    return join(a, [&](const Units& u, Value ab) { return u.sample(ab, count); });
  }
  double log_configurations() const override {
    double s = 0;
    for (const auto& b : blocks_) s += b->log_configurations();
    return s;
  }
  void configuration(std::uint64_t index, float* row) const override {
    for (const auto& b : blocks_) {
      auto count = static_cast<std::uint64_t>(std::llround(std::exp(b->log_configurations())));
      b->configuration(index % count, row);
      index /= count;
      row += b->size();
    }
  }
  std::vector<double> base_rate_bias(std::span<const double> means, double rows, double prior) const override {
    std::vector<double> out;
    std::size_t off = 0;
    for (const auto& b : blocks_) {
      auto part = b->base_rate_bias(means.subspan(off, static_cast<std::size_t>(b->size())), rows, prior);
      out.insert(out.end(), part.begin(), part.end());
      off += static_cast<std::size_t>(b->size());
    }
    return out;
  }

 private:
  static std::int64_t total(const std::vector<UnitsPtr>& blocks) {
    if (blocks.empty()) throw InvalidInput("joint units need at least one block");
    std::int64_t n = 0;
    for (const auto& b : blocks) n += b->size();
    return n;
  }
  // Applies f to each block's slice along the last axis.
  template <class F> std::vector<Value> each(Value x, F&& f) const {
    std::vector<Value> parts;
    std::int64_t off = 0, axis = x.rank() - 1;
    for (const auto& b : blocks_) {
      parts.push_back(f(*b, slice(x, axis, off, off + b->size())));
      off += b->size();
    }
    return parts;
  }
  template <class F> Value join(Value x, F&& f) const { return concat(each(x, f), x.rank() - 1); }
  template <class F> Value add_up(Value x, F&& f) const {
    Value s;
    for (Value p : each(x, f))
      if (p.valid()) s = s.valid() ? s + p : p;
    return s;
  }
  std::vector<UnitsPtr> blocks_;
};

}  // namespace

UnitsPtr bernoulli_units(std::int64_t n) { return std::make_shared<Bernoulli>(n); }
UnitsPtr gaussian_units(std::int64_t n, Value log_sigma) { return std::make_shared<Gaussian>(n, log_sigma); }
UnitsPtr softmax_units(std::int64_t groups, std::int64_t group_size) {
  return std::make_shared<Softmax>(groups, group_size);
}
UnitsPtr replicated_softmax_units(std::int64_t vocabulary, std::int64_t max_length) {
  return std::make_shared<ReplicatedSoftmax>(vocabulary, max_length);
}
UnitsPtr joint_units(std::vector<UnitsPtr> blocks) { return std::make_shared<Joint>(std::move(blocks)); }

Value multinomial(Value logits, Value count, std::int64_t max_length) {
  if (logits.rank() != 2 || count.rank() != 2 || count.shape()[1] != 1)
    throw InvalidInput("multinomial: expects logits [rows, K] and counts [rows, 1], got " +
                       dims_str(logits.shape()) + " and " + dims_str(count.shape()));
  Graph& g = *logits.graph;
  const std::int64_t rows = logits.shape()[0], k = logits.shape()[1];
  std::vector<double> slots(static_cast<std::size_t>(max_length));
  for (std::size_t t = 0; t < slots.size(); ++t) slots[t] = static_cast<double>(t);
  // One categorical draw per word slot [rows, L], kept where slot < count.
  Value per_slot = reshape(logits, {rows, 1, k}) + g.constant(Tensor::zeros(DType::f32, {1, max_length, 1}));
  Value words = one_hot(categorical(per_slot), k);
  Value kept = greater(reshape(count, {rows, 1, 1}), g.constant(Tensor::from(slots, {1, max_length, 1})));
  return sum(words * kept, {1});
}

}  // namespace anneal::rbm
