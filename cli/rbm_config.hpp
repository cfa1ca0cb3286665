// The config keys the RBM kinds share (docs/config-format.md, "RBM kinds").
// Each group of keys is read by one function from a config section, and
// written back resolved by one function, so resolving a config and building
// from the resolved one read the same keys the same way.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/json_check.hpp"
#include "graph/graph.hpp"
#include "models/rbm_train.hpp"

namespace anneal::cli {

struct DataInfo;

// model.*: what every RBM kind's model section has.
struct RbmModelKeys {
  std::optional<std::int64_t> visible;  // data units; from the data when absent
  rbm::UnitType hidden_type = rbm::UnitType::bernoulli;  // of the (top) hidden layer
  double init_std = 0.01;
  bool base_rate_bias = true;           // "visible_bias": "base_rate" or "zero"
  std::optional<Dims> item_shape;       // one example's shape (pictures); from the data

  void read(Section& m);
  void write(Json& j) const;
  // Fills `visible` and `item_shape` from the data, or checks them against
  // it (InvalidInput naming model.visible / model.item_shape).
  void fill_from(const DataInfo& data);
};

// train.*: the training-algorithm options of every RBM kind.
struct RbmTrainKeys {
  rbm::CdOptions cd;                   // train.cd and train.sparsity
  std::int64_t monitor_examples = 1000;
  std::int64_t picture_samples = 100;  // train.pictures
  int picture_gibbs_steps = 1000;
  int picture_samples_every = 5;       // epochs; samples also follow the config's last epoch
  std::int64_t picture_reconstructions = 50;

  // `hidden_type`: sparsity needs bernoulli hidden units.
  void read(Section& t, rbm::UnitType hidden_type);
  void write(Json& j) const;
};

// The classic recipe (Hinton 2010) as train.optimizers entries: SGD in two
// groups over the parameters starting with `params`, "<prefix>weights" (rank
// >= 2, weight decay 2e-4) and "<prefix>biases" (no decay), learning rate
// `lr`, momentum 0.5 -> 0.9 over the first 5 epochs.
Json classic_rbm_optimizers(double lr, const std::string& params = "", const std::string& prefix = "");

// A unit type key ("bernoulli", "gaussian", ...) among `allowed`.
rbm::UnitType unit_type_key(Section& s, const std::string& key, rbm::UnitType def,
                            const std::vector<rbm::UnitType>& allowed);

}  // namespace anneal::cli
