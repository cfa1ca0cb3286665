// A run directory, as `anneal train` writes it and the other commands read
// it:
//   config.json          the fully resolved config + provenance
//   graph.json           the trained graph, optimizers included
//   weights.safetensors  parameters and state, rewritten atomically each epoch
//   metrics.jsonl        one JSON object per finished epoch
//   *.png                the model kind's pictures
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cli/config.hpp"
#include "graph/graph.hpp"
#include "io/checkpoint.hpp"
#include "runtime/session.hpp"

namespace anneal::cli {

inline constexpr const char* kConfigFile = "config.json";
inline constexpr const char* kGraphFile = "graph.json";
inline constexpr const char* kMetricsFile = "metrics.jsonl";

std::string in_dir(const std::string& dir, const std::string& file);

// This binary's version ("0.1.0") and git revision (a commit hash, with
// "-dirty" when built from a modified checkout; "unknown" outside git).
std::string anneal_version();
std::string git_revision();

// Where and how this binary runs: Anneal version, git revision, oneDNN
// version, CPU model and ISA, threads, the command line and the start time.
Json provenance(int threads, const std::string& command);
// "avx512f", "avx2", "sse4.2" or "baseline", from /proc/cpuinfo's flags.
std::string cpu_isa();

// An exclusive lock on a run directory (flock on the directory itself, so
// it leaves no file behind), held while training. Throws InvalidInput when
// another process holds it.
class DirLock {
 public:
  explicit DirLock(const std::string& dir);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

// Removes the temporary files that interrupted atomic writes of a run's own
// files left in `dir` ("config.json.tmp.PID.N", io/atomic_file.cpp; PNGs
// too); returns how many.
int remove_stale_temp_files(const std::string& dir);

// A finished (or running) run opened for eval, sample and inspect: its
// config, graph, and a session holding its weights.
struct OpenRun {
  Config config;
  std::unique_ptr<Graph> graph;
  std::unique_ptr<Session> session;
  CheckpointInfo checkpoint;
};
// `seed` seeds the session (stochastic ops of evaluation and sampling); by
// default the run's own seed. Throws InvalidInput naming the file at fault.
OpenRun open_run(const std::string& dir, std::optional<std::uint64_t> seed);

}  // namespace anneal::cli
