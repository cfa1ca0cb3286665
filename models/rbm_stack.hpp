// Greedy layer-wise stacking of RBMs (the pretraining of a deep belief net,
// Hinton, Osindero & Teh 2006; Hinton & Salakhutdinov 2006). A stack is one
// graph: layer 1 learns from the input x, and add_layer extends the graph
// with an RBM that learns from the hidden posterior of the layer below
// (gradient-stopped: the layers below stay as they are). Trained greedily,
// one layer after another, in one session.
//
//   Stack dbn = make_stack(784);
//   add_layer(dbn, "rbm1", {.visible = 784, .hidden = 500});
//   add_layer(dbn, "rbm2", {.visible = 500, .hidden = 250});
//   Session s(*dbn.graph);
//   train_stack(s, dbn, data, nullptr, {.epochs = 10});
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/rbm_sample.hpp"
#include "models/rbm_train.hpp"

namespace anneal::rbm {

struct Stack {
  std::unique_ptr<Graph> graph;
  Value x;                       // input "x" [B, visible of the first layer]
  std::vector<Training> layers;  // layers[l].data: x for l = 0, else the posterior of layer l-1

  // The deterministic up pass: E[h|v] through the first n layers (all when n < 0).
  Value up(Value v, int n = -1) const;
  // The deterministic down pass from the hidden layer of layer n-1 (the top
  // when n < 0) to the data: E[v|h] through the layers below.
  Value down(Value h, int n = -1) const;

  // The stack of a graph built by make_stack/add_layer (metadata "stack.layers").
  static Stack from_graph(std::unique_ptr<Graph> graph);
};

Stack make_stack(std::int64_t visible, const std::string& graph_name = "rbm_stack");

// Appends an RBM named `name` whose visible layer is the hidden layer of the
// current top (spec.visible must match it) and whose training data is its
// posterior: E[h|v] of the layer below, or a sample of it when
// `sample_posterior`. The first layer learns from x.
Training& add_layer(Stack& stack, const std::string& name, const RbmSpec& spec, const CdOptions& cd = {},
                    const OptimOptions& optim = {}, bool sample_posterior = false);
// add_layer without the optimizers (make_objective), for callers that add
// their own.
Training& add_objective_layer(Stack& stack, const std::string& name, const RbmSpec& spec, const CdOptions& cd = {},
                              bool sample_posterior = false);

// The layers of a stack graph (metadata "stack.layers"), bottom first, as
// Training::from_graph gives them; the graph stays the caller's.
std::vector<Training> stack_layers(const Graph& g);

// Trains the layers in order, each for options.epochs epochs (first_epoch
// applies to every layer); `report` gets the layer index and the epoch.
void train_stack(Session& s, const Stack& stack, const Dataset& train, const Dataset* validation,
                 const TrainOptions& options, const std::function<void(int, const EpochReport&)>& report = {});

// Gibbs sampling in the top RBM from random states, then one down pass:
// `state` holds the top RBM's visible states, `mean` the down pass of their
// means to the data layer.
Samples sample_stack(Session& trained, const Stack& stack, const SampleOptions& options = {});

}  // namespace anneal::rbm
