#include "models/mlp_classifier.hpp"

#include <chrono>

#include "autodiff/grad.hpp"
#include "backend/error.hpp"
#include "data/batches.hpp"
#include "models/nn.hpp"
#include "models/optim.hpp"
#include "models/trainer.hpp"
#include "ops/ops.hpp"
#include "runtime/session.hpp"

namespace anneal {

Activation activation_from_name(const std::string& name) {
  if (name == "relu") return Activation::relu;
  if (name == "sigmoid") return Activation::sigmoid;
  if (name == "tanh") return Activation::tanh;
  if (name == "leaky_relu") return Activation::leaky_relu;
  throw InvalidInput("unknown activation '" + name + "' (expected relu, sigmoid, tanh or leaky_relu)");
}

Value activate(Value x, Activation a) {
  switch (a) {
    case Activation::relu: return relu(x);
    case Activation::sigmoid: return sigmoid(x);
    case Activation::tanh: return tanh(x);
    case Activation::leaky_relu: return leaky_relu(x, 0.2);
  }
  return x;
}

MlpClassifier build_mlp_classifier(const MlpClassifierOptions& o) {
  MlpClassifier m;
  m.graph = std::make_unique<Graph>("mlp_classifier");
  Graph& g = *m.graph;
  m.x = g.input("x", {Dim::batch(), o.inputs});
  m.labels = g.input("labels", {Dim::batch()}, DType::i32);
  Value h = m.x;
  for (std::size_t i = 0; i < o.hidden.size(); ++i)
    h = activate(nn::linear(g, "fc" + std::to_string(i + 1), h, o.hidden[i]), o.activation);
  m.logits = nn::linear(g, "out", h, o.classes);
  m.loss = mean(cross_entropy(m.logits, m.labels));
  g.output("logits", m.logits);
  g.output("loss", m.loss);
  return m;
}

double classification_accuracy(Session& s, Value x, Value logits, const Dataset& data) {
  if (!data.labeled()) throw InvalidInput("classification_accuracy: the dataset has no labels");
  Batches batches(data, 500, 0, 0, false, /*shuffle=*/false);
  std::int64_t correct = 0;
  for (const Batch& b : batches) {
    Tensor out = s.run({{x.name(), b.x}}, logits);
    std::int64_t rows = out.dim(0), k = out.dim(1);
    const float* p = out.data<float>();
    for (std::int64_t r = 0; r < rows; ++r) {
      std::int64_t best = 0;
      for (std::int64_t j = 1; j < k; ++j)
        if (p[r * k + j] > p[r * k + best]) best = j;
      correct += best == b.y.data<std::int32_t>()[r];
    }
  }
  return static_cast<double>(correct) / static_cast<double>(data.size());
}

void train_mlp_classifier(MlpClassifier& m, const Dataset& train, const Dataset& test, const MlpTrainOptions& o,
                          const std::function<void(const EpochReport&)>& report) {
  Graph& g = *m.graph;
  auto params = g.params();
  Optimizer opt = adam(g, "adam", params, grad(m.loss, params), {.lr = o.lr});
  opt.schedule("lr", Schedule::cosine(o.lr, o.lr / 10, 0, o.epochs));
  Session session(g, {.seed = o.seed});
  Trainer trainer(session, m.loss, {opt});
  Batches batches(train, o.batch, o.seed);
  Feeds feeds;
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    auto t0 = std::chrono::steady_clock::now();
    batches.set_epoch(static_cast<std::uint32_t>(epoch));
    double loss_sum = 0;
    std::int64_t i = 0;
    for (const Batch& b : batches) {
      feeds["x"] = b.x;
      feeds["labels"] = b.y;
      double progress = epoch + static_cast<double>(i++) / static_cast<double>(batches.size());
      loss_sum += trainer.step(feeds, progress)[0];
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double acc = classification_accuracy(session, m.x, m.logits, test);
    report({epoch + 1, loss_sum / static_cast<double>(batches.size()), acc, seconds});
  }
}

}  // namespace anneal
