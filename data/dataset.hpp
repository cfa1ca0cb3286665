// In-memory datasets and their preprocessing. Every transform returns a new
// Dataset with its own `x` (Tensor copies share storage, so editing in place
// would silently change every copy); labels are never modified and are shared.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "backend/tensor.hpp"

namespace anneal {

struct Dataset {
  Tensor x;         // f32 [N, D]: one flattened example per row
  Tensor y;         // i32 [N], or undefined for unlabeled data
  Dims item_shape;  // one example's shape in its file, e.g. {28, 28}; numel = D

  std::int64_t size() const { return x.defined() ? x.dim(0) : 0; }
  std::int64_t features() const { return x.defined() ? x.dim(1) : 0; }
  bool labeled() const { return y.defined(); }
};

// Throws InvalidInput (prefixed by `who`) unless x is f32 [N, D] and y is
// undefined or i32 [N].
void check_dataset(const Dataset& d, const std::string& who);

// Images from an IDX file whose first dimension counts the examples (the rest
// are flattened into D), and labels from a 1-D integer IDX file, or none when
// `labels_path` is empty. Throws InvalidInput naming the files when the
// counts disagree.
Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path = "");

// Fashion-MNIST from Debian's dataset-fashion-mnist package: `split` is
// "train" (60000) or "test" (10000), pixels are 0..255 (scale by 1/255),
// item_shape {28, 28}. Reads the .gz files, or the unzipped ones when the
// .gz is absent.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
Dataset fashion_mnist(const std::string& split, const std::string& dir = kFashionMnistDir);

// x * factor (1/255 takes bytes to [0, 1]).
Dataset scale(const Dataset& d, float factor);

// Per-feature mean and standard deviation (population, f32 [D]), computed on
// one dataset (the training set) and applied to others.
struct FeatureStats {
  Tensor mean;
  Tensor std;  // a feature with std 0 stores 1, so it standardizes to 0
};
FeatureStats feature_stats(const Dataset& d);
// (x - mean) / std per feature.
Dataset standardize(const Dataset& d, const FeatureStats& stats);

// 1 where x > threshold, else 0.
Dataset binarize(const Dataset& d, float threshold = 0.5f);
// Each x_ij replaced by a Bernoulli(x_ij) sample (Salakhutdinov & Murray
// 2008), keyed by (seed, step) so it is reproducible; pass the epoch as
// `step` for dynamic binarization. Pixels must lie in [0, 1].
Dataset binarize_stochastic(const Dataset& d, std::uint64_t seed, std::uint32_t step = 0);

// The first min(n, N) examples.
Dataset take(const Dataset& d, std::int64_t n);
// The examples at `indices`, in that order (repeats allowed).
Dataset subset(const Dataset& d, std::span<const std::int64_t> indices);

// A seeded random `fraction` of the examples (rounded) held out for
// validation; both parts keep the file order.
struct TrainValidation {
  Dataset train;
  Dataset validation;
};
TrainValidation split_validation(const Dataset& d, double fraction, std::uint64_t seed);

}  // namespace anneal
