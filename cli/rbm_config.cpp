#include "cli/rbm_config.hpp"

#include "backend/error.hpp"
#include "cli/model_kind.hpp"

namespace anneal::cli {

namespace {

constexpr std::int64_t kMaxUnits = std::int64_t{1} << 24;
constexpr std::int64_t kMaxCount = std::int64_t{1} << 31;

Json dims_json(const Dims& d) { return std::vector<std::int64_t>(d.begin(), d.end()); }

}  // namespace

rbm::UnitType unit_type_key(Section& s, const std::string& key, rbm::UnitType def,
                            const std::vector<rbm::UnitType>& allowed) {
  std::vector<std::string> names;
  for (rbm::UnitType t : allowed) names.push_back(rbm::unit_type_name(t));
  return rbm::unit_type_from_name(s.choice(key, rbm::unit_type_name(def), names));
}

void RbmModelKeys::read(Section& m) {
  visible = m.optional_integer("visible", 1, kMaxUnits);
  hidden_type = unit_type_key(m, "hidden_type", rbm::UnitType::bernoulli,
                              {rbm::UnitType::bernoulli, rbm::UnitType::gaussian});
  init_std = m.in_range("init_std", m.number("init_std", init_std), 0, 10);
  base_rate_bias = m.choice("visible_bias", "base_rate", {"base_rate", "zero"}) == "base_rate";
  item_shape.reset();
  if (const Json* shape = m.find("item_shape")) {
    if (!shape->is_array() || shape->empty())
      fail_at(m.path("item_shape"), "expected a list of dimensions, e.g. [28, 28], got " + json_type_name(*shape));
    Dims d;
    for (std::size_t i = 0; i < shape->size(); ++i)
      d.push_back(as_integer((*shape)[i], index_path(m.path("item_shape"), i), 1, kMaxUnits));
    item_shape = d;
  }
}

void RbmModelKeys::write(Json& j) const {
  j["visible"] = visible ? Json(*visible) : Json(nullptr);
  j["hidden_type"] = rbm::unit_type_name(hidden_type);
  j["init_std"] = init_std;
  j["visible_bias"] = base_rate_bias ? "base_rate" : "zero";
  j["item_shape"] = item_shape ? dims_json(*item_shape) : Json(nullptr);
}

void RbmModelKeys::fill_from(const DataInfo& data) {
  if (visible && *visible != data.features)
    fail_at("model.visible", std::to_string(*visible) + " visible units, but the data's examples have " +
                                 std::to_string(data.features) + " values");
  visible = data.features;
  if (!item_shape) {
    item_shape = data.item_shape.empty() ? Dims{data.features} : data.item_shape;
  } else if (numel(*item_shape) != data.features) {
    fail_at("model.item_shape", dims_str(*item_shape) + " holds " + std::to_string(numel(*item_shape)) +
                                    " values, but the data's examples have " + std::to_string(data.features));
  }
}

void RbmTrainKeys::read(Section& t, rbm::UnitType hidden_type) {
  cd = {};
  if (const Json* j = t.find("cd")) {
    Section c(*j, t.path("cd"));
    cd.k = static_cast<int>(c.integer("k", cd.k, 1, 100000));
    cd.persistent = c.boolean("persistent", cd.persistent);
    cd.chains = c.integer("chains", cd.chains, 1, kMaxCount);
    if (c.has("chains") && !cd.persistent)
      fail_at(c.path("chains"), "persistent chains go with \"persistent\": true (PCD); CD starts at the data");
    cd.hidden_stats = c.choice("hidden_stats", "mean", {"mean", "sampled"}) == "mean" ? rbm::HiddenStats::mean
                                                                                       : rbm::HiddenStats::sampled;
    cd.sample_last_visible = c.boolean("sample_last_visible", cd.sample_last_visible);
    c.done();
  }
  if (const Json* j = t.find("sparsity")) {
    Section s(*j, t.path("sparsity"));
    cd.sparsity_target = s.in_range("target", s.required_number("target"), 0, 1, true, true);
    cd.sparsity_cost = s.in_range("cost", s.required_number("cost"), 0, INFINITY);
    s.done();
    if (hidden_type != rbm::UnitType::bernoulli)
      fail_at(t.path("sparsity"), "a sparsity target needs bernoulli hidden units (model.hidden_type is " +
                                      std::string(rbm::unit_type_name(hidden_type)) + ")");
  }
  monitor_examples = t.integer("monitor_examples", monitor_examples, 0, kMaxCount);
  if (const Json* j = t.find("pictures")) {
    Section p(*j, t.path("pictures"));
    picture_samples = p.integer("samples", picture_samples, 0, 10000);
    picture_gibbs_steps = static_cast<int>(p.integer("gibbs_steps", picture_gibbs_steps, 0, 100'000'000));
    picture_samples_every = static_cast<int>(p.integer("samples_every", picture_samples_every, 1, 1'000'000));
    picture_reconstructions = p.integer("reconstructions", picture_reconstructions, 0, 10000);
    p.done();
  }
}

void RbmTrainKeys::write(Json& j) const {
  Json c;
  c["k"] = cd.k;
  c["persistent"] = cd.persistent;
  if (cd.persistent) c["chains"] = cd.chains;
  c["hidden_stats"] = cd.hidden_stats == rbm::HiddenStats::mean ? "mean" : "sampled";
  c["sample_last_visible"] = cd.sample_last_visible;
  j["cd"] = c;
  j["sparsity"] = cd.sparsity_cost == 0 && cd.sparsity_target == 0
                      ? Json(nullptr)
                      : Json{{"target", cd.sparsity_target}, {"cost", cd.sparsity_cost}};
  j["monitor_examples"] = monitor_examples;
  j["pictures"] = {{"samples", picture_samples},
                   {"gibbs_steps", picture_gibbs_steps},
                   {"samples_every", picture_samples_every},
                   {"reconstructions", picture_reconstructions}};
}

Json classic_rbm_optimizers(double lr, const std::string& params, const std::string& prefix) {
  const Json momentum = {{"momentum", {{"kind", "linear"}, {"to", 0.9}, {"end", 5}}}};
  Json weights = {{"name", prefix + "weights"}, {"kind", "sgd"},    {"params", params},          {"select", "weights"},
                  {"lr", lr},                   {"momentum", 0.5}, {"weight_decay", 0.0002}, {"schedules", momentum}};
  Json biases = {{"name", prefix + "biases"}, {"kind", "sgd"},    {"params", params},
                 {"select", "biases"},       {"lr", lr},         {"momentum", 0.5},
                 {"schedules", momentum}};
  return Json::array({weights, biases});
}

}  // namespace anneal::cli
