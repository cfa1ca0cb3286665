#include "data/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

#include "backend/error.hpp"
#include "backend/philox.hpp"
#include "data/idx.hpp"
#include "data/permutation.hpp"

namespace anneal {

void check_dataset(const Dataset& d, const std::string& who) {
  if (!d.x.defined() || d.x.dtype() != DType::f32 || d.x.rank() != 2)
    throw InvalidInput(who + ": dataset x must be f32 [N, D], got " +
                       (d.x.defined() ? std::string(dtype_name(d.x.dtype())) + " " + dims_str(d.x.shape())
                                      : std::string("undefined")));
  if (d.y.defined() && (d.y.dtype() != DType::i32 || d.y.shape() != Dims{d.x.dim(0)}))
    throw InvalidInput(who + ": dataset y must be i32 [" + std::to_string(d.x.dim(0)) + "], got " +
                       dtype_name(d.y.dtype()) + " " + dims_str(d.y.shape()));
}

Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path) {
  Dataset d;
  std::int64_t n = 0;
  {
    IdxArray images = read_idx(images_path);  // scoped: the bytes go before labels load
    n = images.dims[0];
    d.item_shape.assign(images.dims.begin() + 1, images.dims.end());
    d.x = images.to_tensor(DType::f32).reshaped({n, numel(d.item_shape)});
  }
  if (labels_path.empty()) return d;
  IdxArray labels = read_idx(labels_path);
  if (labels.dims.size() != 1)
    throw InvalidInput(labels_path + ": labels must be 1-D [N], got dimensions " + dims_str(labels.dims));
  if (labels.dims[0] != n)
    throw InvalidInput(labels_path + ": holds " + std::to_string(labels.dims[0]) + " labels but " +
                       images_path + " holds " + std::to_string(n) + " examples");
  d.y = labels.to_tensor(DType::i32);
  return d;
}

namespace {

std::string find_file(const std::string& dir, const std::string& name) {
  std::filesystem::path gz = std::filesystem::path(dir) / (name + ".gz"), plain = std::filesystem::path(dir) / name;
  if (std::filesystem::exists(gz)) return gz.string();
  if (std::filesystem::exists(plain)) return plain.string();
  throw InvalidInput(gz.string() + ": not found (nor " + plain.string() +
                     "); Fashion-MNIST comes from Debian's dataset-fashion-mnist package");
}

// A dataset with the same labels and a fresh, uninitialized x.
Dataset with_new_x(const Dataset& d, const std::string& who) {
  check_dataset(d, who);
  Dataset r = d;
  r.x = Tensor::empty(DType::f32, d.x.shape());
  return r;
}

template <class F>
Dataset map_x(const Dataset& d, const std::string& who, F f) {
  Dataset r = with_new_x(d, who);
  const float* src = d.x.data<float>();
  float* dst = r.x.data<float>();
  for (std::int64_t i = 0, n = d.x.numel(); i < n; ++i) dst[i] = f(src[i], i);
  return r;
}

}  // namespace

Dataset fashion_mnist(const std::string& split, const std::string& dir) {
  std::string prefix;
  if (split == "train") prefix = "train";
  else if (split == "test") prefix = "t10k";
  else throw InvalidInput("fashion_mnist: unknown split '" + split + "' (expected train or test)");
  std::string images = find_file(dir, prefix + "-images-idx3-ubyte");
  return load_idx_dataset(images, find_file(dir, prefix + "-labels-idx1-ubyte"));
}

Dataset scale(const Dataset& d, float factor) {
  return map_x(d, "scale", [factor](float v, std::int64_t) { return v * factor; });
}

FeatureStats feature_stats(const Dataset& d) {
  check_dataset(d, "feature_stats");
  std::int64_t n = d.size(), dim = d.features();
  if (n == 0) throw InvalidInput("feature_stats: the dataset is empty");
  // Two passes in double, in a fixed order: exact enough and reproducible.
  std::vector<double> mean(static_cast<std::size_t>(dim), 0.0), var(static_cast<std::size_t>(dim), 0.0);
  const float* x = d.x.data<float>();
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < dim; ++j) mean[static_cast<std::size_t>(j)] += x[i * dim + j];
  for (double& m : mean) m /= static_cast<double>(n);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < dim; ++j) {
      double c = x[i * dim + j] - mean[static_cast<std::size_t>(j)];
      var[static_cast<std::size_t>(j)] += c * c;
    }
  FeatureStats s{Tensor::empty(DType::f32, {dim}), Tensor::empty(DType::f32, {dim})};
  for (std::int64_t j = 0; j < dim; ++j) {
    double sd = std::sqrt(var[static_cast<std::size_t>(j)] / static_cast<double>(n));
    s.mean.data<float>()[j] = static_cast<float>(mean[static_cast<std::size_t>(j)]);
    // A constant feature (MNIST's border pixels) would divide by zero; like
    // scikit-learn's StandardScaler, leave its scale at 1.
    s.std.data<float>()[j] = sd > 1e-12 ? static_cast<float>(sd) : 1.0f;
  }
  return s;
}

Dataset standardize(const Dataset& d, const FeatureStats& stats) {
  check_dataset(d, "standardize");
  Dims want{d.features()};
  if (!stats.mean.defined() || !stats.std.defined() || stats.mean.dtype() != DType::f32 ||
      stats.std.dtype() != DType::f32 || stats.mean.shape() != want || stats.std.shape() != want)
    throw InvalidInput("standardize: stats must be f32 " + dims_str(want) + " for a dataset with " +
                       std::to_string(d.features()) + " features");
  const float* mean = stats.mean.data<float>();
  const float* sd = stats.std.data<float>();
  std::int64_t dim = d.features();
  return map_x(d, "standardize", [=](float v, std::int64_t i) { return (v - mean[i % dim]) / sd[i % dim]; });
}

Dataset binarize(const Dataset& d, float threshold) {
  return map_x(d, "binarize", [threshold](float v, std::int64_t) { return v > threshold ? 1.0f : 0.0f; });
}

Dataset binarize_stochastic(const Dataset& d, std::uint64_t seed, std::uint32_t step) {
  check_dataset(d, "binarize_stochastic");
  std::int64_t dim = d.features();
  const float* x = d.x.data<float>();
  for (std::int64_t i = 0, n = d.x.numel(); i < n; ++i)
    if (!(x[i] >= 0.0f && x[i] <= 1.0f))
      throw InvalidInput("binarize_stochastic: feature " + std::to_string(i % dim) + " of example " +
                         std::to_string(i / dim) + " is " + std::to_string(x[i]) +
                         ", outside [0, 1] (scale the data first)");
  RandomStream stream{seed, kBinarizeStreamNode, step};
  return map_x(d, "binarize_stochastic", [&](float p, std::int64_t i) {
    return stream.uniform_at(static_cast<std::uint64_t>(i)) < p ? 1.0f : 0.0f;
  });
}

Dataset subset(const Dataset& d, std::span<const std::int64_t> indices) {
  check_dataset(d, "subset");
  std::int64_t n = d.size(), dim = d.features(), m = static_cast<std::int64_t>(indices.size());
  for (std::size_t k = 0; k < indices.size(); ++k)
    if (indices[k] < 0 || indices[k] >= n)
      throw InvalidInput("subset: index " + std::to_string(indices[k]) + " at position " + std::to_string(k) +
                         " is outside a dataset of " + std::to_string(n) + " examples");
  Dataset r;
  r.item_shape = d.item_shape;
  r.x = Tensor::empty(DType::f32, {m, dim});
  const float* src = d.x.data<float>();
  float* dst = r.x.data<float>();
  for (std::int64_t k = 0; k < m; ++k)
    std::copy_n(src + indices[static_cast<std::size_t>(k)] * dim, dim, dst + k * dim);
  if (d.labeled()) {
    r.y = Tensor::empty(DType::i32, {m});
    for (std::int64_t k = 0; k < m; ++k)
      r.y.data<std::int32_t>()[k] = d.y.data<std::int32_t>()[indices[static_cast<std::size_t>(k)]];
  }
  return r;
}

Dataset take(const Dataset& d, std::int64_t n) {
  check_dataset(d, "take");
  if (n < 0) throw InvalidInput("take: negative count " + std::to_string(n));
  std::vector<std::int64_t> idx(static_cast<std::size_t>(std::min(n, d.size())));
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<std::int64_t>(i);
  return subset(d, idx);
}

TrainValidation split_validation(const Dataset& d, double fraction, std::uint64_t seed) {
  check_dataset(d, "split_validation");
  if (!(fraction >= 0.0 && fraction < 1.0))
    throw InvalidInput("split_validation: fraction " + std::to_string(fraction) + " outside [0, 1)");
  std::vector<std::int64_t> perm = random_permutation(d.size(), RandomStream{seed, kSplitStreamNode, 0});
  auto n_val = static_cast<std::ptrdiff_t>(std::llround(fraction * static_cast<double>(d.size())));
  std::vector<std::int64_t> val(perm.begin(), perm.begin() + n_val), train(perm.begin() + n_val, perm.end());
  std::sort(val.begin(), val.end());
  std::sort(train.begin(), train.end());
  return {subset(d, train), subset(d, val)};
}

}  // namespace anneal
