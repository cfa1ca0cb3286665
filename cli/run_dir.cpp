#include "cli/run_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "anneal_build_info.hpp"
#include "backend/error.hpp"
#include "backend/gemm.hpp"
#include "io/graph_json.hpp"

namespace anneal::cli {

namespace fs = std::filesystem;

std::string in_dir(const std::string& dir, const std::string& file) { return (fs::path(dir) / file).string(); }

namespace {

// The value of the first "key : value" line of /proc/cpuinfo.
std::string cpuinfo(const std::string& key) {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string k = line.substr(0, colon);
    while (!k.empty() && (k.back() == ' ' || k.back() == '\t')) k.pop_back();
    if (k != key) continue;
    std::string v = line.substr(colon + 1);
    return v.empty() ? v : v.substr(v.find_first_not_of(' ') == std::string::npos ? v.size() : v.find_first_not_of(' '));
  }
  return "";
}

std::string utc_now() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::string cpu_isa() {
  std::istringstream flags(" " + cpuinfo("flags") + " ");
  bool avx512f = false, avx2 = false, sse42 = false;
  for (std::string f; flags >> f;) {
    avx512f |= f == "avx512f";
    avx2 |= f == "avx2";
    sse42 |= f == "sse4_2";
  }
  return avx512f ? "avx512f" : avx2 ? "avx2" : sse42 ? "sse4.2" : "baseline";
}

std::string anneal_version() { return ANNEAL_VERSION_STRING; }
std::string git_revision() { return ANNEAL_GIT_REVISION; }

Json provenance(int threads, const std::string& command) {
  Json p;
  p["anneal_version"] = ANNEAL_VERSION_STRING;
  p["git_revision"] = ANNEAL_GIT_REVISION;
  p["onednn"] = onednn_version();
  std::string model = cpuinfo("model name");
  p["cpu"] = model.empty() ? "unknown" : model;
  p["cpu_isa"] = cpu_isa();
  p["threads"] = threads;
  p["command"] = command;
  p["started"] = utc_now();
  return p;
}

DirLock::DirLock(const std::string& dir) {
  fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) throw InvalidInput(dir + ": cannot open directory: " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) throw InvalidInput(dir + ": another anneal process is training in this directory");
    throw InvalidInput(dir + ": cannot lock directory: " + std::strerror(err));
  }
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

int remove_stale_temp_files(const std::string& dir) {
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    auto pos = name.rfind(".tmp.");
    if (pos == std::string::npos || !entry.is_regular_file()) continue;
    // The suffix must be exactly ".tmp.<pid>.<counter>".
    std::string rest = name.substr(pos + 5);
    auto dot = rest.find('.');
    auto digits = [](const std::string& s) {
      return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
    };
    if (dot == std::string::npos || !digits(rest.substr(0, dot)) || !digits(rest.substr(dot + 1))) continue;
    // Only a run's own files: a user's file never goes.
    const std::string base = name.substr(0, pos);
    const bool ours = base == kConfigFile || base == kGraphFile || base == kMetricsFile || base == kCheckpointFile ||
                      (base.size() > 4 && base.compare(base.size() - 4, 4, ".png") == 0);
    if (!ours) continue;
    if (fs::remove(entry.path(), ec)) ++removed;
  }
  return removed;
}

OpenRun open_run(const std::string& dir, std::optional<std::uint64_t> seed) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InvalidInput(dir + ": no such run directory");
  const std::string config = in_dir(dir, kConfigFile);
  if (!fs::exists(config, ec))
    throw InvalidInput(dir + ": not an anneal run directory (it has no " + std::string(kConfigFile) + ")");
  OpenRun r;
  r.config = load_config(config, /*check_files=*/false);
  r.graph = load_graph(in_dir(dir, kGraphFile));
  const std::string weights = in_dir(dir, kCheckpointFile);
  r.checkpoint = read_checkpoint_info(weights);
  r.session = std::make_unique<Session>(*r.graph, SessionOptions{.seed = seed ? *seed : r.checkpoint.seed});
  r.checkpoint = load_checkpoint(*r.session, weights, {.require_same_seed = false});
  return r;
}

}  // namespace anneal::cli
