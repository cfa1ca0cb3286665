// anneal-graph-check FILE...: loads each graph JSON file (io/graph_json.hpp)
// and reports whether it is valid. A test driver until the `anneal` command
// exists; it follows that command's contract for bad input:
//   exit 0: every file is a valid graph;
//   exit 2: some file is invalid, or bad usage; one line on stderr per
//           invalid file: "FILE: JSON.PATH: message";
//   exit 1: an internal error (a bug: a bad file must give 2, never this).
#include <exception>
#include <iostream>
#include <string>

#include "backend/error.hpp"
#include "io/graph_json.hpp"

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help") {
    std::cerr << "usage: anneal-graph-check FILE.json...\n"
                 "Loads each Anneal graph JSON file; exit 0 if all are valid, 2 otherwise.\n";
    return argc < 2 ? 2 : 0;
  }
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    try {
      anneal::load_graph(argv[i]);  // errors carry the "FILE: " prefix
    } catch (const anneal::InvalidInput& e) {
      std::cerr << anneal::one_line(e.what()) << '\n';
      if (status == 0) status = 2;
    } catch (const std::exception& e) {
      std::cerr << anneal::one_line(std::string(argv[i]) + ": internal error: " + e.what()) << '\n';
      status = 1;
    }
  }
  return status;
}
