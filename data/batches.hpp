// Seeded, shuffled minibatches. The order of an epoch is a Fisher-Yates
// permutation keyed by (seed, epoch) on a Philox stream, so a run sees the
// same batches on every platform and thread count.
#pragma once
#include <cstdint>
#include <vector>

#include "data/dataset.hpp"

namespace anneal {

struct Batch {
  Tensor x;  // f32 [b, D]
  Tensor y;  // i32 [b], or undefined when the dataset is unlabeled
};

// Batches per epoch: ceil(n / batch_size), or floor with drop_last.
std::int64_t num_batches(std::int64_t n, std::int64_t batch_size, bool drop_last);

class Batches {
 public:
  // `shuffle` false keeps the file order (evaluation). Throws InvalidInput
  // for a malformed dataset or batch_size < 1.
  Batches(Dataset data, std::int64_t batch_size, std::uint64_t seed, std::uint32_t epoch = 0,
          bool drop_last = false, bool shuffle = true);

  // Reorders the examples for another epoch, reusing the buffers.
  void set_epoch(std::uint32_t epoch);
  std::uint32_t epoch() const { return epoch_; }

  std::int64_t size() const { return num_batches(data_.size(), batch_size_, drop_last_); }
  std::int64_t batch_size() const { return batch_size_; }
  const Dataset& data() const { return data_; }
  // order()[k] is the example that comes k-th in this epoch.
  const std::vector<std::int64_t>& order() const { return order_; }

  // Batch i of this epoch (0 <= i < size()); the last one is shorter when N
  // is not a multiple of batch_size, unless drop_last. The rows are copied
  // into buffers this object reuses, so the batch is valid until the next
  // call: clone() the tensors to keep them.
  const Batch& operator[](std::int64_t i);

  class iterator {
   public:
    iterator(Batches* owner, std::int64_t i) : owner_(owner), i_(i) {}
    const Batch& operator*() const { return (*owner_)[i_]; }
    iterator& operator++() { ++i_; return *this; }
    bool operator==(const iterator& o) const { return i_ == o.i_; }

   private:
    Batches* owner_;
    std::int64_t i_;
  };
  // for (const Batch& b : batches) ...: the batches of the current epoch.
  iterator begin() { return {this, 0}; }
  iterator end() { return {this, size()}; }

 private:
  Dataset data_;
  std::int64_t batch_size_;
  std::uint64_t seed_;
  std::uint32_t epoch_ = 0;
  bool drop_last_;
  bool shuffle_;
  std::vector<std::int64_t> order_;
  Batch full_, partial_;  // allocated once each, on first use
};

}  // namespace anneal
