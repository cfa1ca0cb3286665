#include "models/rbm_stack.hpp"

#include "backend/error.hpp"
#include "ops/ops.hpp"
#include "runtime/session.hpp"

namespace anneal::rbm {
namespace {

constexpr const char* kLayersKey = "stack.layers";
constexpr const char* kSampledKey = "stack.sample_posterior";

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t b = 0; b < s.size();) {
    std::size_t e = s.find(',', b);
    if (e == std::string::npos) e = s.size();
    out.push_back(s.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

int layer_count(const Stack& s, int n, const char* who) {
  const int size = static_cast<int>(s.layers.size());
  if (n < 0) return size;
  if (n > size)
    throw InvalidInput(std::string("stack ") + who + ": " + std::to_string(n) + " layers asked for, the stack has " +
                       std::to_string(size));
  return n;
}

}  // namespace

Value Stack::up(Value v, int n) const {
  for (int l = 0; l < layer_count(*this, n, "up"); ++l) v = layers[static_cast<std::size_t>(l)].rbm.mean_h(v);
  return v;
}

Value Stack::down(Value h, int n) const {
  for (int l = layer_count(*this, n, "down"); l-- > 0;) h = layers[static_cast<std::size_t>(l)].rbm.mean_v(h);
  return h;
}

Stack make_stack(std::int64_t visible, const std::string& graph_name) {
  Stack s;
  s.graph = std::make_unique<Graph>(graph_name);
  s.x = s.graph->input("x", {Dim::batch(), visible});
  s.graph->set_meta(kLayersKey, "");
  s.graph->set_meta(kSampledKey, "");
  return s;
}

namespace {

// The one place a layer joins a stack: checks that it fits on the layer
// below, makes its RBM, trains it (by `make`) on the posterior below, and
// records it in the stack's metadata.
template <class MakeTraining>
Training& append_layer(Stack& stack, const std::string& name, const RbmSpec& spec, bool sample_posterior,
                       const MakeTraining& make) {
  Graph& g = *stack.graph;
  const std::int64_t below = stack.layers.empty() ? stack.x.shape()[1] : stack.layers.back().rbm.spec.hidden;
  if (spec.visible != below || spec.label_classes != 0)
    throw InvalidInput("stack layer '" + name + "': its visible layer must be the " + std::to_string(below) +
                       " units below (no label units), got visible=" + std::to_string(spec.visible) +
                       ", label_classes=" + std::to_string(spec.label_classes));
  Value data = stack.x;
  if (!stack.layers.empty()) {
    const Training& prev = stack.layers.back();
    data = stop_gradient(sample_posterior ? prev.rbm.sample_h(prev.data) : prev.rbm.mean_h(prev.data));
  }
  Rbm r = make_rbm(g, name, spec);
  stack.layers.push_back(make(g, r, data));
  auto append = [&](const char* key, const std::string& value) {
    std::string cur = g.meta().at(key);
    g.set_meta(key, cur.empty() ? value : cur + "," + value);
  };
  append(kLayersKey, name);
  append(kSampledKey, sample_posterior ? "1" : "0");
  return stack.layers.back();
}

}  // namespace

Training& add_layer(Stack& stack, const std::string& name, const RbmSpec& spec, const CdOptions& cd,
                    const OptimOptions& optim, bool sample_posterior) {
  return append_layer(stack, name, spec, sample_posterior,
                      [&](Graph& g, const Rbm& r, Value data) { return make_training(g, r, data, cd, optim); });
}

Training& add_objective_layer(Stack& stack, const std::string& name, const RbmSpec& spec, const CdOptions& cd,
                              bool sample_posterior) {
  return append_layer(stack, name, spec, sample_posterior,
                      [&](Graph& g, const Rbm& r, Value data) { return make_objective(g, r, data, cd); });
}

std::vector<Training> stack_layers(const Graph& g) {
  auto it = g.meta().find(kLayersKey);
  if (it == g.meta().end())
    throw InvalidInput("graph '" + g.name() + "' is not an RBM stack (no '" + std::string(kLayersKey) + "' metadata)");
  std::vector<Training> layers;
  for (const std::string& name : split(it->second)) layers.push_back(Training::from_graph(g, name));
  return layers;
}

Stack Stack::from_graph(std::unique_ptr<Graph> graph) {
  Stack s;
  s.layers = stack_layers(*graph);
  s.x = graph->find("x");
  if (!s.x.valid() || s.x.node().op->role != OpRole::input)
    throw InvalidInput("graph '" + graph->name() + "' has no input 'x'");
  s.graph = std::move(graph);
  return s;
}

void train_stack(Session& s, const Stack& stack, const Dataset& train_data, const Dataset* validation,
                 const TrainOptions& options, const std::function<void(int, const EpochReport&)>& report) {
  for (std::size_t l = 0; l < stack.layers.size(); ++l) {
    TrainOptions o = options;
    o.init_visible_bias = options.init_visible_bias && l == 0;  // upper layers see posteriors, not the data
    const int layer = static_cast<int>(l);
    train(s, stack.layers[l], stack.x, {}, train_data, validation, o,
          [&](const EpochReport& r) { if (report) report(layer, r); });
  }
}

Samples sample_stack(Session& trained, const Stack& stack, const SampleOptions& o) {
  if (stack.layers.empty()) throw InvalidInput("sample_stack: the stack has no layers");
  Graph g("rbm_stack_sample");
  Stack copy;
  for (const Training& t : stack.layers) {
    Training replica;
    replica.rbm = make_rbm(g, t.rbm.name, t.rbm.spec);
    copy.layers.push_back(std::move(replica));
  }
  Chains c = make_chains(copy.layers.back().rbm, o.count, o.doc_length);
  Value picture = copy.down(c.mean, static_cast<int>(copy.layers.size()) - 1);
  Session s(g, {.seed = o.seed});
  for (const Training& t : stack.layers) copy_parameters(trained, s, t.rbm);
  run_chains(s, c, o.gibbs_steps);
  auto out = s.run({}, {c.state, picture});
  return {out[0], out[1]};
}

}  // namespace anneal::rbm
