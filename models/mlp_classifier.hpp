// A multilayer perceptron classifier: x [B, D] -> hidden layers -> logits
// [B, K], trained on the mean cross-entropy against i32 labels.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.hpp"

namespace anneal {

class Session;
struct Dataset;

enum class Activation { relu, sigmoid, tanh, leaky_relu };
Activation activation_from_name(const std::string& name);  // throws InvalidInput
Value activate(Value x, Activation a);

struct MlpClassifierOptions {
  std::int64_t inputs = 784;
  std::vector<std::int64_t> hidden = {500, 500};
  std::int64_t classes = 10;
  Activation activation = Activation::relu;
};

struct MlpClassifier {
  std::unique_ptr<Graph> graph;
  Value x;       // input "x" [B, inputs]
  Value labels;  // input "labels" i32 [B]
  Value logits;  // [B, classes]
  Value loss;    // mean cross-entropy
};

// Layers are named "fc1", "fc2", ..., "out" (parameters "fc1.W", "fc1.b", ...).
MlpClassifier build_mlp_classifier(const MlpClassifierOptions& o);

// Fraction of `data` whose argmax logit equals the label (batches of 500).
double classification_accuracy(Session& s, Value x, Value logits, const Dataset& data);

struct MlpTrainOptions {
  int epochs = 10;
  std::int64_t batch = 100;
  double lr = 1e-3;  // Adam, cosine-decayed to lr/10 over the run
  std::uint64_t seed = 0;
};

struct EpochReport {
  int epoch;          // 1-based
  double loss;        // mean training loss over the epoch
  double accuracy;    // on `test`
  double seconds;     // training time of the epoch (evaluation excluded)
};

// Trains a classifier on `train` and reports each epoch (the demo and its
// test share this loop).
void train_mlp_classifier(MlpClassifier& m, const Dataset& train, const Dataset& test, const MlpTrainOptions& o,
                          const std::function<void(const EpochReport&)>& report);

}  // namespace anneal
