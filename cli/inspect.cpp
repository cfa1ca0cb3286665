// anneal inspect FILE.json|DIR [--dot]
// A summary of a graph (nodes by op, inputs, outputs, parameters, state,
// optimizers, memory), and of a run directory's training state; --dot
// prints the graph for Graphviz instead.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include "backend/error.hpp"
#include "backend/threads.hpp"
#include "cli/commands.hpp"
#include "cli/run_dir.hpp"
#include "io/atomic_file.hpp"
#include "io/graph_json.hpp"
#include "models/optim.hpp"
#include "runtime/program.hpp"

namespace anneal::cli {

namespace fs = std::filesystem;

namespace {

std::string bytes_str(double b) {
  char buf[32];
  if (b >= 1024.0 * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1024.0 * 1024 * 1024));
  else if (b >= 1024.0 * 1024) std::snprintf(buf, sizeof buf, "%.2f MiB", b / (1024.0 * 1024));
  else if (b >= 1024.0) std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  else std::snprintf(buf, sizeof buf, "%.0f B", b);
  return buf;
}

// 1234567 -> "1,234,567"
std::string count_str(std::int64_t n) {
  std::string s = std::to_string(n), out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0 && s[i - 1] != '-') out += ',';
    out += s[i];
  }
  return out;
}

std::int64_t fixed_numel(const Dims& d) {
  std::int64_t n = 1;
  for (auto x : d) n *= x < 0 ? 1 : x;
  return n;
}

std::string type_str(const Value& v) { return std::string(dtype_name(v.dtype())) + " " + dims_str(v.shape()); }

std::string init_str(const Node& n) {
  if (!n.attrs.has("init")) return "";
  std::string s = n.attrs.s("init");
  if (n.attrs.has("init_args") && !n.attrs.floats("init_args").empty()) {
    s += "(";
    const auto& a = n.attrs.floats("init_args");
    for (std::size_t i = 0; i < a.size(); ++i) s += (i ? ", " : "") + Json(a[i]).dump();
    s += ")";
  }
  return s;
}

std::string dot_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    out += ch;
  }
  return out;
}

void print_dot(const Graph& g) {
  std::ostringstream o;
  o << "digraph \"" << dot_escape(g.name()) << "\" {\n"
    << "  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\", "
       "fontsize=10];\n  edge [color=\"#666666\", arrowsize=0.6];\n";
  for (std::size_t i = 0; i < g.size(); ++i) {
    const Node& n = g.node(static_cast<int>(i));
    const std::string& op = n.op->name;
    std::string style;
    if (op == "input") style = ", shape=ellipse, fillcolor=\"#dbeafe\"";
    else if (op == "param") style = ", shape=box, style=filled, fillcolor=\"#fde68a\"";
    else if (op == "state") style = ", shape=box, style=filled, fillcolor=\"#e5e7eb\"";
    else if (op == "constant") style = ", shape=plaintext, fillcolor=none";
    else if (op == "assign") style = ", fillcolor=\"#fecaca\"";
    else if (n.name.rfind("grad(", 0) == 0) style = ", fillcolor=\"#f3f4f6\", fontcolor=\"#4b5563\"";
    o << "  n" << n.id << " [label=\"" << dot_escape(n.name) << "\\n" << op << " "
      << dims_str(n.type.shape) << "\"" << style << "];\n";
  }
  for (std::size_t i = 0; i < g.size(); ++i) {
    const Node& n = g.node(static_cast<int>(i));
    for (const Value& in : n.inputs) o << "  n" << in.id << " -> n" << n.id << ";\n";
  }
  for (const auto& [name, v] : g.outputs()) {
    o << "  \"out:" << dot_escape(name) << "\" [label=\"" << dot_escape(name)
      << "\", shape=doubleoctagon, style=filled, fillcolor=\"#bbf7d0\"];\n";
    o << "  n" << v.id << " -> \"out:" << dot_escape(name) << "\";\n";
  }
  o << "}\n";
  std::cout << o.str();
}

// The planned peak of intermediate values of a compiled program ("" if it
// cannot be compiled, e.g. an op without a fast kernel).
std::string planned(const Graph& g, const std::vector<Value>& fetches, const std::vector<Value>& targets,
                    std::int64_t batch) {
  try {
    auto p = Program::compile(g, fetches, targets, batch, num_threads(), CompileOptions{});
    const ProgramStats& s = p->stats();
    return bytes_str(static_cast<double>(s.arena_bytes)) + " (" + bytes_str(static_cast<double>(s.unplanned_bytes)) +
           " without buffer reuse; " + std::to_string(s.steps) + " steps, " + std::to_string(s.fused_matmuls) +
           " fused matmuls)";
  } catch (const Error& e) {
    return std::string("n/a (") + e.what() + ")";
  }
}

void print_summary(const Graph& g, std::int64_t batch) {
  std::ostringstream o;
  std::map<std::string, int> ops;
  int grads = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const Node& n = g.node(static_cast<int>(i));
    ++ops[n.op->name];
    grads += n.name.rfind("grad(", 0) == 0;
  }
  o << "graph '" << g.name() << "': " << g.size() << " nodes (" << grads << " gradient nodes)\n";
  std::vector<std::pair<std::string, int>> by_count(ops.begin(), ops.end());
  std::stable_sort(by_count.begin(), by_count.end(), [](auto& a, auto& b) { return a.second > b.second; });
  o << "  ops:";
  for (std::size_t k = 0; k < by_count.size(); ++k)
    o << (k ? ", " : " ") << by_count[k].first << " " << by_count[k].second;
  o << "\n";

  std::size_t width = 8;
  for (Value v : g.params()) width = std::max(width, v.name().size());
  for (Value v : g.inputs()) width = std::max(width, v.name().size());
  for (const auto& [name, v] : g.outputs()) width = std::max(width, name.size());
  auto pad = [&](const std::string& s) { return s + std::string(width + 2 - std::min(width, s.size()), ' '); };

  o << "inputs:\n";
  for (Value v : g.inputs()) o << "  " << pad(v.name()) << type_str(v) << "\n";
  o << "outputs:\n";
  for (const auto& [name, v] : g.outputs())
    o << "  " << pad(name) << type_str(v) << (name != v.name() ? "  (node " + v.name() + ")" : "") << "\n";

  std::int64_t pn = 0;
  double pbytes = 0;
  for (Value v : g.params()) {
    pn += fixed_numel(v.shape());
    pbytes += static_cast<double>(fixed_numel(v.shape()) * static_cast<std::int64_t>(dtype_size(v.dtype())));
  }
  o << "parameters: " << g.params().size() << " tensors, " << count_str(pn) << " values, " << bytes_str(pbytes) << "\n";
  for (Value v : g.params())
    o << "  " << pad(v.name()) << type_str(v) << "  " << count_str(fixed_numel(v.shape())) << "  "
      << init_str(v.node()) << "\n";
  std::int64_t sn = 0;
  double sbytes = 0;
  for (Value v : g.states()) {
    sn += fixed_numel(v.shape());
    sbytes += static_cast<double>(fixed_numel(v.shape()) * static_cast<std::int64_t>(dtype_size(v.dtype())));
  }
  o << "state: " << g.states().size() << " tensors, " << count_str(sn) << " values, " << bytes_str(sbytes) << "\n";

  std::vector<Value> updates;
  const auto optimizers = Optimizer::names_in(g);
  if (!optimizers.empty()) {
    o << "optimizers:\n";
    for (const auto& name : optimizers) {
      Optimizer opt = Optimizer::from_graph(g, name);
      auto params = g.collection("optimizer." + name + ".params");
      o << "  " << name << " (" << g.meta().at("optimizer." + name + ".kind") << "): " << params.size()
        << " parameters; hyper-parameters";
      for (const auto& [h, v] : opt.hyper()) o << " " << h << "=" << init_str(v.node());
      o << "\n";
      updates.insert(updates.end(), opt.updates().begin(), opt.updates().end());
    }
  }
  std::vector<std::string> other;
  for (const auto& [name, values] : g.collections())
    if (name.rfind("optimizer.", 0) != 0) other.push_back(name + " (" + std::to_string(values.size()) + ")");
  if (!other.empty()) {
    o << "collections:";
    for (const auto& s : other) o << " " << s;
    o << "\n";
  }

  o << "memory (batch " << batch << ", " << num_threads() << " threads):\n";
  o << "  parameters + state  " << bytes_str(pbytes + sbytes) << "\n";
  std::vector<Value> outs;
  for (const auto& [name, v] : g.outputs()) outs.push_back(v);
  if (!outs.empty()) o << "  forward pass        " << planned(g, outs, {}, batch) << "\n";
  Value loss;
  for (const auto& [name, v] : g.outputs())
    if (name == "loss") loss = v;
  if (loss.valid() && !updates.empty()) o << "  training step       " << planned(g, {loss}, updates, batch) << "\n";
  std::cout << o.str();
}

}  // namespace

int run_inspect(const InspectArgs& a) {
  std::error_code ec;
  const bool is_dir = fs::is_directory(a.path, ec);
  std::unique_ptr<Graph> g;
  std::optional<Config> config;
  if (is_dir) {
    const std::string cf = in_dir(a.path, kConfigFile);
    if (fs::exists(cf, ec)) config = load_config(cf, /*check_files=*/false);
    g = load_graph(in_dir(a.path, kGraphFile));
  } else {
    g = load_graph(a.path);
  }
  if (a.dot) {
    print_dot(*g);
    return 0;
  }
  print_summary(*g, config ? config->train.batch_size : 100);
  if (is_dir) {
    const std::string weights = in_dir(a.path, kCheckpointFile);
    std::cout << "run " << a.path << ":\n";
    if (config) {
      std::cout << "  model        " << (config->graph_file.empty() ? "kind " + config->kind->name()
                                                                     : "graph " + config->graph_file)
                << "\n";
      if (config->provenance.is_object())
        std::cout << "  trained by   anneal " << config->provenance.value("anneal_version", "?") << " ("
                  << config->provenance.value("git_revision", "?") << "), "
                  << config->provenance.value("threads", 0) << " threads, " << config->provenance.value("cpu_isa", "?")
                  << "\n";
    }
    if (fs::exists(weights, ec)) {
      CheckpointInfo info = read_checkpoint_info(weights);
      auto get = [&](const char* k) { return info.extra.count(k) ? info.extra.at(k) : std::string("?"); };
      const std::string of = config ? "/" + std::to_string(config->train.epochs) : "";
      std::cout << "  checkpoint   "
                << (get("batch") == "0" ? "after epoch " + get("epoch") + of
                                        : "in epoch " + std::to_string(std::atoi(get("epoch").c_str()) + 1) + of +
                                              ", after batch " + get("batch"))
                << ", step " << info.step
                << ", seed " << info.seed << ", " << bytes_str(static_cast<double>(fs::file_size(weights, ec)))
                << "\n";
    } else {
      std::cout << "  checkpoint   none\n";
    }
    const std::string metrics = in_dir(a.path, kMetricsFile);
    if (fs::exists(metrics, ec)) {
      std::string last;
      std::istringstream in(read_file(metrics));
      for (std::string line; std::getline(in, line);)
        if (!line.empty()) last = line;
      if (!last.empty()) std::cout << "  last epoch   " << last << "\n";
    }
  }
  return 0;
}

}  // namespace anneal::cli
