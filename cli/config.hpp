// The run configuration of `anneal train` (docs/config-format.md): what model,
// what data, how to train, how to evaluate. A config is validated when it is
// loaded, every error naming its file and JSON path; resolving it fills in
// every default, so the config.json a run writes says exactly what ran and
// can be trained again as it is.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/json_check.hpp"
#include "models/schedule.hpp"

namespace anneal::cli {

class ModelKind;

struct DataConfig {
  std::string name;  // "fashion-mnist", a generated dataset, or "" for explicit IDX files
  std::string dir;   // where fashion-mnist lives
  Json generator;    // a generated dataset's options (cli/generated_data.hpp)
  // Explicit IDX files (absolute after resolution); labels and the test set
  // are optional.
  std::string train_images, train_labels, test_images, test_labels;
  double scale = 1.0 / 255.0;        // x * scale, first
  std::optional<double> binarize;    // then 1 where x > threshold, else 0
  bool standardize = false;          // then per-feature (x - mean) / std, from the training part
  double validation = 0.0;           // fraction of the training file held out
  std::uint64_t split_seed = 0;      // seeds the validation split
  std::int64_t limit = 0;            // first N examples of the training file (0: all)
};

// One optimizer over one parameter group.
struct OptimizerConfig {
  std::string path;  // "train.optimizers[0]", for errors found when building
  std::string name;
  std::string kind;  // "adam", "sgd"; empty: recorded in a model.graph
  std::vector<std::string> params;  // name prefixes ("" is every parameter)
  std::string select = "all";       // "all", "weights" (rank >= 2), "biases"
  std::map<std::string, double> hyper;  // lr, momentum, beta1, ...: as given, defaults added when built
  bool nesterov = false;
  bool params_given = false, select_given = false, nesterov_given = false;
  bool recorded = false;  // set when built: the optimizer comes from the model.graph file
  struct ScheduleSpec {
    std::string path;
    Json json;  // as written; resolved against the hyper-parameter's value when built
  };
  std::map<std::string, ScheduleSpec> schedules;  // by hyper-parameter
  std::map<std::string, Schedule> resolved_schedules;
};

struct TrainConfig {
  int epochs = 10;
  int horizon = 10;  // the config file's epochs: the default end of schedules (--epochs leaves it)
  std::int64_t batch_size = 100;
  bool drop_last = false;
  std::uint64_t seed = 0;
  std::vector<OptimizerConfig> optimizers;  // empty in the file: the kind's default, else one Adam over every parameter
  bool optimizers_given = false;
  Json options = Json::object();  // the model kind's own keys (ModelKind::resolve_train)
};

struct EvalConfig {
  std::string metric;  // "" : the model kind's default
  std::string split = "test";
  std::int64_t batch_size = 500;
};

struct Config {
  std::string description;  // free text, kept in the resolved config
  std::string file;      // where it was read from (errors name it)
  std::string base_dir;  // relative paths in the file are relative to this
  const ModelKind* kind = nullptr;
  Json model;              // resolved by the kind (data-dependent sizes filled in when built)
  std::string graph_file;  // model.graph, absolute; "" for a built-in kind
  DataConfig data;
  TrainConfig train;
  EvalConfig eval;
  Json provenance;  // what wrote a run's config.json (ignored when read)

  // The fully resolved document (model, data, train, eval, provenance).
  Json to_json() const;
};

// Parses and validates a config document; `file` names it in errors (which
// read "FILE: JSON.PATH: message"). `check_files`: the files it names must
// exist (train); a finished run's config.json is read without that check, so
// eval, sample and inspect still work when the data or model.graph has moved
// and the command does not need it.
Config parse_config(const Json& doc, const std::string& file, const std::string& base_dir, bool check_files = true);
Config load_config(const std::string& file, bool check_files = true);

// A schedule as the config writes it ({"kind": "cosine", "to": 1e-5, ...}),
// resolved against the hyper-parameter's value `base` (the default "from")
// and `horizon` (the default "end", in epochs).
Schedule resolve_schedule(const Json& j, const std::string& path, std::optional<double> base, int horizon);

// The names of a data split ("train", "valid", "test").
inline const std::vector<std::string> kSplits = {"test", "train", "valid"};

}  // namespace anneal::cli
