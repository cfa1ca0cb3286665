// Graph JSON format v1 (io/graph_json.hpp): byte-identical round trips,
// reloaded graphs that compute the same bits, errors that name their JSON
// path, and a mutation test that throws thousands of broken documents at the
// loader (in-process, and a sample through the anneal-graph-check executable).
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "anneal.hpp"
#include "graph/sources.hpp"
#include "io/atomic_file.hpp"
#include "io/graph_json.hpp"
#include "models/mlp_classifier.hpp"

using namespace anneal;
using OJson = nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

// --- example graphs ---------------------------------------------------------------

struct Example {
  std::string label;
  std::unique_ptr<Graph> graph;
  std::vector<std::string> fetches;  // compared bitwise between original and reloaded
  std::vector<std::string> targets;  // assign nodes run each step
  Feeds feeds;
};

Tensor random_tensor(std::mt19937& rng, Dims shape, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(static_cast<std::size_t>(numel(shape)));
  for (auto& x : v) x = u(rng);
  return Tensor::from(v, std::move(shape));
}

std::vector<std::string> names(const std::vector<Value>& vs) {
  std::vector<std::string> out;
  for (const Value& v : vs) out.push_back(v.name());
  return out;
}

// The MLP classifier with every gradient and an Adam optimizer.
Example mlp_example() {
  MlpClassifier m = build_mlp_classifier({.inputs = 6, .hidden = {5, 4}, .classes = 3});
  Graph& g = *m.graph;
  std::vector<Value> params = g.params();
  std::vector<Value> grads = grad(m.loss, params);
  Optimizer opt = adam(g, "adam", params, grads, {.lr = 1e-3, .eps = 1e-8, .weight_decay = 0.1});
  Example ex{"mlp", std::move(m.graph), {}, names(opt.updates()), {}};
  ex.fetches = names(grads);
  ex.fetches.push_back("x");
  ex.fetches.push_back(m.loss.name());
  ex.fetches.push_back(m.logits.name());
  std::mt19937 rng(1);
  ex.feeds["x"] = random_tensor(rng, {4, 6}, -1, 1);
  ex.feeds["labels"] = Tensor::from({0, 2, 1, 2}, {4}, DType::i32);
  return ex;
}

// A VAE: Gaussian encoder, reparameterized sample, Bernoulli decoder; SGD.
Example vae_example() {
  auto gp = std::make_unique<Graph>("vae");
  Graph& g = *gp;
  Value x = g.input("x", {Dim::batch(), 8});
  Value h = relu(nn::linear(g, "enc.fc", x, 6));
  Value mu = nn::linear(g, "enc.mu", h, 2), logvar = nn::linear(g, "enc.logvar", h, 2);
  Value z = gaussian_rsample(mu, logvar);
  Value logits = nn::linear(g, "dec.out", relu(nn::linear(g, "dec.fc", z, 6)), 8);
  Value loss = mean(sum(bce_with_logits(logits, x), {1}) + sum(kl_normal_std(mu, logvar), {1}));
  g.output("loss", loss);
  g.output("z", z);
  std::vector<Value> params = g.params();
  std::vector<Value> grads = grad(loss, params);
  Optimizer opt = sgd(g, "sgd", params, grads, {.lr = 0.05, .momentum = 0.9, .nesterov = true, .weight_decay = 1e-4});
  Example ex{"vae", std::move(gp), names(grads), names(opt.updates()), {}};
  ex.fetches.push_back(loss.name());
  ex.fetches.push_back(z.name());
  std::mt19937 rng(2);
  ex.feeds["x"] = random_tensor(rng, {5, 8}, 0, 1);
  return ex;
}

// A Bernoulli RBM trained by CD-1: bernoulli samples, stop_gradient and the
// free energy through softplus/sum.
Example rbm_example() {
  auto gp = std::make_unique<Graph>("rbm");
  Graph& g = *gp;
  Value v0 = g.input("v", {Dim::batch(), 6});
  Value W = g.param("rbm.W", {6, 4}, Init::normal(0.01));
  Value b = g.param("rbm.b", {6}, Init::zeros());
  Value c = g.param("rbm.c", {4}, Init::constant(-0.1));
  auto free_energy = [&](Value v) { return -sum(v * b, {1}) - sum(softplus(matmul(v, W) + c), {1}); };
  Value h0 = bernoulli(sigmoid(matmul(v0, W) + c));
  Value v1 = bernoulli(sigmoid(matmul(h0, W, false, true) + b));
  Value loss = mean(free_energy(v0)) - mean(free_energy(stop_gradient(v1)));
  g.output("loss", loss);
  g.output("v1", v1);
  std::vector<Value> params = g.params();
  std::vector<Value> grads = grad(loss, params);
  Optimizer opt = sgd(g, "cd", params, grads, {.lr = 0.1});
  Example ex{"rbm", std::move(gp), names(grads), names(opt.updates()), {}};
  ex.fetches.push_back(loss.name());
  ex.fetches.push_back(v1.name());
  std::mt19937 rng(3);
  Tensor v = random_tensor(rng, {4, 6}, 0, 1);
  ex.feeds["v"] = v;
  return ex;
}

// Every op family and the format's corner cases: awkward names, doubles that
// print oddly, non-finite constants, outputs out of alphabetical order.
Example kitchen_sink_example() {
  auto gp = std::make_unique<Graph>("kitchen \"sink\" \xE2\x9C\x93");
  Graph& g = *gp;
  Value x = g.input("x", {Dim::batch(), 4});
  Value labels = g.input("labels", {Dim::batch()}, DType::i32);
  Value W = g.param("layer/W \"quoted\"", {4, 3}, Init::uniform(-1e-8, 0.1));
  Value k = g.param("k", {3}, Init::constant(0.30000000000000004));
  Value step = g.state("step", {}, Init::constant(1e30));
  Value counter = g.state("counter", {2}, Init::zeros(), DType::i32);
  Value h = leaky_relu(matmul(x, W) + k, 0.1);
  Value t = transpose(reshape(h, {Dim::batch(), 3, 1}), {0, 2, 1});
  Value cat = concat({slice(h, 1, 0, 2), pad(slice(h, 1, 2, 3), 1, 1, 0)}, 1);
  Value sel = select(greater(cat, g.scalar(0.0)), cat, abs(cat) * 0.5);
  Value lse = logsumexp(sel, -1, true) + max(sel, {1}, true) + sqrt(square(sel) + 1.0);
  Value noise = masking_noise(tanh(lse), 0.1) + uniform(g, {4}, -1e-8, 0.75) + randn_like(lse) * 1e-3;
  Value cls = categorical(log_softmax(matmul(x, W)));
  Value onehot = one_hot(cls, 3);
  Value ce = mean(cross_entropy(matmul(x, W), labels)) + mse(onehot, softmax(matmul(x, W)));
  Value logs = log1p(exp(-abs(sum(noise, {1})))) * sign(sum(t, {1, 2}));
  Value loss = ce + mean(logs) + mean(cast(cast(x, DType::i32), DType::f32));
  Tensor odd = Tensor::from({0.1, -0.0, 1e-8}, {3});
  Value special = g.add(constant_op(), {},
                        Attrs{{"shape", Dims{9}},
                              {"dtype", std::string("f32")},
                              {"value", std::vector<double>{0.1, 1e-8, 1e300, -0.0, 5e-324, 1.7976931348623157e308,
                                                            std::numeric_limits<double>::infinity(),
                                                            -std::numeric_limits<double>::infinity(),
                                                            std::numeric_limits<double>::quiet_NaN()}}},
                        "special constants");
  Value upd_step = assign(step, step * 1.0);
  Value upd_counter = assign(counter, cast(cast(counter, DType::f32) + 1.0, DType::i32));
  g.output("z_loss", loss);
  g.output("a_h", h);
  g.output("special", special);
  Value odd_values = g.constant(odd, "odd");
  g.set_collection("updates", {upd_step, upd_counter});
  g.set_collection("weird name: \"q\"\n\t\xC3\xA9", {x, W, x});
  g.set_collection("empty", {});
  g.set_meta("note", "line one\nline two \"quoted\" \\ backslash \xF0\x9F\x98\x80");
  g.set_meta("", "empty key");
  Example ex{"kitchen", std::move(gp), {loss.name(), h.name(), cls.name(), noise.name(), odd_values.name()},
             {upd_step.name(), upd_counter.name()}, {}};
  std::mt19937 rng(4);
  ex.feeds["x"] = random_tensor(rng, {3, 4}, -2, 2);
  ex.feeds["labels"] = Tensor::from({0, 1, 2}, {3}, DType::i32);
  return ex;
}

// A small graph for the error cases and the every-truncation test.
std::unique_ptr<Graph> tiny_graph() {
  auto gp = std::make_unique<Graph>("tiny");
  Graph& g = *gp;
  Value x = g.input("x", {Dim::batch(), 3});
  Value W = g.param("W", {3, 2}, Init::glorot_uniform());
  Value b = g.param("b", {2}, Init::zeros());
  Value h = matmul(x, W) + b;
  Value s = slice(h, 1, 0, 1);
  Value loss = mean(s);
  Value step = g.state("step", {}, Init::zeros());
  Value upd = assign(step, step + 1.0);
  g.output("loss", loss);
  g.set_collection("updates", {upd});
  g.set_meta("note", "tiny");
  return gp;
}

// --- helpers ------------------------------------------------------------------------

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         (a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

std::vector<Value> values_of(const Graph& g, const std::vector<std::string>& ns) {
  std::vector<Value> out;
  for (const auto& n : ns) {
    Value v = g.find(n);
    REQUIRE_MESSAGE(v.valid(), "no node named " << n);
    out.push_back(v);
  }
  return out;
}

// Runs both graphs side by side for a few steps (same seed, same feeds) and
// requires every fetched value and every persistent tensor to match bitwise.
void check_same_computation(const Example& ex, const Graph& loaded) {
  Session a(*ex.graph, {.seed = 17}), b(loaded, {.seed = 17});
  for (int step = 0; step < 3; ++step) {
    auto ra = a.run(ex.feeds, values_of(*ex.graph, ex.fetches), values_of(*ex.graph, ex.targets));
    auto rb = b.run(ex.feeds, values_of(loaded, ex.fetches), values_of(loaded, ex.targets));
    REQUIRE(ra.size() == rb.size());
    for (std::size_t i = 0; i < ra.size(); ++i) CHECK_MESSAGE(same_bits(ra[i], rb[i]), ex.fetches[i]);
  }
  REQUIRE(a.persistent_names() == b.persistent_names());
  for (const auto& n : a.persistent_names()) CHECK_MESSAGE(same_bits(a.get(n), b.get(n)), n);
}

std::string error_of(std::string_view text) {
  try {
    graph_from_json(text);
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "";
}

// Resolves the JSON path at the start of `message` ("nodes[3].attrs.axis: ...",
// `meta["a.b"]: ...`, "$: ...") against `doc`. Returns the path's length if it
// exists in `doc` and is followed by ": ", else 0.
std::size_t existing_path_prefix(const nlohmann::json& doc, const std::string& message) {
  const nlohmann::json* cur = &doc;
  std::size_t pos = 0;
  if (message.rfind("$: ", 0) == 0) return 1;
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  while (pos < message.size() && message.compare(pos, 2, ": ") != 0) {
    char c = message[pos];
    if (c == '[' && pos + 1 < message.size() && message[pos + 1] == '"') {
      // A quoted key: a JSON string literal, then ']'.
      std::size_t end = pos + 2;
      while (end < message.size() && message[end] != '"') end += message[end] == '\\' ? 2 : 1;
      if (end >= message.size()) return 0;
      std::string key = nlohmann::json::parse(message.substr(pos + 1, end - pos)).get<std::string>();
      if (end + 1 >= message.size() || message[end + 1] != ']') return 0;
      if (!cur->is_object() || !cur->contains(key)) return 0;
      cur = &(*cur)[key];
      pos = end + 2;
    } else if (c == '[') {
      std::size_t end = message.find(']', pos);
      if (end == std::string::npos) return 0;
      std::size_t i = std::stoul(message.substr(pos + 1, end - pos - 1));
      if (!cur->is_array() || i >= cur->size()) return 0;
      cur = &(*cur)[i];
      pos = end + 1;
    } else {
      if (c == '.') {
        if (pos == 0) return 0;
        ++pos;
      }
      std::size_t end = pos;
      while (end < message.size() && ident(message[end])) ++end;
      if (end == pos) return 0;
      std::string key = message.substr(pos, end - pos);
      if (!cur->is_object() || !cur->contains(key)) return 0;
      cur = &(*cur)[key];
      pos = end;
    }
  }
  return pos < message.size() && pos > 0 ? pos : 0;
}

// "byte N: ..." with N within the text (N == size: the end of input).
bool byte_offset_prefix(const std::string& message, std::size_t size) {
  if (message.rfind("byte ", 0) != 0) return false;
  std::size_t colon = message.find(": ");
  if (colon == std::string::npos || colon == 5) return false;
  std::string digits = message.substr(5, colon - 5);
  if (digits.find_first_not_of("0123456789") != std::string::npos) return false;
  return std::stoull(digits) <= size;
}

enum class Outcome { valid, invalid_path, invalid_byte };

// Feeds one document to the loader; fails the test unless it loads (and then
// round-trips) or throws InvalidInput naming an existing path or a byte offset.
Outcome check_loader_on(const std::string& text, const std::string& what) {
  std::string message;
  try {
    auto g = graph_from_json(text);
    std::string once = graph_to_json(*g);
    CHECK_MESSAGE(graph_to_json(*graph_from_json(once)) == once, what);
    return Outcome::valid;
  } catch (const InvalidInput& e) {
    message = e.what();
  } catch (const std::exception& e) {
    FAIL_CHECK(what << ": not InvalidInput: " << e.what());
    return Outcome::invalid_path;
  }
  if (byte_offset_prefix(message, text.size())) return Outcome::invalid_byte;
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    FAIL_CHECK(what << ": the text does not parse (" << e.what() << ") but the error has no byte offset: " << message);
    return Outcome::invalid_path;
  }
  CHECK_MESSAGE(existing_path_prefix(doc, message) > 0, what << ": no existing JSON path in: " << message);
  return Outcome::invalid_path;
}

// --- mutations ------------------------------------------------------------------------

struct Slot {
  OJson* parent;
  std::string key;  // objects
  std::size_t index = 0;  // arrays
};

void collect_slots(OJson& j, std::vector<Slot>& out) {
  if (j.is_object()) {
    for (auto& [k, v] : j.items()) {
      out.push_back({&j, k, 0});
      collect_slots(v, out);
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      out.push_back({&j, "", i});
      collect_slots(j[i], out);
    }
  }
}
OJson& slot_value(const Slot& s) { return s.parent->is_object() ? (*s.parent)[s.key] : (*s.parent)[s.index]; }

class Mutator {
 public:
  explicit Mutator(std::uint64_t seed) : rng_(seed) {}

  std::string mutant(const OJson& original) {
    OJson doc = original;
    deep_ = 0;
    int n = 1 + static_cast<int>(pick(3));
    for (int i = 0; i < n; ++i) mutate(doc);
    std::string text = pick(2) ? doc.dump() : doc.dump(2);
    if (deep_ > 0) {
      std::string deep = std::string(deep_, '[') + "0" + std::string(deep_, ']');
      auto at = text.find("\"__DEEP__\"");
      if (at != std::string::npos) text.replace(at, 10, deep);
    }
    if (pick(4) == 0) mutate_text(text);
    return text;
  }

 private:
  std::mt19937_64 rng_;
  std::size_t deep_ = 0;

  std::size_t pick(std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }

  OJson random_value() {
    switch (pick(16)) {
      case 0: return nullptr;
      case 1: return true;
      case 2: return 0;
      case 3: return -1;
      case 4: return 7;
      case 5: return 2.5;
      case 6: return "x";
      case 7: return "";
      case 8: return OJson::array();
      case 9: return OJson::object();
      case 10: return 1e300;
      case 11: return std::numeric_limits<std::uint64_t>::max();
      case 12: return std::int64_t{1} << 40;
      case 13: return "nan";
      case 14: return OJson::array({1, 2});
      default: return "relu";
    }
  }

  OJson changed_number(const OJson& v) {
    if (v.is_number_float()) {
      double d = v.get<double>();
      switch (pick(6)) {
        case 0: return d * 1.5;
        case 1: return -d;
        case 2: return "inf";
        case 3: return 0.0;
        case 4: return 1e-320;
        default: return std::nextafter(d, 1e308);
      }
    }
    std::int64_t i = v.is_number_unsigned() ? static_cast<std::int64_t>(v.get<std::uint64_t>()) : v.get<std::int64_t>();
    switch (pick(10)) {
      case 0: return i + 1;
      case 1: return i - 1;
      case 2: return -i;
      case 3: return 0;
      case 4: return -2;
      case 5: return std::int64_t{1} << 31;
      case 6: return (std::int64_t{1} << 31) + 1;
      case 7: return std::int64_t{1} << 53;
      case 8: return std::numeric_limits<std::int64_t>::min();
      default: return i * 65536;
    }
  }

  OJson& random_node(OJson& doc) { return doc["nodes"][pick(doc["nodes"].size())]; }
  std::string random_node_name(OJson& doc) {
    OJson& n = random_node(doc);
    return n.is_object() && n.contains("name") && n["name"].is_string() ? n["name"].get<std::string>() : "x";
  }
  bool has_nodes(const OJson& doc) { return doc.is_object() && doc.contains("nodes") && doc["nodes"].is_array() && !doc["nodes"].empty(); }

  void mutate(OJson& doc) {
    std::vector<Slot> slots;
    collect_slots(doc, slots);
    if (slots.empty()) return;
    const Slot& s = slots[pick(slots.size())];
    OJson& v = slot_value(s);
    bool nodes = has_nodes(doc);
    switch (pick(14)) {
      case 0:  // delete a key or element
        if (s.parent->is_object()) s.parent->erase(s.key);
        else s.parent->erase(s.index);
        break;
      case 1: v = random_value(); break;  // change a value's type
      case 2: {  // change a number
        std::vector<OJson*> numbers;
        for (const Slot& t : slots)
          if (slot_value(t).is_number()) numbers.push_back(&slot_value(t));
        if (!numbers.empty()) {
          OJson& n = *numbers[pick(numbers.size())];
          n = changed_number(n);
        }
        break;
      }
      case 3:  // swap ops
        if (nodes) {
          OJson& n = random_node(doc);
          if (n.is_object()) n["op"] = all_ops()[pick(all_ops().size())]->name;
        }
        break;
      case 4:  // change an input reference
        if (nodes) {
          OJson& n = random_node(doc);
          if (n.is_object() && n.contains("inputs") && n["inputs"].is_array() && !n["inputs"].empty()) {
            OJson& in = n["inputs"][pick(n["inputs"].size())];
            switch (pick(4)) {
              case 0: in = random_node_name(doc); break;  // often a later node: a forward (cyclic) reference
              case 1: in = "no such node"; break;
              case 2: in = n.contains("name") ? n["name"] : OJson("x"); break;
              default: in = static_cast<int>(pick(10)); break;
            }
          }
        }
        break;
      case 5:  // duplicate a node
        if (nodes) {
          OJson copy = random_node(doc);
          auto& arr = doc["nodes"];
          arr.insert(arr.begin() + static_cast<std::ptrdiff_t>(pick(arr.size() + 1)), copy);
        }
        break;
      case 6:  // swap two nodes (their order)
        if (nodes) {
          auto& arr = doc["nodes"];
          std::size_t a = pick(arr.size()), b = pick(arr.size());
          if (a != b) std::swap(arr[a], arr[b]);
        }
        break;
      case 7:  // rename a node
        if (nodes) {
          OJson& n = random_node(doc);
          if (n.is_object()) n["name"] = pick(2) ? random_node_name(doc) : std::string("renamed");
        }
        break;
      case 8:  // deep nesting (spliced into the text after dumping)
        if (deep_ == 0) {
          static const std::size_t depths[] = {63, 64, 65, 1000, 100000};
          deep_ = depths[pick(5)];
          v = "__DEEP__";
        }
        break;
      case 9:  // an unknown key
        if (v.is_object()) v["unexpected"] = 1;
        else if (s.parent->is_object()) (*s.parent)["unexpected"] = random_value();
        break;
      case 10:  // a huge or negative dimension
        if (nodes) {
          OJson& n = random_node(doc);
          OJson* shape = nullptr;
          if (n.is_object() && n.contains("shape")) shape = &n["shape"];
          if (pick(2) && n.is_object() && n.contains("attrs") && n["attrs"].is_object() && n["attrs"].contains("shape"))
            shape = &n["attrs"]["shape"];
          if (shape && shape->is_array()) {
            static const std::int64_t dims[] = {std::int64_t{1} << 40, std::int64_t{1} << 31, 65536, -2, -1, 0};
            if (!shape->empty() && pick(2)) (*shape)[pick(shape->size())] = dims[pick(6)];
            else shape->push_back(dims[pick(6)]);
          }
        }
        break;
      case 11:  // delete a node
        if (nodes) doc["nodes"].erase(pick(doc["nodes"].size()));
        break;
      case 12:  // change a string
        if (v.is_string()) v = pick(2) ? std::string("\xC3\xA9\n\"") : v.get<std::string>() + "_";
        else v = "str";
        break;
      default:  // change the format version or name
        if (doc.is_object()) doc[pick(2) ? "version" : "format"] = random_value();
        break;
    }
  }

  void mutate_text(std::string& text) {
    if (text.empty()) return;
    std::size_t at = pick(text.size());
    switch (pick(5)) {
      case 0: text.resize(at); break;  // truncate
      case 1: text[at] = static_cast<char>(pick(256)); break;
      case 2: text.insert(at, 1, "{}[],:\"0-e."[pick(11)]); break;
      case 3: text.erase(at, 1); break;
      default: {  // a duplicate key
        auto op = text.find("\"op\":", at);
        if (op != std::string::npos) text.insert(op, "\"op\": \"relu\", ");
        break;
      }
    }
  }
};

struct Tally {
  int valid = 0, invalid_path = 0, invalid_byte = 0;
  void add(Outcome o) { (o == Outcome::valid ? valid : o == Outcome::invalid_path ? invalid_path : invalid_byte)++; }
  int total() const { return valid + invalid_path + invalid_byte; }
};

std::size_t node_index(const OJson& doc, const std::string& op) {
  for (std::size_t i = 0; i < doc["nodes"].size(); ++i)
    if (doc["nodes"][i]["op"] == op) return i;
  FAIL("no node with op " << op);
  return 0;
}

struct ScratchDir {
  fs::path path;
  ScratchDir() {
    path = fs::temp_directory_path() /
           ("anneal-graph-json-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    fs::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

// --- round trips ------------------------------------------------------------------

TEST_CASE("graph json: save -> load -> save is byte-identical and the reloaded graph computes the same bits") {
  std::vector<Example> examples;
  examples.push_back(mlp_example());
  examples.push_back(vae_example());
  examples.push_back(rbm_example());
  examples.push_back(kitchen_sink_example());
  for (const Example& ex : examples) {
    CAPTURE(ex.label);
    std::string once = graph_to_json(*ex.graph);
    auto loaded = graph_from_json(once);
    std::string twice = graph_to_json(*loaded);
    CHECK(twice == once);
    CHECK(loaded->str() == ex.graph->str());
    CHECK(loaded->size() == ex.graph->size());
    CHECK(loaded->meta() == ex.graph->meta());
    REQUIRE(loaded->outputs().size() == ex.graph->outputs().size());
    for (std::size_t i = 0; i < loaded->outputs().size(); ++i) {
      CHECK(loaded->outputs()[i].first == ex.graph->outputs()[i].first);
      CHECK(loaded->outputs()[i].second.id == ex.graph->outputs()[i].second.id);
    }
    for (const auto& [name, vs] : ex.graph->collections()) {
      const auto& ws = loaded->collection(name);
      REQUIRE(ws.size() == vs.size());
      for (std::size_t i = 0; i < vs.size(); ++i) CHECK(ws[i].id == vs[i].id);
    }
    // Attributes, doubles included, come back bit for bit.
    for (std::size_t i = 0; i < ex.graph->size(); ++i) {
      const Node& a = ex.graph->node(static_cast<int>(i));
      const Node& b = loaded->node(static_cast<int>(i));
      CHECK(a.name == b.name);
      CHECK(a.op == b.op);
      CHECK(a.type.shape == b.type.shape);
      REQUIRE(a.attrs.values().size() == b.attrs.values().size());
      for (const auto& [k, v] : a.attrs.values()) {
        const AttrValue& w = b.attrs.values().at(k);
        if (v.index() == 4) {
          const auto &x = std::get<4>(v), &y = std::get<4>(w);
          REQUIRE(x.size() == y.size());
          for (std::size_t j = 0; j < x.size(); ++j)
            CHECK((std::isnan(x[j]) ? std::isnan(y[j]) : std::memcmp(&x[j], &y[j], sizeof(double)) == 0));
        } else if (v.index() == 1) {
          double x = std::get<1>(v), y = std::get<1>(w);
          CHECK(std::memcmp(&x, &y, sizeof x) == 0);
        } else {
          CHECK(v == w);
        }
      }
    }
    check_same_computation(ex, *loaded);
    // Optimizers come back from the graph alone.
    CHECK(Optimizer::names_in(*loaded) == Optimizer::names_in(*ex.graph));
  }
}

TEST_CASE("graph json: doubles round-trip exactly - including awkward ones") {
  std::mt19937_64 rng(99);
  std::vector<double> v = {0.1, 0.2, 0.30000000000000004, 1e-8, 1e-7, 2.5e-7, 1e21, 1e22, 1e300, -1e-300, 5e-324,
                           2.2250738585072014e-308, 1.7976931348623157e308, -0.0, 123456789012345678.0, 1.0 / 3};
  for (int i = 0; i < 20000; ++i) {
    std::uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (std::isfinite(d)) v.push_back(d);
  }
  Graph g("doubles");
  g.add(constant_op(), {}, Attrs{{"shape", Dims{static_cast<std::int64_t>(v.size())}}, {"value", v}}, "c");
  g.param("p", {2}, Init::uniform(0.1, 1e-8));
  std::string once = graph_to_json(g);
  auto loaded = graph_from_json(once);
  const auto& w = loaded->node(0).attrs.floats("value");
  REQUIRE(w.size() == v.size());
  CHECK(std::memcmp(w.data(), v.data(), v.size() * sizeof(double)) == 0);
  CHECK(graph_to_json(*loaded) == once);
  // The shortest form that reads back exactly, not 17 digits.
  CHECK(once.find("[0.1, 0.2, 0.30000000000000004, 1e-08, 1e-07, 2.5e-07, 1e+21, 1e+22, 1e+300, -1e-300, 5e-324, "
                  "2.2250738585072014e-308, 1.7976931348623157e+308, -0.0, 1.2345678901234568e+17, "
                  "0.3333333333333333, ") != std::string::npos);
}

TEST_CASE("graph json: the document layout") {
  auto g = tiny_graph();
  std::string text = graph_to_json(*g);
  CHECK(text.rfind("{\n  \"format\": \"anneal.graph\",\n  \"version\": 1,\n  \"name\": \"tiny\",\n  \"nodes\": [\n", 0) == 0);
  CHECK(text.find("\n    {\"name\": \"x\", \"op\": \"input\", \"inputs\": [], \"shape\": [-1, 3], \"dtype\": \"f32\", "
                  "\"attrs\": {\"dtype\": \"f32\", \"shape\": [-1, 3]}},\n") != std::string::npos);
  CHECK(text.find("\n  \"outputs\": {\n    \"loss\": ") != std::string::npos);
  CHECK(text.find("\n  \"meta\": {\n    \"note\": \"tiny\"\n  }\n}\n") != std::string::npos);
  Graph empty("");
  CHECK(graph_to_json(empty) ==
        "{\n  \"format\": \"anneal.graph\",\n  \"version\": 1,\n  \"name\": \"\",\n  \"nodes\": [],\n  \"outputs\": {},\n"
        "  \"collections\": {},\n  \"meta\": {}\n}\n");
  CHECK(graph_from_json(graph_to_json(empty))->size() == 0);
}

TEST_CASE("graph json: save_graph writes atomically and load_graph names the file") {
  ScratchDir dir;
  auto g = tiny_graph();
  std::string path = (dir.path / "graph.json").string();
  save_graph(*g, path);
  save_graph(*g, path);  // replaces
  CHECK(slurp(path) == graph_to_json(*g));
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) files += e.is_regular_file();
  CHECK(files == 1);  // no temporary left behind
  CHECK(graph_to_json(*load_graph(path)) == graph_to_json(*g));

  write_file_atomic(path, "{\"format\": \"anneal.graph\", \"version\": 3}");
  try {
    load_graph(path);
    FAIL("expected InvalidInput");
  } catch (const InvalidInput& e) {
    CHECK(std::string(e.what()) == path + ": version: unsupported format version 3 (this build reads version 1)");
  }
  CHECK_THROWS_AS(load_graph((dir.path / "missing.json").string()), InvalidInput);
  CHECK_THROWS_AS(write_file_atomic((dir.path / "no/such/dir/x").string(), "x"), RunError);
  Graph bad("bad \xFF name");
  CHECK_THROWS_AS(graph_to_json(bad), InvalidInput);
}

// --- errors name the JSON path ----------------------------------------------------------

TEST_CASE("graph json: each defect names its JSON path and what was expected") {
  const std::string canonical = graph_to_json(*tiny_graph());
  REQUIRE(error_of(canonical).empty());
  const OJson doc = OJson::parse(canonical);
  const std::size_t input = node_index(doc, "input"), matmul = node_index(doc, "matmul"),
                    slice = node_index(doc, "slice"), param = node_index(doc, "param"), add = node_index(doc, "add"),
                    assign = node_index(doc, "assign");
  auto N = [](std::size_t i) { return "nodes[" + std::to_string(i) + "]"; };

  struct Case {
    std::string text, prefix, contains;
  };
  auto edit = [&](auto f) {
    OJson d = doc;
    f(d);
    return d.dump(1);
  };
  std::vector<Case> cases = {
      {edit([&](OJson& d) { d["nodes"][matmul]["op"] = "matmull"; }), N(matmul) + ".op: ", "unknown op \"matmull\""},
      {edit([&](OJson& d) { d["version"] = 2; }), "version: ", "unsupported format version 2"},
      {edit([&](OJson& d) { d["version"] = "1"; }), "version: ", "expected a format version"},
      {edit([&](OJson& d) { d["format"] = "onnx"; }), "format: ", "expected \"anneal.graph\""},
      {edit([&](OJson& d) { d.erase("format"); }), "$: ", "missing field \"format\""},
      {edit([&](OJson& d) { d["extra"] = 1; }), "extra: ", "unknown field"},
      {edit([&](OJson& d) { d["nodes"][add]["color"] = "red"; }), N(add) + ".color: ", "unknown field"},
      {edit([&](OJson& d) { d["nodes"][add].erase("inputs"); }), N(add) + ": ", "missing field \"inputs\""},
      {edit([&](OJson& d) { d.erase("meta"); }), "$: ", "missing field \"meta\""},
      {edit([&](OJson& d) { d["nodes"][slice]["attrs"]["axis"] = "1"; }), N(slice) + ".attrs.axis: ",
       "expected an integer, got string \"1\""},
      {edit([&](OJson& d) { d["nodes"][slice]["attrs"]["axis"] = 1.0; }), N(slice) + ".attrs.axis: ",
       "expected an integer, got 1.0"},
      {edit([&](OJson& d) { d["nodes"][slice]["attrs"]["axis"] = true; }), N(slice) + ".attrs.axis: ",
       "expected an integer, got true"},
      {edit([&](OJson& d) { d["nodes"][slice]["attrs"]["axis"] = std::int64_t{1} << 60; }),
       N(slice) + ".attrs.axis: ", "expected an integer in ["},
      {edit([&](OJson& d) { d["nodes"][slice]["attrs"]["axis"] = 5; }), N(slice) + ": ", "axis 5 is out of range"},
      {edit([&](OJson& d) { d["nodes"][slice]["attrs"].erase("axis"); }), N(slice) + ".attrs: ",
       "missing attribute \"axis\" (integer) of op \"slice\""},
      {edit([&](OJson& d) { d["nodes"][slice]["attrs"]["axes"] = OJson::array(); }), N(slice) + ".attrs.axes: ",
       "unknown attribute of op \"slice\" (expected axis, begin, end)"},
      {edit([&](OJson& d) { d["nodes"][slice]["attrs"] = OJson::array(); }), N(slice) + ".attrs: ",
       "expected the op's attributes (a JSON object), got an array"},
      {edit([&](OJson& d) { d["nodes"][input]["shape"][1] = -2; }), N(input) + ".shape[1]: ",
       "expected a dimension (>= 0, or -1 for the batch) in [-1, 2147483648], got -2"},
      {edit([&](OJson& d) { d["nodes"][input]["attrs"]["shape"][1] = std::int64_t{1} << 40; }),
       N(input) + ".attrs.shape[1]: ", "got 1099511627776"},
      {edit([&](OJson& d) { d["nodes"][param]["attrs"]["shape"] = OJson::array({65536, 32768, 2}); }),
       N(param) + ".attrs.shape[2]: ", "more than 2^31 elements"},
      {edit([&](OJson& d) { d["nodes"][input]["shape"] = OJson::array({-1, 4}); }), N(input) + ".shape: ",
       "the file says [B, 4] but node 'x' (op input) computes [B, 3]"},
      {edit([&](OJson& d) { d["nodes"][input]["dtype"] = "i32"; }), N(input) + ".dtype: ",
       "the file says i32 but node 'x' (op input) computes f32"},
      {edit([&](OJson& d) { d["nodes"][input]["dtype"] = "f64"; }), N(input) + ".dtype: ", "expected a dtype"},
      {edit([&](OJson& d) { d["nodes"][matmul]["inputs"][1] = "nowhere"; }), N(matmul) + ".inputs[1]: ",
       "no node is named \"nowhere\""},
      {edit([&](OJson& d) { d["nodes"][matmul]["inputs"][1] = d["nodes"][slice]["name"]; }),
       N(matmul) + ".inputs[1]: ", "is defined later, at " + N(slice)},
      {edit([&](OJson& d) { d["nodes"][matmul]["inputs"][1] = d["nodes"][matmul]["name"]; }),
       N(matmul) + ".inputs[1]: ", "cannot be its own input"},
      {edit([&](OJson& d) { d["nodes"][matmul]["inputs"][1] = 1; }), N(matmul) + ".inputs[1]: ",
       "expected the name of an earlier node, got 1"},
      {edit([&](OJson& d) { d["nodes"][matmul]["inputs"].erase(1); }), N(matmul) + ".inputs: ",
       "op \"matmul\" takes 2 inputs, got 1"},
      {edit([&](OJson& d) { std::swap(d["nodes"][matmul]["inputs"][0], d["nodes"][matmul]["inputs"][1]); }),
       N(matmul) + ": ", "(op matmul; inputs [3, 2] f32, [B, 3] f32): inner dimensions differ"},
      {edit([&](OJson& d) { d["nodes"][add]["name"] = d["nodes"][input]["name"]; }), N(add) + ".name: ",
       "duplicate node name \"x\" (also nodes[" + std::to_string(input) + "])"},
      {edit([&](OJson& d) { d["nodes"][add]["name"] = ""; }), N(add) + ".name: ", "expected a non-empty node name"},
      {edit([&](OJson& d) { d["nodes"][param]["attrs"]["init_args"] = OJson::array({"nan"}); }), N(param) + ": ",
       "init_args must be finite"},
      {edit([&](OJson& d) { d["nodes"][param]["attrs"]["init"] = "xavier"; }), N(param) + ": ",
       "unknown initializer 'xavier'"},
      {edit([&](OJson& d) { d["nodes"][param]["attrs"]["init_args"] = OJson::array({"NaN"}); }),
       N(param) + ".attrs.init_args[0]: ", "expected a number (or \"inf\", \"-inf\", \"nan\"), got string \"NaN\""},
      {edit([&](OJson& d) { d["nodes"][assign]["inputs"][0] = d["nodes"][input]["name"]; }), N(assign) + ": ",
       "is not a param or state"},
      {edit([&](OJson& d) { d["outputs"]["loss"] = "gone"; }), "outputs.loss: ", "no node is named \"gone\""},
      {edit([&](OJson& d) { d["outputs"] = OJson::array(); }), "outputs: ", "expected the named outputs"},
      {edit([&](OJson& d) { d["collections"]["updates"][0] = "gone"; }), "collections.updates[0]: ", "no node"},
      {edit([&](OJson& d) { d["collections"]["a.b"] = "x"; }), "collections[\"a.b\"]: ", "expected an array"},
      {edit([&](OJson& d) { d["meta"]["note"] = 3; }), "meta.note: ", "expected a string, got 3"},
      {edit([&](OJson& d) { d["nodes"] = OJson::object(); }), "nodes: ", "expected the graph's nodes (a JSON array)"},
      {edit([&](OJson& d) { d["nodes"][add] = 5; }), N(add) + ": ", "expected a node (a JSON object), got 5"},
      {"[1, 2]", "$: ", "expected an Anneal graph document (a JSON object), got an array"},
      {"", "byte 0: ", "parse error"},
      {canonical.substr(0, 100), "byte 100: ", "unexpected end of input"},
      {"{\"format\": NaN}", "byte 11: ", "syntax error"},
      {"{\"format\": \"anneal.graph\", \"version\": 1e999}", "byte ", "number overflow"},
      {"{\"format\": \"anneal.graph\", \"version\": 99999999999999999999}", "version: ", "expected a format version"},
      {"{\"format\": \"anneal.graph\", \"format\": \"x\"}", "format: ", "duplicate key"},
      {edit([&](OJson& d) { d["meta"]["deep"] = "__DEEP__"; }), "byte ", "nest deeper than 64 levels (at meta.deep[0][0]"},
  };
  // The deep-nesting case: 100000 levels, spliced in as text.
  std::string& deep = cases.back().text;
  deep.replace(deep.find("\"__DEEP__\""), 10, std::string(100000, '[') + std::string(100000, ']'));
  // A duplicate key inside a node, written as text.
  std::string dup = canonical;
  dup.replace(dup.find("\"op\": \"slice\""), 0, "\"op\": \"relu\", ");
  cases.push_back({dup, N(slice) + ".op: ", "duplicate key"});

  for (const Case& c : cases) {
    std::string e = error_of(c.text);
    CAPTURE(e);
    CHECK(e.rfind(c.prefix, 0) == 0);
    CHECK(e.find(c.contains) != std::string::npos);
    CHECK(e.find('\n') == std::string::npos);
  }
  // Integers are fine where a number is expected; "inf" where the op allows it.
  CHECK(error_of(edit([&](OJson& d) { d["nodes"][param]["attrs"]["init_args"] = OJson::array(); })).empty());
  CHECK(error_of(edit([&](OJson& d) {
          d["nodes"][param]["attrs"]["init"] = "constant";
          d["nodes"][param]["attrs"]["init_args"] = OJson::array({2});
        })).empty());
  // Attributes with defaults may be left out; the saved form spells them out.
  auto defaults = graph_from_json(edit([&](OJson& d) { d["nodes"][matmul]["attrs"] = OJson::object(); }));
  CHECK(defaults->node(static_cast<int>(matmul)).attrs.i("trans_b") == 0);
  CHECK(graph_to_json(*defaults) == canonical);
}

TEST_CASE("graph json: huge dimensions from an op are refused - never allocated") {
  Graph g("g");
  Value labels = g.input("labels", {Dim::batch()}, DType::i32);
  one_hot(labels, 3);
  OJson doc = OJson::parse(graph_to_json(g));
  doc["nodes"][1]["attrs"]["depth"] = std::int64_t{1} << 52;
  std::string e = error_of(doc.dump());
  CHECK(e.rfind("nodes[1]: ", 0) == 0);
  CHECK(e.find("more than 2^31 elements") != std::string::npos);
}

// --- the mutation test --------------------------------------------------------------------

TEST_CASE("graph json: thousands of mutants load or fail cleanly with a path that exists") {
  auto start = std::chrono::steady_clock::now();
  std::vector<Example> examples;
  examples.push_back(mlp_example());
  examples.push_back(vae_example());
  examples.push_back(rbm_example());
  const int kMutants = 1000;
  std::vector<std::string> sample;  // a few for the executable below
  for (const Example& ex : examples) {
    const OJson original = OJson::parse(graph_to_json(*ex.graph));
    Tally tally;
    for (int i = 0; i < kMutants; ++i) {
      Mutator m(static_cast<std::uint64_t>(i) * 7919 + ex.label.size());
      std::string text = m.mutant(original);
      tally.add(check_loader_on(text, ex.label + " mutant " + std::to_string(i)));
      if (i < 17) sample.push_back(std::move(text));
    }
    MESSAGE(ex.label << ": " << tally.total() << " mutants: " << tally.valid << " still valid, " << tally.invalid_path
                     << " rejected naming a JSON path, " << tally.invalid_byte << " rejected naming a byte offset");
    CHECK(tally.total() == kMutants);
    CHECK(tally.invalid_path > kMutants / 2);
  }

  // Every truncation of a small graph.
  const std::string tiny = graph_to_json(*tiny_graph());
  Tally cut;
  for (std::size_t n = 0; n < tiny.size(); ++n) cut.add(check_loader_on(tiny.substr(0, n), "truncated to " + std::to_string(n)));
  MESSAGE("tiny graph: " << cut.total() << " truncations: " << cut.valid << " still valid, " << cut.invalid_byte
                         << " rejected naming a byte offset");
  CHECK(cut.valid == 1);  // only dropping the final newline leaves valid JSON

  // A sample through the executable: exit 0 or 2 (one line on stderr naming
  // the file), never a crash or a hang, and the same verdict as in-process.
  ScratchDir dir;
  sample.push_back("{\"format\": \"anneal.graph\", \"meta\": " + std::string(100000, '[') + std::string(100000, ']') + "}");
  int exit0 = 0, exit2 = 0;
  for (std::size_t i = 0; i < sample.size(); ++i) {
    fs::path file = dir.path / ("mutant-" + std::to_string(i) + ".json");
    fs::path err = dir.path / ("mutant-" + std::to_string(i) + ".err");
    write_file_atomic(file.string(), sample[i]);
    std::string cmd = "timeout 20 '" + std::string(ANNEAL_GRAPH_CHECK) + "' '" + file.string() + "' 2> '" + err.string() + "'";
    int status = std::system(cmd.c_str());
    REQUIRE(WIFEXITED(status));
    int code = WEXITSTATUS(status);
    CAPTURE(i);
    CAPTURE(code);
    std::string stderr_text = slurp(err);
    CAPTURE(stderr_text);
    bool ok_in_process = error_of(sample[i]).empty();
    if (ok_in_process) {
      CHECK(code == 0);
      CHECK(stderr_text.empty());
      ++exit0;
    } else {
      CHECK(code == 2);
      CHECK(stderr_text.rfind(file.string() + ": ", 0) == 0);
      CHECK(std::count(stderr_text.begin(), stderr_text.end(), '\n') == 1);
      ++exit2;
    }
  }
  MESSAGE("anneal-graph-check: " << sample.size() << " files: " << exit0 << " exit 0, " << exit2 << " exit 2");
  int usage = std::system(("'" + std::string(ANNEAL_GRAPH_CHECK) + "' 2>/dev/null").c_str());
  CHECK((WIFEXITED(usage) && WEXITSTATUS(usage) == 2));  // bad usage
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE("mutation test took " << seconds << " s");
}

// --- the fuzz corpus, replayed in every build ---------------------------------------------

TEST_CASE("graph json: the fuzz corpus replays cleanly") {
  fs::path corpus = fs::path(ANNEAL_SOURCE_DIR) / "tests" / "fuzz" / "corpus";
  int files = 0, valid = 0;
  for (const auto& e : fs::directory_iterator(corpus)) {
    if (!e.is_regular_file()) continue;
    ++files;
    std::string text = slurp(e.path());
    CAPTURE(e.path().string());
    if (check_loader_on(text, e.path().string()) == Outcome::valid) ++valid;
    // Files named valid-*.json are saved graphs: they load and are canonical.
    if (e.path().filename().string().rfind("valid-", 0) == 0) CHECK(graph_to_json(*graph_from_json(text)) == text);
  }
  CHECK(files >= 4);
  CHECK(valid >= 3);
}

// Regenerates tests/fuzz/corpus/ (run with --no-skip after a format change):
// small saved graphs that reach every op, plus a few broken documents.
TEST_CASE("graph json: write the fuzz seed corpus" * doctest::skip()) {
  fs::path corpus = fs::path(ANNEAL_SOURCE_DIR) / "tests" / "fuzz" / "corpus";
  fs::create_directories(corpus);
  auto put = [&](const std::string& name, const std::string& text) { write_file_atomic((corpus / name).string(), text); };
  const std::string tiny = graph_to_json(*tiny_graph());
  put("valid-tiny.json", tiny);
  put("valid-rbm-cd1.json", graph_to_json(*rbm_example().graph));
  put("valid-kitchen-sink.json", graph_to_json(*kitchen_sink_example().graph));
  put("invalid-truncated.json", tiny.substr(0, tiny.size() / 2));
  put("invalid-version.json", "{\"format\": \"anneal.graph\", \"version\": 2}\n");
  put("invalid-deep.json", "{\"format\": \"anneal.graph\", \"version\": 1, \"meta\": " + std::string(100, '[') +
                               std::string(100, ']') + "}\n");
  std::string forward = tiny;
  forward.replace(forward.find("\"inputs\": [\"x\", \"W\"]"), 20, "\"inputs\": [\"x\", \"step\"]");
  put("invalid-forward-reference.json", forward);
}
