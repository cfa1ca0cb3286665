#include "io/checkpoint.hpp"

#include <charconv>
#include <utility>
#include <vector>

#include "backend/error.hpp"
#include "io/atomic_file.hpp"
#include "io/safetensors.hpp"
#include "runtime/session.hpp"

namespace anneal {

namespace {

constexpr const char* kFormat = "anneal-checkpoint";
constexpr const char* kReservedPrefix = "anneal.";

// Checkpoint name -> graph node, for every parameter and state.
std::map<std::string, Value> persistent_by_file_name(const Graph& g) {
  std::map<std::string, Value> by_name;
  auto add = [&](const std::string& key, Value v) {
    auto [it, fresh] = by_name.emplace(key, v);
    if (!fresh)
      throw InvalidInput("checkpoint: parameter '" + it->second.name() + "' and state '" + v.name() +
                         "' would both be saved as '" + key + "'; rename one");
  };
  for (Value v : g.params()) add(v.name(), v);
  for (Value v : g.states()) add("state." + v.name(), v);
  return by_name;
}

std::uint64_t parse_u64(const std::map<std::string, std::string>& meta, const std::string& key,
                        const std::string& what) {
  auto it = meta.find(key);
  if (it == meta.end()) throw InvalidInput(what + ": checkpoint metadata lacks '" + key + "'");
  const std::string& s = it->second;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size())
    throw InvalidInput(what + ": checkpoint metadata '" + key + "' = '" + s + "' is not an unsigned integer");
  return v;
}

CheckpointInfo info_from_metadata(const std::map<std::string, std::string>& meta, const std::string& what) {
  auto format = meta.find("anneal.format");
  if (format == meta.end() || format->second != kFormat)
    throw InvalidInput(what + ": not an Anneal checkpoint (metadata 'anneal.format' is not '" + kFormat + "')");
  CheckpointInfo info;
  std::uint64_t version = parse_u64(meta, "anneal.version", what);
  if (version != static_cast<std::uint64_t>(kCheckpointVersion))
    throw InvalidInput(what + ": checkpoint format version " + std::to_string(version) + " (this Anneal reads " +
                       std::to_string(kCheckpointVersion) + ")");
  info.version = static_cast<int>(version);
  info.seed = parse_u64(meta, "anneal.seed", what);
  info.step = parse_u64(meta, "anneal.step", what);
  auto graph = meta.find("anneal.graph");
  if (graph != meta.end()) info.graph = graph->second;
  for (const auto& [k, v] : meta)
    if (k.rfind(kReservedPrefix, 0) != 0) info.extra.emplace(k, v);
  return info;
}

}  // namespace

std::map<std::string, Tensor> checkpoint_tensors(Session& session) {
  std::map<std::string, Tensor> out;
  for (const auto& [key, v] : persistent_by_file_name(session.graph())) out.emplace(key, session.get(v.name()));
  return out;
}

std::string checkpoint_bytes(Session& session, const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> meta;
  for (const auto& [k, v] : extra) {
    if (k.rfind(kReservedPrefix, 0) == 0)
      throw InvalidInput("checkpoint: metadata key '" + k + "' is reserved (keys starting with 'anneal.')");
    meta.emplace(k, v);
  }
  meta["anneal.format"] = kFormat;
  meta["anneal.version"] = std::to_string(kCheckpointVersion);
  meta["anneal.graph"] = session.graph().name();
  meta["anneal.seed"] = std::to_string(session.seed());
  meta["anneal.step"] = std::to_string(session.step());
  return safetensors_bytes(checkpoint_tensors(session), meta);
}

void save_checkpoint(Session& session, const std::string& path, const std::map<std::string, std::string>& extra) {
  write_file_atomic(path, checkpoint_bytes(session, extra));
}

CheckpointInfo read_checkpoint_info(const std::string& path) {
  SafetensorsHeader h = parse_safetensors_header(read_file(path), path);
  return info_from_metadata(h.metadata, path);
}

CheckpointInfo load_checkpoint(Session& session, const std::string& path, CheckpointLoadOptions options) {
  SafetensorsFile file = load_safetensors(path);
  CheckpointInfo info = info_from_metadata(file.metadata, path);
  if (options.require_same_seed && info.seed != session.seed())
    throw InvalidInput(path + ": checkpoint was written with seed " + std::to_string(info.seed) +
                       ", the session has seed " + std::to_string(session.seed()));

  const Graph& g = session.graph();
  const auto wanted = persistent_by_file_name(g);
  std::vector<std::pair<std::string, const Tensor*>> updates;  // node name, value
  for (const auto& [key, t] : file.tensors) {
    auto it = wanted.find(key);
    if (it == wanted.end())
      throw InvalidInput(path + ": tensor '" + key + "' is not a parameter or state ('state.' + name) of graph '" +
                         g.name() + "'");
    const Node& n = it->second.node();
    const DType want = n.type.dtype == DType::i32 ? DType::i32 : session.float_type();
    if (t.shape() != n.type.shape || t.dtype() != want)
      throw InvalidInput(path + ": tensor '" + key + "' is " + dims_str(t.shape()) + " " +
                         safetensors_dtype_name(t.dtype()) + ", but " + n.describe() + " needs " +
                         dims_str(n.type.shape) + " " + safetensors_dtype_name(want));
    updates.emplace_back(n.name, &t);
  }
  for (const auto& [key, v] : wanted)
    if (!file.tensors.count(key))
      throw InvalidInput(path + ": checkpoint has no tensor '" + key + "', which graph '" + g.name() + "' needs");

  // Everything checked: now commit (set() cannot fail on a checked value).
  for (const auto& [name, t] : updates) session.set(name, *t);
  if (options.restore_step) session.set_step(info.step);
  return info;
}

}  // namespace anneal
