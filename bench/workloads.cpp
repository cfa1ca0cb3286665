#include "bench/workloads.hpp"

#include <chrono>
#include <sstream>

#include "data/batches.hpp"

namespace anneal::bench {
namespace {

std::vector<Value> params_of(const Graph& g, const std::string& prefix = "") { return g.params(prefix); }

// free energy of a Bernoulli RBM: F(v) = -v.b - sum_j softplus(v W + c)_j
Value free_energy(Value v, Value W, Value b, Value c) {
  return -sum(v * b, {1}) - sum(softplus(matmul(v, W) + c), {1});
}

void rbm_common(Workload& w, bool persistent) {
  Graph& g = *w.graph;
  Value v0 = g.input("x", {Dim::batch(), 784});
  Value W = g.param("rbm.W", {784, 500}, Init::normal(0.01));
  Value b = g.param("rbm.b", {784}, Init::zeros());
  Value c = g.param("rbm.c", {500}, Init::zeros());
  Value v_model;
  std::vector<Value> extra_updates;
  if (!persistent) {
    // CD-1: h0 ~ p(h | v0), then the mean-field reconstruction.
    Value h0 = bernoulli(sigmoid(matmul(v0, W) + c));
    v_model = sigmoid(matmul(h0, W, false, true) + b);
  } else {
    // PCD-1: one sampled Gibbs sweep of the persistent chain.
    // The chain starts at 0.5, the mean of the reference's Bernoulli(0.5)
    // start; it is binary from the first sweep on.
    Value chain = g.state("rbm.chain", {w.batch, 784}, Init::constant(0.5));
    Value h = bernoulli(sigmoid(matmul(chain, W) + c));
    v_model = bernoulli(sigmoid(matmul(h, W, false, true) + b));
    extra_updates.push_back(assign(chain, v_model));
  }
  Value loss = mean(free_energy(v0, W, b, c)) - mean(free_energy(stop_gradient(v_model), W, b, c));
  auto params = params_of(g);
  Optimizer opt = sgd(g, "opt", params, grad(loss, params), {.lr = 0.05, .momentum = 0.5});
  // torch_ref.py's CD-1 step (W1) computes no free energy, only its
  // gradient, so W1 fetches nothing and the compiled step drops the softplus
  // terms only the loss's value needs; its PCD step (W2) computes the loss
  // for autograd, and so does this one.
  if (persistent) w.step_fetches = {loss};
  w.step_targets = opt.updates();
  w.step_targets.insert(w.step_targets.end(), extra_updates.begin(), extra_updates.end());
  // Reconstruction squared error per example, mean-field both ways.
  Value pv1 = sigmoid(matmul(sigmoid(matmul(v0, W) + c), W, false, true) + b);
  w.metric_fetches = {mean(sum(square(v0 - pv1), {1}))};
}

Value linear_chain(Graph& g, Value x, const std::vector<std::int64_t>& dims, const std::string& prefix,
                   const std::function<Value(Value, std::size_t)>& act) {
  for (std::size_t i = 1; i < dims.size(); ++i) x = act(nn::linear(g, prefix + std::to_string(i), x, dims[i]), i);
  return x;
}

}  // namespace

std::vector<std::string> workload_ids() { return {"W1", "W2", "W3", "W4", "W5", "W6"}; }

Workload make_workload(const std::string& id, std::int64_t batch) {
  Workload w;
  w.id = id;
  w.graph = std::make_unique<Graph>(id);
  Graph& g = *w.graph;
  if (id == "W1" || id == "W2") {
    w.slug = id == "W1" ? "rbm_cd1" : "rbm_pcd1";
    w.binary = true;
    w.batch = batch ? batch : 100;
    rbm_common(w, id == "W2");
  } else if (id == "W3") {
    w.slug = "vae";
    w.batch = batch ? batch : 100;
    Value x = g.input("x", {Dim::batch(), 784});
    Value h = relu(nn::linear(g, "fc1", x, 400));
    Value mu = nn::linear(g, "fc21", h, 20), logvar = nn::linear(g, "fc22", h, 20);
    Value z = gaussian_rsample(mu, logvar);
    Value logits = nn::linear(g, "fc4", relu(nn::linear(g, "fc3", z, 400)), 784);
    Value loss = (sum(bce_with_logits(logits, x)) + sum(kl_normal_std(mu, logvar))) / size_of(x, {0});
    auto params = g.params();
    Optimizer opt = adam(g, "adam", params, grad(loss, params), {.lr = 1e-3});
    w.step_fetches = {loss};
    w.step_targets = opt.updates();
    w.metric_fetches = {loss};
  } else if (id == "W4") {
    w.slug = "gan";
    w.batch = batch ? batch : 64;
    Value x = g.input("x", {Dim::batch(), 784});
    Value z = randn_like(g.input("noise", {Dim::batch(), 100}));
    auto lrelu = [](Value v, std::size_t) { return leaky_relu(v, 0.2); };
    Value h = linear_chain(g, z, {100, 256, 256}, "gen.fc", lrelu);
    Value fake = sigmoid(nn::linear(g, "gen.out", h, 784));
    std::vector<nn::Linear> d = {nn::make_linear(g, "disc.fc1", 784, 256), nn::make_linear(g, "disc.fc2", 256, 256),
                                 nn::make_linear(g, "disc.out", 256, 1)};
    auto disc = [&](const std::vector<nn::Linear>& layers, Value v) {
      v = leaky_relu(layers[0](v), 0.2);
      v = leaky_relu(layers[1](v), 0.2);
      return layers[2](v);
    };
    auto bce_to = [&](Value logit, double target) {
      return mean(bce_with_logits(logit, broadcast_like(g.scalar(target), logit)));
    };
    Value loss_d = bce_to(disc(d, x), 1.0) + bce_to(disc(d, stop_gradient(fake)), 0.0);
    auto dp = g.params("disc.");
    Optimizer opt_d = adam(g, "adam.disc", dp, grad(loss_d, dp), {.lr = 2e-4, .beta1 = 0.5});
    // The generator's update sees the discriminator after its update, as in
    // the reference: D's new parameters are values of the same graph.
    std::vector<nn::Linear> d_new = d;
    for (const Value& u : opt_d.updates()) {
      const Value& target = u.node().inputs[0];
      const Value& updated = u.node().inputs[1];
      for (auto& l : d_new) {
        if (target == l.W) l.W = updated;
        if (target == l.b) l.b = updated;
      }
    }
    Value loss_g = bce_to(disc(d_new, fake), 1.0);
    auto gp = g.params("gen.");
    Optimizer opt_g = adam(g, "adam.gen", gp, grad(loss_g, gp), {.lr = 2e-4, .beta1 = 0.5});
    w.step_fetches = {loss_d, loss_g};
    w.step_targets = opt_d.updates();
    w.step_targets.insert(w.step_targets.end(), opt_g.updates().begin(), opt_g.updates().end());
    w.metric_fetches = {loss_d, loss_g};
  } else if (id == "W5") {
    w.slug = "deep_ae";
    w.batch = batch ? batch : 100;
    Value x = g.input("x", {Dim::batch(), 784});
    std::vector<std::int64_t> dims{784, 1000, 500, 250, 30, 250, 500, 1000, 784};
    Value logits = linear_chain(g, x, dims, "l", [&](Value v, std::size_t i) {
      return dims[i] == 30 || i == dims.size() - 1 ? v : sigmoid(v);  // linear code, logits out
    });
    Value loss = sum(bce_with_logits(logits, x)) / size_of(x, {0});
    auto params = g.params();
    Optimizer opt = sgd(g, "opt", params, grad(loss, params), {.lr = 0.01, .momentum = 0.9});
    w.step_fetches = {loss};
    w.step_targets = opt.updates();
    w.metric_fetches = {loss};
  } else if (id == "W6") {
    w.slug = "mlp";
    w.batch = batch ? batch : 100;
    w.needs_labels = true;
    Value x = g.input("x", {Dim::batch(), 784});
    Value y = g.input("labels", {Dim::batch()}, DType::i32);
    std::vector<std::int64_t> dims{784, 500, 500, 2000, 10};
    Value logits = linear_chain(g, x, dims, "fc", [&](Value v, std::size_t i) {
      return i == dims.size() - 1 ? v : sigmoid(v);
    });
    Value loss = mean(cross_entropy(logits, y));
    auto params = g.params();
    Optimizer opt = sgd(g, "opt", params, grad(loss, params), {.lr = 0.1});
    w.step_fetches = {loss};
    w.step_targets = opt.updates();
    w.metric_fetches = {loss};
  } else {
    throw InvalidInput("unknown workload '" + id + "'");
  }
  return w;
}

WorkloadData::WorkloadData(bool binary, std::int64_t batch) : batch_(batch) {
  Dataset d = scale(fashion_mnist("train"), 1.0f / 255);
  if (binary) d = binarize(d, 0.5f);
  // One fixed order (PyTorch's randperm cannot be reproduced, nor need it be).
  Batches order(d, batch, 0);
  data_ = subset(d, order.order());
  n_batches_ = data_.size() / batch;
}

const Feeds& WorkloadData::batch(std::int64_t i) {
  i %= n_batches_;
  std::int64_t d = data_.features();
  feeds_["x"] = Tensor::view(DType::f32, {batch_, d}, data_.x.data<float>() + i * batch_ * d);
  feeds_["labels"] = Tensor::view(DType::i32, {batch_}, data_.y.data<std::int32_t>() + i * batch_);
  feeds_["noise"] = Tensor::view(DType::f32, {batch_, 100}, data_.x.data<float>());  // shape only
  return feeds_;
}

std::string check_workload(const std::string& id, int steps) {
  Workload w = make_workload(id);
  WorkloadData data(w.binary, w.batch);
  Session s(*w.graph);
  std::vector<double> last;
  for (int i = 0; i < steps; ++i) {
    const auto& out = s.run_views(data.batch(i), w.step_fetches, w.step_targets);
    last.assign(out.size(), 0.0);
    for (std::size_t k = 0; k < out.size(); ++k) last[k] = out[k].item();
  }
  // W4's metric is the last step's two losses; the others are evaluated on
  // batch 0 after training, as torch_ref.py does.
  std::vector<double> m = last;
  if (id != "W4") {
    m.clear();
    for (const Tensor& t : s.run(data.batch(0), w.metric_fetches)) m.push_back(t.item());
  }
  std::ostringstream os;
  os.precision(9);
  os << "{\"workload\": \"" << id << "\", \"steps\": " << steps << ", \"metric\": ";
  if (m.size() == 1) os << m[0];
  else os << '[' << m[0] << ", " << m[1] << ']';
  os << '}';
  return os.str();
}

std::string profile_workload(const std::string& id, int steps, int threads) {
  set_num_threads(threads);
  Workload w = make_workload(id);
  WorkloadData data(w.binary, w.batch);
  Session s(*w.graph);
  for (int i = 0; i < 10; ++i) s.run_views(data.batch(i), w.step_fetches, w.step_targets);
  Program& p = s.program(w.step_fetches, w.step_targets, w.batch);
  p.set_profiling(true);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) s.run_views(data.batch(i), w.step_fetches, w.step_targets);
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::ostringstream os;
  os << id << " at " << threads << " thread(s): " << 1e3 * total / steps << " ms per step, arena "
     << p.stats().arena_bytes / 1048576.0 << " MiB, by step:\n" << p.describe();
  p.set_profiling(false);
  return os.str();
}

}  // namespace anneal::bench
