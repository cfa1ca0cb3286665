// Internal to Program::compile: the graph as a set of requests sees it, and
// the questions the fusion passes ask of it.
#pragma once
#include <vector>

#include "graph/graph.hpp"
#include "graph/shape_rules.hpp"

namespace anneal {

inline bool is_op(const Node& n, const char* name) { return n.op->name == name; }

// The graph as the requests see it: needed nodes, each replaced by its
// canonical (first identical) node, with consumer lists.
struct Analysis {
  const Graph& g;
  std::int64_t batch;
  std::vector<int> canon;
  std::vector<char> needed, fetched;
  std::vector<std::vector<int>> consumers;
  int merged = 0;

  const Node& node(int id) const { return g.node(id); }
  int in(int id, std::size_t k) const { return canon[static_cast<std::size_t>(node(id).inputs[k].id)]; }
  // Input k is read for its shape only: not computed for this node alone.
  bool shape_only(int id, std::size_t k) const { return (node(id).op->shape_only_inputs >> k) & 1u; }
  // ... but computed for other nodes: then read like any input (same order).
  bool computed_shape_input(int id, std::size_t k) const {
    return shape_only(id, k) && needed[static_cast<std::size_t>(in(id, k))];
  }
  // Input k is neither read nor computed.
  bool skipped_input(int id, std::size_t k) const { return shape_only(id, k) && !computed_shape_input(id, k); }
  Dims shape(int id) const { return resolve_batch(node(id).type.shape, batch); }
  bool single_consumer(int id, int c) const {
    const auto& cs = consumers[static_cast<std::size_t>(id)];
    return !fetched[static_cast<std::size_t>(id)] && cs.size() == 1 && cs[0] == c;
  }
};

// Prunes to what the roots need and, with `cse`, merges identical nodes.
Analysis analyze(const Graph& g, const std::vector<int>& roots_fetch, const std::vector<int>& roots_target,
                 std::int64_t batch, bool cse);

}  // namespace anneal
