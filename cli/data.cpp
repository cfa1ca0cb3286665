#include "cli/data.hpp"

#include <algorithm>
#include <limits>

#include "backend/error.hpp"
#include "cli/generated_data.hpp"
#include "data/idx.hpp"

namespace anneal::cli {

namespace {

// Images (and labels) from IDX files, errors naming the config key.
Dataset read_files(const std::string& images, const std::string& labels, const std::string& images_key,
                   const std::string& labels_key) {
  IdxArray a;
  try {
    a = read_idx(images);
  } catch (const InvalidInput& e) {
    fail_at(images_key, e.what());
  }
  Dataset d;
  try {
    Tensor x = a.to_tensor(DType::f32);
    std::int64_t n = a.dims[0];
    d.item_shape.assign(a.dims.begin() + 1, a.dims.end());
    d.x = x.reshaped({n, n == 0 ? 0 : a.numel() / n});
  } catch (const InvalidInput& e) {
    fail_at(images_key, e.what());
  }
  if (labels.empty()) return d;
  IdxArray l;
  try {
    l = read_idx(labels);
  } catch (const InvalidInput& e) {
    fail_at(labels_key, e.what());
  }
  if (l.dims.size() != 1 || !l.is_integer())
    fail_at(labels_key, labels + ": labels are a 1-D integer IDX array, this one is " + dims_str(l.dims) + " " +
                            idx_type_name(l.type));
  if (l.dims[0] != d.size())
    fail_at(labels_key, labels + ": " + std::to_string(l.dims[0]) + " labels for the " + std::to_string(d.size()) +
                            " images of " + images);
  d.y = l.to_tensor(DType::i32);
  const std::int32_t* y = d.y.data<std::int32_t>();
  for (std::int64_t i = 0; i < d.size(); ++i)
    if (y[i] < 0) fail_at(labels_key, labels + ": label " + std::to_string(i) + " is negative (" + std::to_string(y[i]) + ")");
  return d;
}

Dataset load_named(const DataConfig& c, const std::string& split) {
  try {
    if (is_generated_dataset(c.name)) return generate_dataset(c.name, c.generator, split);
    return fashion_mnist(split, c.dir);
  } catch (const InvalidInput& e) {
    fail_at("data.name", e.what());
  }
}

}  // namespace

Splits load_data(const Config& c, bool need_train, bool need_test) {
  try {
    const DataConfig& dc = c.data;
    Splits s;
    s.has_test = !dc.name.empty() || !dc.test_images.empty();
    // Standardizing needs the training statistics whatever split is used.
    const bool load_train = need_train || dc.standardize || !s.has_test;
    if (load_train) {
      Dataset full = dc.name.empty() ? read_files(dc.train_images, dc.train_labels, "data.train_images", "data.train_labels")
                                     : load_named(dc, "train");
      if (dc.limit > 0) full = take(full, dc.limit);
      if (dc.validation > 0) {
        TrainValidation tv = split_validation(full, dc.validation, dc.split_seed);
        s.train = tv.train;
        if (tv.validation.size() > 0) s.valid = tv.validation;
      } else {
        s.train = full;
      }
      if (s.train.size() == 0)
        fail_at("data", "no training examples left (the training file's " + std::to_string(full.size()) +
                            " examples, data.limit " + std::to_string(dc.limit) + ", data.validation " +
                            Json(dc.validation).dump() + ")");
      s.info.features = s.train.features();
      s.info.item_shape = s.train.item_shape;
      if (s.train.labeled()) {
        const std::int32_t* y = s.train.y.data<std::int32_t>();
        s.info.classes = 1 + *std::max_element(y, y + s.train.size());
      }
    }
    if (need_test && s.has_test) {
      s.test = dc.name.empty() ? read_files(dc.test_images, dc.test_labels, "data.test_images", "data.test_labels")
                               : load_named(dc, "test");
      if (load_train && s.test.features() != s.info.features)
        fail_at("data.test_images", dc.test_images + ": examples of " + std::to_string(s.test.features()) +
                                        " values, the training images have " + std::to_string(s.info.features));
      if (!load_train) {
        s.info.features = s.test.features();
        s.info.item_shape = s.test.item_shape;
      }
    }

    auto prep = [&](Dataset& d) {
      if (d.size() == 0) return;
      if (dc.scale != 1.0) d = scale(d, static_cast<float>(dc.scale));
      if (dc.binarize) d = binarize(d, static_cast<float>(*dc.binarize));
    };
    prep(s.train);
    prep(s.valid);
    prep(s.test);
    if (dc.standardize) {
      FeatureStats stats = feature_stats(s.train);
      s.train = standardize(s.train, stats);
      if (s.valid.size() > 0) s.valid = standardize(s.valid, stats);
      if (s.test.size() > 0) s.test = standardize(s.test, stats);
    }
    return s;
  } catch (const InvalidInput& e) {
    throw InvalidInput(c.file + ": " + e.what());
  }
}

const Dataset& split_by_name(const Splits& s, const Config& c, const std::string& name) {
  if (name == "train") return s.train;
  if (name == "valid") {
    if (s.valid.size() == 0)
      throw InvalidInput(c.file + ": data.validation: the run holds out no validation examples (data.validation is " +
                         Json(c.data.validation).dump() + "); use --split test or train");
    return s.valid;
  }
  if (!s.has_test)
    throw InvalidInput(c.file + ": data.test_images: the config names no test set; use --split train or valid");
  return s.test;
}

}  // namespace anneal::cli
