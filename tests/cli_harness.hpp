// The harness of the `anneal` command's tests (test_cli*.cpp): the binary
// (ANNEAL_CLI, from the build) runs as a separate process with its stdout and
// stderr captured; temporary directories; a tiny labelled IDX dataset with a
// config over it.
#pragma once
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/temp_dir.hpp"
#include "data/idx.hpp"
#include "io/checkpoint.hpp"

namespace anneal::cli_test {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

using anneal::testing::TempDir;

inline std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

struct Result {
  int code = -1;        // exit status, or -signal when killed
  std::string out, err;
};

// Starts `anneal args...` with stdout/stderr into files under `io`.
inline pid_t spawn(const std::vector<std::string>& args, const std::string& out_file, const std::string& err_file) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int out = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || in < 0) ::_exit(127);
    ::signal(SIGINT, SIG_DFL);  // whatever the test runner does with them
    ::signal(SIGTERM, SIG_DFL);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<char*> argv;
    std::string bin = ANNEAL_CLI;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

inline Result finish(pid_t pid, const std::string& out_file, const std::string& err_file) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? -WTERMSIG(status) : -1000;
  r.out = slurp(out_file);
  r.err = slurp(err_file);
  return r;
}

inline Result anneal_cmd(const std::vector<std::string>& args) {
  static TempDir io;
  static std::atomic<int> n{0};
  int k = n++;
  std::string o = io / ("out" + std::to_string(k)), e = io / ("err" + std::to_string(k));
  Result r = finish(spawn(args, o, e), o, e);
  return r;
}

inline int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// Every file of a directory with its bytes.
inline std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files[e.path().filename().string()] = slurp(e.path().string());
  return files;
}

// A small labelled dataset: 8x8 images of 3 classes (class k has a bright
// band at rows 2k..2k+2), IDX files, plus a config over them.
struct Fixture {
  TempDir dir;
  std::string train_images = dir / "train-images.idx", train_labels = dir / "train-labels.idx.gz";
  std::string test_images = dir / "test-images.idx", test_labels = dir / "test-labels.idx";

  Fixture() {
    write_set(train_images, train_labels, 300, 1);
    write_set(test_images, test_labels, 90, 2);
  }
  static void write_set(const std::string& images, const std::string& labels, int n, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<std::uint8_t> x(static_cast<std::size_t>(n) * 64), y(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      int k = i % 3;
      y[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(k);
      for (int p = 0; p < 64; ++p) {
        int row = p / 8;
        bool band = row >= 2 * k && row < 2 * k + 3;
        x[static_cast<std::size_t>(i) * 64 + p] = static_cast<std::uint8_t>((band ? 150 : 0) + rng() % 100);
      }
    }
    write_idx(images, {n, 8, 8}, x);
    write_idx(labels, {n}, y);
  }

  json data() const {
    return {{"train_images", train_images}, {"train_labels", train_labels}, {"test_images", test_images},
            {"test_labels", test_labels},   {"validation", 0.2}};
  }
  // An MLP config trained by Adam with a cosine learning rate.
  json mlp_config() const {
    json c;
    c["model"] = {{"kind", "mlp"}, {"hidden", {16}}};
    c["data"] = data();
    c["train"] = {{"epochs", 2},
                  {"batch_size", 20},
                  {"seed", 7},
                  {"optimizers", json::array({json{{"kind", "adam"},
                                                   {"lr", 0.01},
                                                   {"schedules", {{"lr", {{"kind", "cosine"}}}}}}})}};
    return c;
  }
  std::string write_config(const json& c, const std::string& name = "config.json") const {
    std::string p = dir / name;
    write_text(p, c.dump(2));
    return p;
  }
};

inline CheckpointInfo checkpoint_of(const std::string& dir) {
  return read_checkpoint_info(dir + "/weights.safetensors");
}

// Exit 2, one line on stderr holding every `expect`, nothing on stdout.
inline void check_usage_error(const std::vector<std::string>& args, const std::vector<std::string>& expect) {
  Result r = anneal_cmd(args);
  std::string command;
  for (const auto& a : args) command += " " + a;
  CAPTURE(command);
  CAPTURE(r.err);
  CHECK(r.code == 2);
  CHECK(lines(r.err) == 1);
  CHECK(r.out.empty());
  for (const auto& s : expect) CHECK_MESSAGE(contains(r.err, s), "expected '" << s << "' in: " << r.err);
}

}  // namespace anneal::cli_test
