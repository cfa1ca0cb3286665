// The data a config names, loaded and preprocessed the same way by every
// command: the training file (its first data.limit examples), split into
// train and valid parts by data.validation, and the test file; then scale,
// binarize and standardize (statistics from the train part), in that order.
#pragma once
#include "cli/config.hpp"
#include "cli/model_kind.hpp"
#include "data/dataset.hpp"

namespace anneal::cli {

struct Splits {
  Dataset train, valid, test;  // undefined (size 0) when not loaded or absent
  DataInfo info;               // from the training file when loaded, else the test file
  bool has_test = false;       // the config has a test set
};

// Loads the parts a command needs. Errors (InvalidInput) read
// "CONFIG: data.KEY: FILE: what is wrong".
Splits load_data(const Config& c, bool need_train, bool need_test);

// The split `name` ("train", "valid", "test") of `s`, or InvalidInput
// explaining why the run has none.
const Dataset& split_by_name(const Splits& s, const Config& c, const std::string& name);

}  // namespace anneal::cli
