// Datasets the project generates (data/synthetic.hpp), named by a config's
// data.name where no file fits the model: "topic-corpus", word counts from a
// small topic model (replicated softmax), and "synthetic-ratings", one-hot
// ratings from a latent-factor model (softmax RBMs). Each reads its own keys
// of the data section; the training and the test set come from one seeded
// draw, so they share the generating model.
#pragma once
#include <string>
#include <vector>

#include "cli/json_check.hpp"
#include "data/dataset.hpp"

namespace anneal::cli {

inline const std::vector<std::string> kGeneratedDatasets = {"topic-corpus", "synthetic-ratings"};
bool is_generated_dataset(const std::string& name);

// Reads the generator's keys from the data section `d` and returns them
// with every default filled in. Throws InvalidInput naming "data.<key>".
Json resolve_generated(const std::string& name, Section& d);

// The "train" or "test" set of the generator `name` with the options
// resolve_generated returned.
Dataset generate_dataset(const std::string& name, const Json& options, const std::string& split);

}  // namespace anneal::cli
