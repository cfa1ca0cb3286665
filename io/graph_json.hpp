// Graph JSON, format v1 (docs/graph-format.md): every node of a graph
// (forward and gradient nodes, inputs, parameters with their initializers,
// state, constants, assigns), its named outputs, its collections (an
// optimizer's parameters and updates, a model's monitors) and its string
// metadata, as one JSON document.
//
// Saving is canonical: fixed key order, one node per line, doubles in the
// shortest form that reads back to the same bits. So save -> load -> save is
// byte-identical, and two saves of equal graphs diff cleanly.
//
// Loading trusts nothing: the document is checked against the format and each
// node's attributes against its op's schema (AttrSpec), then every node is
// rebuilt through Graph::add, which runs the op's shape rule. A loaded graph
// is exactly as valid as one built in C++. Any defect throws InvalidInput
// whose message starts with where it is — a JSON path such as
// `nodes[12].attrs.axis` (`$` is the whole document), or `byte N` when the
// text is not JSON at all — followed by what was expected. Nothing is
// returned on failure, so there are no half-loaded graphs.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "graph/graph.hpp"

namespace anneal {

// The "format" and "version" a document must carry. A reader rejects any
// other version (see docs/graph-format.md for the versioning policy).
inline constexpr const char* kGraphFormatName = "anneal.graph";
inline constexpr std::int64_t kGraphFormatVersion = 1;

// Loader limits: larger values are rejected before anything is allocated.
// Every tensor (a node's output, a `shape` attribute) holds at most 2^31
// elements, counting the batch dimension as 1.
inline constexpr std::int64_t kMaxGraphTensorElements = std::int64_t{1} << 31;
// Integer attributes stay within ±2^53, the range every JSON reader (and a
// double) holds exactly.
inline constexpr std::int64_t kMaxGraphJsonInteger = std::int64_t{1} << 53;
// Arrays and objects nest at most this deep (the format itself needs 5).
inline constexpr int kMaxGraphJsonDepth = 64;

// The graph as a format-v1 JSON document (UTF-8, ends with a newline).
// Throws InvalidInput if a name or string attribute is not valid UTF-8.
std::string graph_to_json(const Graph& graph);

// Parses and validates a format-v1 document. Throws InvalidInput as described
// above; never anything else for bad input.
std::unique_ptr<Graph> graph_from_json(std::string_view text);

// File helpers. save_graph writes atomically (io/atomic_file.hpp). load_graph
// prefixes every error with the path: "model/graph.json: nodes[3].op: ...".
void save_graph(const Graph& graph, const std::string& path);
std::unique_ptr<Graph> load_graph(const std::string& path);

}  // namespace anneal
