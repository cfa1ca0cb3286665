#include "data/batches.hpp"

#include <algorithm>
#include <utility>

#include "backend/error.hpp"
#include "data/permutation.hpp"

namespace anneal {

std::int64_t num_batches(std::int64_t n, std::int64_t batch_size, bool drop_last) {
  if (batch_size < 1) throw InvalidInput("batch size " + std::to_string(batch_size) + " must be at least 1");
  return drop_last ? n / batch_size : (n + batch_size - 1) / batch_size;
}

Batches::Batches(Dataset data, std::int64_t batch_size, std::uint64_t seed, std::uint32_t epoch, bool drop_last,
                 bool shuffle)
    : data_(std::move(data)), batch_size_(batch_size), seed_(seed), drop_last_(drop_last), shuffle_(shuffle) {
  check_dataset(data_, "Batches");
  num_batches(data_.size(), batch_size_, drop_last_);  // validates batch_size
  set_epoch(epoch);
}

void Batches::set_epoch(std::uint32_t epoch) {
  epoch_ = epoch;
  if (shuffle_) {
    order_ = random_permutation(data_.size(), RandomStream{seed_, kShuffleStreamNode, epoch});
  } else {
    order_.resize(static_cast<std::size_t>(data_.size()));
    for (std::size_t k = 0; k < order_.size(); ++k) order_[k] = static_cast<std::int64_t>(k);
  }
}

const Batch& Batches::operator[](std::int64_t i) {
  if (i < 0 || i >= size())
    throw InvalidInput("batch " + std::to_string(i) + " out of range: the epoch has " + std::to_string(size()));
  std::int64_t begin = i * batch_size_, b = std::min(batch_size_, data_.size() - begin), dim = data_.features();
  Batch& buf = b == batch_size_ ? full_ : partial_;
  if (!buf.x.defined()) {
    buf.x = Tensor::empty(DType::f32, {b, dim});
    if (data_.labeled()) buf.y = Tensor::empty(DType::i32, {b});
  }
  const float* src = data_.x.data<float>();
  float* dst = buf.x.data<float>();
  for (std::int64_t k = 0; k < b; ++k) {
    std::int64_t row = order_[static_cast<std::size_t>(begin + k)];
    std::copy_n(src + row * dim, dim, dst + k * dim);
    if (data_.labeled()) buf.y.data<std::int32_t>()[k] = data_.y.data<std::int32_t>()[row];
  }
  return buf;
}

}  // namespace anneal
