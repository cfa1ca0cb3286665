#include "models/rbm_train.hpp"

#include <algorithm>
#include <chrono>

#include "autodiff/grad.hpp"
#include "backend/error.hpp"
#include "data/batches.hpp"
#include "data/dataset.hpp"
#include "models/mlp_classifier.hpp"
#include "ops/ops.hpp"
#include "runtime/session.hpp"

namespace anneal::rbm {

CdObjective contrastive_divergence(const Rbm& rbm, Value v_data, const CdOptions& o) {
  const std::string who = "contrastive_divergence('" + rbm.name + "')";
  if (o.k < 1) throw InvalidInput(who + ": k must be >= 1, got " + std::to_string(o.k));
  if (v_data.rank() != 2 || v_data.shape()[1] != rbm.spec.visible_units())
    throw InvalidInput(who + ": the data '" + v_data.name() + "' must be [B, " +
                       std::to_string(rbm.spec.visible_units()) + "], got " + dims_str(v_data.shape()));
  if (o.sparsity_cost != 0 && rbm.spec.hidden_type != UnitType::bernoulli)
    throw InvalidInput(who + ": a sparsity target needs bernoulli hidden units");
  Graph& g = *v_data.graph;
  const bool sampled = o.hidden_stats == HiddenStats::sampled;
  CdObjective cd;
  cd.v_data = v_data;
  Value h0 = rbm.sample_h(v_data);  // drives the CD chain; the sampled positive statistic
  Value vk;
  if (o.persistent) {
    if (rbm.spec.visible_type == UnitType::replicated_softmax)
      throw InvalidInput(who + ": PCD chains of a replicated softmax would need document lengths; use CD");
    if (o.chains < 1) throw InvalidInput(who + ": PCD needs at least one chain");
    // Zeros are a valid start for Bernoulli and Gaussian units and become a
    // valid state of any layer after the first step.
    cd.chains = g.state(rbm.name + ".pcd.chains", {o.chains, rbm.spec.visible_units()});
    vk = cd.chains;
    for (int s = 0; s < o.k; ++s) vk = rbm.gibbs(vk, true);
    cd.state_updates.push_back(assign(cd.chains, vk));
  } else {
    Value len = rbm.length(v_data);  // Gibbs steps keep the document lengths
    Value h = h0;
    for (int s = 0; s < o.k; ++s) {
      if (s > 0) h = rbm.sample_h(vk);
      // A learned σ needs noisy reconstructions: against a noise-free mean
      // the data always looks wider than the model, and σ would only grow.
      const bool sample = s + 1 < o.k || o.sample_last_visible || rbm.log_sigma.valid();
      vk = sample ? rbm.sample_v(h, len) : rbm.mean_v(h, len);
    }
  }
  cd.v_model = stop_gradient(vk);
  if (sampled) {
    cd.h_data = stop_gradient(o.persistent ? rbm.sample_h(v_data) : h0);
    cd.h_model = stop_gradient(rbm.sample_h(cd.v_model));
    cd.loss = mean(rbm.energy(v_data, cd.h_data)) - mean(rbm.energy(cd.v_model, cd.h_model));
  } else {
    cd.h_data = rbm.mean_h(v_data);
    cd.h_model = rbm.mean_h(cd.v_model);
    cd.loss = mean(rbm.free_energy(v_data)) - mean(rbm.free_energy(cd.v_model));
  }
  if (o.sparsity_cost != 0) {
    Value q = mean(rbm.mean_h(v_data), {0});
    cd.loss = cd.loss + o.sparsity_cost * sum(square(q - o.sparsity_target));
  }
  return cd;
}

std::vector<Optimizer> make_optimizers(Graph& g, const Rbm& rbm, Value loss, const OptimOptions& o) {
  std::vector<Value> params{rbm.W, rbm.b, rbm.c};
  if (rbm.log_sigma.valid()) params.push_back(rbm.log_sigma);
  std::vector<Value> grads = grad(loss, params);
  std::vector<Value> wp, wg, bp, bg;
  for (std::size_t i = 0; i < params.size(); ++i) {
    bool weight = params[i].rank() >= 2;  // the split of weights_only / biases_only
    (weight ? wp : bp).push_back(params[i]);
    (weight ? wg : bg).push_back(grads[i]);
  }
  std::vector<Optimizer> opts;
  const std::string prefix = (o.algorithm == Algorithm::adam ? "adam." : "sgd.") + rbm.name;
  if (o.algorithm == Algorithm::adam) {
    opts.push_back(adam(g, prefix + ".weights", wp, wg,
                        {.lr = o.lr.at(0), .beta1 = o.momentum.at(0), .weight_decay = o.weight_decay}));
    opts.push_back(adam(g, prefix + ".biases", bp, bg, {.lr = o.lr.at(0), .beta1 = o.momentum.at(0)}));
  } else {
    const double m0 = std::max(o.momentum.at(0), o.momentum.at(1e9));  // nonzero: the momentum state is built
    opts.push_back(sgd(g, prefix + ".weights", wp, wg, {.lr = o.lr.at(0), .momentum = m0, .weight_decay = o.weight_decay}));
    opts.push_back(sgd(g, prefix + ".biases", bp, bg, {.lr = o.lr.at(0), .momentum = m0}));
  }
  set_schedules(opts, o);
  return opts;
}

void set_schedules(std::vector<Optimizer>& optimizers, const OptimOptions& o) {
  for (Optimizer& opt : optimizers) {
    opt.schedule("lr", o.lr);
    opt.schedule(opt.hyper().count("momentum") ? "momentum" : "beta1", o.momentum);
  }
}

Monitors make_monitors(const Rbm& rbm, Value v) {
  Monitors m;
  Value recon = rbm.mean_v(rbm.mean_h(v), rbm.length(v));
  m.recon_error = mean(sum(square(v - recon), {1}));
  m.free_energy = mean(rbm.free_energy(v));
  if (rbm.spec.visible_type == UnitType::bernoulli && rbm.spec.label_classes == 0) {
    // Flip one uniformly chosen unit per row: log p(v_i | v_-i) = -softplus(F(v) - F(v~)).
    Value flip = one_hot(categorical(v * 0.0), rbm.spec.visible);
    Value flipped = v + flip * (1.0 - 2.0 * v);
    m.pll = mean(-static_cast<double>(rbm.spec.visible) * softplus(rbm.free_energy(v) - rbm.free_energy(flipped)));
  }
  return m;
}

std::vector<Value> Training::targets() const {
  std::vector<Value> t;
  for (const Optimizer& o : optimizers) t.insert(t.end(), o.updates().begin(), o.updates().end());
  t.insert(t.end(), cd.state_updates.begin(), cd.state_updates.end());
  return t;
}

namespace {
std::string train_key(const std::string& name) { return "rbm." + name + ".train"; }
std::string updates_key(const std::string& name) { return "rbm." + name + ".state_updates"; }
}  // namespace

Training make_training(Graph& g, const Rbm& rbm, Value data, const CdOptions& cd, const OptimOptions& optim,
                       Value extra_loss, double cd_weight) {
  Training t = make_objective(g, rbm, data, cd, extra_loss, cd_weight);
  t.optimizers = make_optimizers(g, rbm, t.loss, optim);
  return t;
}

Training make_objective(Graph& g, const Rbm& rbm, Value data, const CdOptions& cd, Value extra_loss,
                        double cd_weight) {
  Training t;
  t.rbm = rbm;
  t.data = data;
  t.cd = contrastive_divergence(rbm, data, cd);
  t.loss = cd_weight == 1.0 ? t.cd.loss : cd_weight * t.cd.loss;
  if (extra_loss.valid()) t.loss = t.loss + extra_loss;
  t.monitors = make_monitors(rbm, data);
  // The pieces a loaded graph needs, in a fixed order (pll last: optional).
  std::vector<Value> rec{data, t.cd.loss, t.loss, t.cd.v_data, t.cd.h_data, t.cd.v_model, t.cd.h_model,
                         t.monitors.recon_error, t.monitors.free_energy};
  if (t.monitors.pll.valid()) rec.push_back(t.monitors.pll);
  g.set_collection(train_key(rbm.name), rec);
  g.set_collection(updates_key(rbm.name), t.cd.state_updates);
  return t;
}

Training Training::from_graph(const Graph& g, const std::string& name) {
  Training t;
  t.rbm = Rbm::from_graph(g, name);
  const auto& rec = g.collection(train_key(name));
  if (rec.size() != 9 && rec.size() != 10)
    throw InvalidInput("graph '" + g.name() + "': collection '" + train_key(name) + "' must hold 9 or 10 values, has " +
                       std::to_string(rec.size()));
  t.data = rec[0];
  t.cd.loss = rec[1];
  t.loss = rec[2];
  t.cd.v_data = rec[3];
  t.cd.h_data = rec[4];
  t.cd.v_model = rec[5];
  t.cd.h_model = rec[6];
  t.monitors.recon_error = rec[7];
  t.monitors.free_energy = rec[8];
  if (rec.size() == 10) t.monitors.pll = rec[9];
  t.cd.state_updates = g.collection(updates_key(name));
  for (const Value& u : t.cd.state_updates)
    if (u.node().op->role == OpRole::assign && u.node().inputs[0].name() == name + ".pcd.chains")
      t.cd.chains = u.node().inputs[0];
  const auto names = Optimizer::names_in(g);
  for (const char* algorithm : {"sgd.", "adam."})
    for (const char* group : {".weights", ".biases"})
      if (std::find(names.begin(), names.end(), algorithm + name + group) != names.end())
        t.optimizers.push_back(Optimizer::from_graph(g, algorithm + name + group));
  if (t.optimizers.size() == 1)  // none is an objective without optimizers (make_objective)
    throw InvalidInput("graph '" + g.name() + "': RBM '" + name + "' needs both its optimizers '<sgd|adam>." + name +
                       ".weights' and '.biases', or neither");
  return t;
}

Model build_model(const ModelOptions& o) {
  Model m;
  m.graph = std::make_unique<Graph>(o.name);
  Graph& g = *m.graph;
  Rbm r = make_rbm(g, o.name, o.spec);
  m.x = g.input("x", {Dim::batch(), o.spec.visible});
  Value data = m.x, extra;
  if (o.spec.label_classes > 0) {
    m.labels = g.input("labels", {Dim::batch()}, DType::i32);
    data = r.join_labels(m.x, m.labels);
    m.class_logits = r.class_logits(m.x);
    if (o.discriminative_weight != 0)
      extra = o.discriminative_weight * mean(cross_entropy(m.class_logits, m.labels));
  } else if (o.discriminative_weight != 0) {
    throw InvalidInput("rbm '" + o.name + "': a discriminative weight needs label units (label_classes > 0)");
  }
  m.training = o.optimizers ? make_training(g, r, data, o.cd, o.optim, extra, o.generative_weight)
                            : make_objective(g, r, data, o.cd, extra, o.generative_weight);
  g.output("loss", m.training.loss);
  g.output("recon_error", m.training.monitors.recon_error);
  g.output("free_energy", m.training.monitors.free_energy);
  if (m.training.monitors.pll.valid()) g.output("pll", m.training.monitors.pll);
  if (m.class_logits.valid()) g.output("class_logits", m.class_logits);
  return m;
}

Model model_from_graph(std::unique_ptr<Graph> graph, const std::string& name) {
  Model m;
  m.training = Training::from_graph(*graph, name);
  m.x = graph->find("x");
  if (!m.x.valid() || m.x.node().op->role != OpRole::input)
    throw InvalidInput("graph '" + graph->name() + "' has no input 'x'");
  if (m.training.rbm.spec.label_classes > 0) {
    m.labels = graph->find("labels");
    m.class_logits = graph->output("class_logits");
  }
  m.graph = std::move(graph);
  return m;
}

namespace {

Feeds& feed(Feeds& f, Value x, Value labels, const Batch& b) {
  f[x.name()] = b.x;
  if (labels.valid()) f[labels.name()] = b.y;
  return f;
}

}  // namespace

MonitorValues evaluate_monitors(Session& s, const Training& t, Value x, Value labels, const Dataset& data,
                                std::int64_t max_examples) {
  Dataset d = max_examples >= 0 ? take(data, max_examples) : data;
  MonitorValues out;
  if (d.size() == 0) return out;
  std::vector<Value> fetches{t.monitors.recon_error, t.monitors.free_energy};
  if (t.monitors.pll.valid()) fetches.push_back(t.monitors.pll);
  std::vector<double> sums(fetches.size(), 0.0);
  Batches batches(d, 500, 0, 0, false, /*shuffle=*/false);
  Feeds f;
  for (const Batch& b : batches) {
    const auto& r = s.run_views(feed(f, x, labels, b), fetches);
    for (std::size_t i = 0; i < r.size(); ++i) sums[i] += r[i].item() * static_cast<double>(b.x.dim(0));
  }
  const double n = static_cast<double>(d.size());
  out.recon_error = sums[0] / n;
  out.free_energy = sums[1] / n;
  if (t.monitors.pll.valid()) out.pll = sums[2] / n;
  return out;
}

void train(Session& s, const Training& t, Value x, Value labels, const Dataset& train_data, const Dataset* validation,
           const TrainOptions& o, const EpochCallback& report) {
  check_dataset(train_data, "rbm::train");
  if (labels.valid() && (!train_data.labeled() || (validation && !validation->labeled())))
    throw InvalidInput("rbm::train: rbm '" + t.rbm.name +
                       "' has label units but the training or validation data has no labels");
  if (validation) check_dataset(*validation, "rbm::train (validation)");
  if (t.rbm.spec.visible_type == UnitType::replicated_softmax) {
    const float* p = train_data.x.data<float>();
    const std::int64_t n = train_data.size(), v = train_data.features();
    for (std::int64_t i = 0; i < n; ++i) {
      double len = 0;
      for (std::int64_t j = 0; j < v; ++j) len += p[i * v + j];
      if (len > static_cast<double>(t.rbm.spec.max_doc_length))
        throw InvalidInput("rbm::train: document " + std::to_string(i) + " has " + std::to_string(len) +
                           " words, more than max_doc_length = " + std::to_string(t.rbm.spec.max_doc_length));
    }
  }
  if (o.first_epoch == 0 && o.init_visible_bias) init_visible_bias(s, t.rbm, train_data);

  std::vector<Value> targets = t.targets();
  std::vector<Optimizer> optimizers = t.optimizers;
  Batches batches(train_data, o.batch, o.seed);
  Feeds f;
  for (int epoch = o.first_epoch; epoch < o.epochs; ++epoch) {
    auto t0 = std::chrono::steady_clock::now();
    batches.set_epoch(static_cast<std::uint32_t>(epoch));
    double loss_sum = 0;
    std::int64_t i = 0;
    for (const Batch& b : batches) {
      double progress = epoch + static_cast<double>(i++) / static_cast<double>(batches.size());
      for (const Optimizer& opt : optimizers) opt.apply(s, progress);
      loss_sum += s.run_views(feed(f, x, labels, b), {t.loss}, targets)[0].item();
    }
    EpochReport r;
    r.epoch = epoch + 1;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.loss = loss_sum / static_cast<double>(std::max<std::int64_t>(1, batches.size()));
    MonitorValues mt = evaluate_monitors(s, t, x, labels, train_data, o.monitor_examples);
    r.recon_error = mt.recon_error;
    r.pll = mt.pll;
    r.free_energy_train = mt.free_energy;
    if (validation) {
      r.free_energy_valid = evaluate_monitors(s, t, x, labels, *validation, o.monitor_examples).free_energy;
      r.free_energy_gap = r.free_energy_valid - r.free_energy_train;
    }
    if (report) report(r);
  }
}

void train(Session& s, const Model& m, const Dataset& train_data, const Dataset* validation, const TrainOptions& o,
           const EpochCallback& report) {
  train(s, m.training, m.x, m.labels, train_data, validation, o, report);
}

double classification_accuracy(Session& s, const Model& m, const Dataset& data) {
  if (!m.class_logits.valid()) throw InvalidInput("rbm '" + m.training.rbm.name + "' is not a classification RBM");
  return anneal::classification_accuracy(s, m.x, m.class_logits, data);
}

}  // namespace anneal::rbm
