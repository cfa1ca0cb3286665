// libFuzzer target for the graph JSON loader (io/graph_json.hpp). Any input
// must either load or throw InvalidInput; anything else (another exception, a
// crash, a sanitizer report, a hang) is a bug. A graph that loads must also
// save and reload to the same bytes. See docs/fuzzing.md.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "backend/error.hpp"
#include "io/graph_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::unique_ptr<anneal::Graph> g;
  try {
    g = anneal::graph_from_json(text);
  } catch (const anneal::InvalidInput&) {
    return 0;
  }
  std::string once = anneal::graph_to_json(*g);
  std::string twice = anneal::graph_to_json(*anneal::graph_from_json(once));
  if (once != twice) __builtin_trap();
  return 0;
}
