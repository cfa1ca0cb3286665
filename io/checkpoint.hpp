// Checkpoints: a Session's persistent tensors, seed and step in one
// safetensors file (weights.safetensors), enough to resume a run
// bit-identically.
//
// Tensor names: parameters keep their graph names ("fc1.W"); every state
// tensor (optimizer moments and step counts, hyper-parameters, persistent
// chains) is "state.<node name>" ("state.adam.fc1.W.m"). Every parameter and
// state of the graph is saved, including ones the session has not touched
// yet (they are initialized first, as a run would).
//
// Metadata (strings, as the format has it):
//   anneal.format     "anneal-checkpoint"
//   anneal.version    "1"
//   anneal.graph      the graph's name
//   anneal.seed       the session seed (decimal u64)
//   anneal.step       the session step counter (decimal u64)
//   plus the caller's own keys (e.g. "epoch", "batch": the data position to
//   resume from); those may not start with "anneal.".
//
// Files hold no times or paths: identical runs write identical bytes.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "backend/tensor.hpp"

namespace anneal {

class Session;

inline constexpr const char* kCheckpointFile = "weights.safetensors";
inline constexpr int kCheckpointVersion = 1;

struct CheckpointInfo {
  int version = kCheckpointVersion;
  std::string graph;
  std::uint64_t seed = 0;
  std::uint64_t step = 0;
  std::map<std::string, std::string> extra;  // the caller's metadata
};

// Every parameter and state of the session's graph under its checkpoint
// name (initializing any the session has not created yet).
std::map<std::string, Tensor> checkpoint_tensors(Session& session);

// The file image of a checkpoint (deterministic).
std::string checkpoint_bytes(Session& session, const std::map<std::string, std::string>& extra = {});

// Writes checkpoint_bytes to `path` atomically (temp file, fsync, rename,
// fsync of the directory): `path` always holds a complete checkpoint.
void save_checkpoint(Session& session, const std::string& path,
                     const std::map<std::string, std::string>& extra = {});

struct CheckpointLoadOptions {
  // A bit-identical resume needs the run's seed: by default a session with
  // another seed is an error. Off, the values load into any seed.
  bool require_same_seed = true;
  // Restore the step counter (random streams are keyed by it).
  bool restore_step = true;
};

// Validates `path` (the whole safetensors file and the checkpoint metadata)
// and returns its metadata, without a session.
CheckpointInfo read_checkpoint_info(const std::string& path);

// Restores every parameter and state of the session's graph and the step
// from `path`. All-or-nothing: any problem (a tensor the graph does not
// have, one the graph has but the file lacks, a wrong shape or dtype, a seed
// mismatch) throws InvalidInput naming the file and the tensor, and leaves
// the session unchanged.
CheckpointInfo load_checkpoint(Session& session, const std::string& path, CheckpointLoadOptions options = {});

}  // namespace anneal
