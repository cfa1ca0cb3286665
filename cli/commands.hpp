// The four commands of `anneal` (cli/main.cpp parses the command line). Each
// returns the process exit code and throws InvalidInput (exit 2) or
// RunError (exit 1) for the rest.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/model_kind.hpp"

namespace anneal::cli {

struct TrainArgs {
  std::string config, out;
  std::optional<int> epochs;
  std::optional<std::int64_t> limit;
  std::optional<int> threads;
  std::optional<std::uint64_t> seed;
  bool resume = false;
  std::string command_line;  // recorded in config.json
};
int run_train(const TrainArgs& a);

struct EvalArgs {
  std::string dir;
  std::string metric;  // "": the config's eval.metric, else the kind's default
  std::string split;   // "": the config's eval.split (test by default)
  std::optional<std::int64_t> limit;
  std::optional<std::uint64_t> seed;
  Options options;
};
int run_eval(const EvalArgs& a);

struct SampleArgs {
  std::string dir, out;
  std::int64_t n = 0;
  std::optional<std::uint64_t> seed;
  Options options;
};
int run_sample(const SampleArgs& a);

struct InspectArgs {
  std::string path;  // a graph JSON file or a run directory
  bool dot = false;
};
int run_inspect(const InspectArgs& a);

// Rejects options the kind does not list (InvalidInput naming the option).
void check_options(const Options& given, const std::vector<std::string>& allowed, const std::string& what);

}  // namespace anneal::cli
