// The six reference workloads of ../shared/bench/torch_ref.py (its docstring
// is the specification), built with the public API: builder, autodiff,
// optimizers. One step = one optimizer update on one batch. The CD-1 and
// PCD-1 RBMs are the gradient of a free-energy difference, like any user's.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "anneal.hpp"

namespace anneal::bench {

struct Workload {
  std::string id;    // "W1"
  std::string slug;  // "rbm_cd1"
  std::int64_t batch = 100;
  bool binary = false;  // x > 0.5 as 0/1 floats
  std::unique_ptr<Graph> graph;
  std::vector<Value> step_fetches;  // run every step (the loss, where the reference computes one)
  std::vector<Value> step_targets;  // the optimizer updates
  std::vector<Value> metric_fetches;  // torch_ref.py's metric, on a batch
  bool needs_labels = false;
};

// W1..W6 for a given batch size (0: the workload's own).
Workload make_workload(const std::string& id, std::int64_t batch = 0);
std::vector<std::string> workload_ids();

// Fashion-MNIST training images scaled to [0, 1] (binarized for RBMs), in one
// fixed order; batch i is the contiguous slice i*B..(i+1)*B (wrapping, last
// partial batch dropped), fed as views: fetching a batch costs nothing.
class WorkloadData {
 public:
  WorkloadData(bool binary, std::int64_t batch);
  const Feeds& batch(std::int64_t i);

 private:
  Dataset data_;
  std::int64_t batch_, n_batches_;
  Feeds feeds_;
};

// The workload's metric after `steps` training steps, as torch_ref.py's
// metric_after (W4: [loss_D, loss_G]) in one JSON line.
std::string check_workload(const std::string& id, int steps);

// The compiled step program of a workload, each step with its mean time over
// `steps` training steps at `threads` threads (after a warm-up): where the
// time goes.
std::string profile_workload(const std::string& id, int steps, int threads);

}  // namespace anneal::bench
