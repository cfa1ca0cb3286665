#include "runtime/analysis.hpp"

#include <algorithm>
#include <unordered_map>

#include "graph/shape_rules.hpp"

namespace anneal {
namespace {

bool cse_able(const Node& n) {
  return !n.op->stochastic && (n.op->role == OpRole::compute || n.op->role == OpRole::constant);
}

}  // namespace

Analysis analyze(const Graph& g, const std::vector<int>& roots_fetch, const std::vector<int>& roots_target,
                 std::int64_t batch, bool cse) {
  const std::size_t n = g.size();
  Analysis a{g, batch, std::vector<int>(n, -1), std::vector<char>(n, 0), std::vector<char>(n, 0), {}};
  std::vector<char> reach(n, 0);
  for (int r : roots_fetch) reach[static_cast<std::size_t>(r)] = 1;
  for (int r : roots_target) reach[static_cast<std::size_t>(r)] = 1;
  for (std::size_t i = n; i-- > 0;)
    if (reach[i])
      for (const Value& v : g.node(static_cast<int>(i)).inputs) reach[static_cast<std::size_t>(v.id)] = 1;

  // Hash-consing in topological order: a node equal to an earlier one in
  // op, canonical inputs and attributes is replaced by it.
  std::unordered_multimap<std::size_t, int> seen;
  for (std::size_t i = 0; i < n; ++i) {
    if (!reach[i]) continue;
    const Node& nd = g.node(static_cast<int>(i));
    a.canon[i] = static_cast<int>(i);
    // stop_gradient only matters to autodiff: running, it is its input.
    if (is_op(nd, "stop_gradient")) {
      a.canon[i] = a.canon[static_cast<std::size_t>(nd.inputs[0].id)];
      continue;
    }
    if (!cse || !cse_able(nd)) continue;
    std::size_t h = std::hash<const void*>()(nd.op);
    for (const Value& v : nd.inputs) h = h * 1000003u ^ static_cast<std::size_t>(a.canon[static_cast<std::size_t>(v.id)]);
    bool found = false;
    auto range = seen.equal_range(h);
    for (auto it = range.first; it != range.second && !found; ++it) {
      const Node& o = g.node(it->second);
      if (o.op != nd.op || o.attrs != nd.attrs || o.type.shape != nd.type.shape || o.type.dtype != nd.type.dtype ||
          o.inputs.size() != nd.inputs.size())
        continue;
      bool same = true;
      for (std::size_t k = 0; k < nd.inputs.size() && same; ++k)
        same = a.canon[static_cast<std::size_t>(o.inputs[k].id)] == a.canon[static_cast<std::size_t>(nd.inputs[k].id)];
      if (same) a.canon[i] = it->second, found = true;
    }
    if (found) ++a.merged;
    else seen.emplace(h, static_cast<int>(i));
  }

  a.consumers.assign(n, {});
  std::vector<int> stack;
  for (int r : roots_fetch) a.fetched[static_cast<std::size_t>(a.canon[static_cast<std::size_t>(r)])] = 1;
  for (const auto* roots : {&roots_fetch, &roots_target})
    for (int r : *roots) a.needed[static_cast<std::size_t>(a.canon[static_cast<std::size_t>(r)])] = 1;
  for (std::size_t i = n; i-- > 0;) {
    if (!a.needed[i]) continue;
    for (std::size_t k = 0; k < g.node(static_cast<int>(i)).inputs.size(); ++k) {
      if (a.shape_only(static_cast<int>(i), k)) continue;
      int p = a.in(static_cast<int>(i), k);
      a.needed[static_cast<std::size_t>(p)] = 1;
      auto& cs = a.consumers[static_cast<std::size_t>(p)];
      if (std::find(cs.begin(), cs.end(), static_cast<int>(i)) == cs.end()) cs.push_back(static_cast<int>(i));
    }
  }
  // A shape-only input computed anyway (needed elsewhere) keeps its edge: the
  // reader is ordered after it, as if it read the data.
  for (std::size_t i = 0; i < n; ++i) {
    if (!a.needed[i]) continue;
    for (std::size_t k = 0; k < g.node(static_cast<int>(i)).inputs.size(); ++k) {
      if (!a.shape_only(static_cast<int>(i), k) || !a.computed_shape_input(static_cast<int>(i), k)) continue;
      auto& cs = a.consumers[static_cast<std::size_t>(a.in(static_cast<int>(i), k))];
      if (std::find(cs.begin(), cs.end(), static_cast<int>(i)) == cs.end()) cs.push_back(static_cast<int>(i));
    }
  }
  return a;
}

}  // namespace anneal
