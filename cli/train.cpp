// anneal train CONFIG.json --out DIR [--epochs N] [--limit N] [--threads T]
//              [--seed S] [--resume]
//
// A fresh run resolves the config, loads the data, builds the graph with its
// optimizers, writes config.json and graph.json, then trains the graph *as
// reloaded from graph.json*, so what was saved is exactly what ran. A
// resumed run rebuilds the same way, checks that the result equals the run's
// config.json (apart from train.epochs), and continues from the checkpoint:
// same graph, same seed, same step counter and data position, hence the same
// random numbers and batches as a run that was never stopped.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>
#include <vector>

#include "backend/error.hpp"
#include "backend/threads.hpp"
#include "cli/commands.hpp"
#include "cli/data.hpp"
#include "cli/optimizers.hpp"
#include "cli/progress.hpp"
#include "cli/run_dir.hpp"
#include "data/batches.hpp"
#include "io/atomic_file.hpp"
#include "io/graph_json.hpp"
#include "models/trainer.hpp"

namespace anneal::cli {

namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int sig) {
  g_stop_signal = sig;
  std::signal(sig, SIG_DFL);  // a second one ends the process at once
}

// SIGINT/SIGTERM stop the run at the next step boundary with a checkpoint
// (unless they were ignored when the process started, as under nohup).
struct StopSignals {
  StopSignals() {
    g_stop_signal = 0;
    for (int sig : {SIGINT, SIGTERM}) {
      auto previous = std::signal(sig, on_stop_signal);
      if (previous == SIG_IGN) std::signal(sig, SIG_IGN);
      saved_.push_back(previous);
    }
  }
  ~StopSignals() {
    std::signal(SIGINT, saved_[0]);
    std::signal(SIGTERM, saved_[1]);
  }
  std::vector<void (*)(int)> saved_;
};

// Evaluation must not move the step counter that keys training's random
// streams, so a run's randomness does not depend on what it evaluates.
struct KeepStep {
  Session& s;
  std::uint64_t step;
  explicit KeepStep(Session& session) : s(session), step(session.step()) {}
  ~KeepStep() { s.set_step(step); }
};

// Exact text for doubles kept in checkpoint metadata ("%a" round-trips).
std::string exact(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

double parse_exact(const std::map<std::string, std::string>& meta, const std::string& key) {
  auto it = meta.find(key);
  return it == meta.end() ? 0.0 : std::strtod(it->second.c_str(), nullptr);
}

std::int64_t parse_count(const CheckpointInfo& info, const std::string& key, const std::string& file) {
  auto it = info.extra.find(key);
  if (it == info.extra.end()) throw InvalidInput(file + ": checkpoint metadata lacks '" + key + "'");
  char* end = nullptr;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  if (it->second.empty() || *end != '\0' || v < 0)
    throw InvalidInput(file + ": checkpoint metadata '" + key + "' = '" + it->second + "' is not a count");
  return v;
}

// The parameters an optimizer of `g` trains.
std::vector<std::string> optimizer_params(const Graph& g, const std::string& optimizer) {
  std::vector<std::string> names;
  for (Value p : g.collection("optimizer." + optimizer + ".params")) names.push_back(p.name());
  return names;
}

bool trains_in(const Graph& g, const std::string& optimizer, const TrainingStage& stage) {
  for (const std::string& p : optimizer_params(g, optimizer))
    if (p.compare(0, stage.params.size(), stage.params) != 0) return false;
  return true;
}

// The optimizers a stage's steps run.
std::vector<Optimizer> stage_optimizers(const Graph& g, const TrainingStage& stage, const std::vector<Optimizer>& all) {
  std::vector<Optimizer> mine;
  for (const Optimizer& o : all)
    if (trains_in(g, o.name(), stage)) mine.push_back(o);
  return mine;
}

// Every optimizer must belong to a stage: a stage trains one set of
// parameters while the others stay as they are.
void check_stages(const Config& c, const Graph& g, const std::vector<TrainingStage>& stages) {
  if (stages.size() < 2) return;
  std::string names;
  for (const TrainingStage& st : stages) names += (names.empty() ? "" : ", ") + st.name + " (\"" + st.params + "\")";
  for (const OptimizerConfig& o : c.train.optimizers) {
    bool inside = false;
    for (const TrainingStage& st : stages) inside |= trains_in(g, o.name, st);
    if (!inside) {
      std::string params;
      for (const std::string& p : optimizer_params(g, o.name)) params += (params.empty() ? "" : ", ") + p;
      throw InvalidInput(c.file + ": " + o.path + ".params: optimizer '" + o.name + "' trains " + params +
                         ", but model kind " + c.kind->name() + " trains in stages, one after another: " + names +
                         "; each optimizer must train the parameters of one stage (give \"params\" its prefix)");
    }
  }
}

// The stage that trains `epoch` (0-based) and the epoch it starts at.
struct StageAt {
  std::size_t index = 0;
  int start = 0;
};
StageAt stage_at(const std::vector<TrainingStage>& stages, int epoch) {
  int start = 0;
  for (std::size_t i = 0; i + 1 < stages.size(); ++i) {
    if (epoch < start + stages[i].epochs) return {i, start};
    start += stages[i].epochs;
  }
  return {stages.size() - 1, start};
}

// Everything a run needs before it touches its directory.
struct Prepared {
  Config config;
  Splits data;
  std::unique_ptr<Graph> graph;  // as built, optimizers added
  std::vector<std::string> untrained;
  std::string metric;  // validation metric
};

Prepared prepare(const TrainArgs& a) {
  Prepared p;
  p.config = load_config(a.config);
  Config& c = p.config;
  if (a.epochs) c.train.epochs = *a.epochs;
  if (a.seed) c.train.seed = *a.seed;
  if (a.limit) c.data.limit = *a.limit;
  p.data = load_data(c, true, true);  // the test files too: a bad one should fail now, not at eval
  try {
    p.graph = c.kind->build(c, p.data);
  } catch (const InvalidInput& e) {
    throw InvalidInput(c.file + ": " + e.what());
  }
  if (p.graph->find("labels").valid() && !p.data.train.labeled())
    throw InvalidInput(c.file + ": data: the model takes labels (graph input \"labels\"); give data.train_labels");
  p.untrained = add_optimizers(c, *p.graph);
  check_stages(c, *p.graph, c.kind->stages(*p.graph, c));
  std::vector<std::string> metrics = c.kind->metrics(*p.graph);
  p.metric = c.eval.metric.empty() ? metrics.at(0) : c.eval.metric;
  bool known = false;
  std::string list;
  for (const auto& m : metrics) {
    known |= m == p.metric;
    list += (list.empty() ? "" : ", ") + m;
  }
  if (!known)
    throw InvalidInput(c.file + ": eval.metric: model kind " + c.kind->name() + " has no metric \"" + p.metric +
                       "\" (it has: " + list + ")");
  c.eval.metric = p.metric;  // resolved: config.json names the metric eval defaults to
  return p;
}

// The resolved config without what may differ between a run and its resume.
Json comparable(Json j) {
  j.erase("provenance");
  j.erase("description");
  if (j.contains("train") && j["train"].is_object()) j["train"].erase("epochs");
  return j;
}

class Run {
 public:
  Run(std::string dir, Prepared& p, Graph& g) : dir_(std::move(dir)), p_(p), c_(p.config), g_(g) {}

  // Trains from (epoch, batch) to c.train.epochs. Returns the exit code.
  int train(Session& s, const std::vector<Optimizer>& opts, int epoch0, std::int64_t batch0,
            const CheckpointInfo* resumed) {
    const std::vector<TrainingStage> stages = c_.kind->stages(g_, c_);
    Batches batches(p_.data.train, c_.train.batch_size, c_.train.seed, 0, c_.train.drop_last, true);
    const std::int64_t nb = batches.size();
    if (nb == 0)
      throw InvalidInput(c_.file + ": train.batch_size: " + std::to_string(c_.train.batch_size) +
                         " with drop_last leaves no batch of the " + std::to_string(p_.data.train.size()) +
                         " training examples");
    ModelRun run{g_, s, c_, c_.eval.batch_size, &p_.data.train};
    Progress progress(::isatty(STDERR_FILENO) == 1, c_.train.epochs, nb);
    std::map<std::string, Tensor> feeds;
    const std::string weights = in_dir(dir_, kCheckpointFile);
    std::optional<Trainer> trainer;  // the current stage's
    std::vector<Optimizer> stage_opts;
    std::size_t trainer_stage = stages.size();

    for (int epoch = epoch0; epoch < c_.train.epochs; ++epoch) {
      const StageAt at = stage_at(stages, epoch);
      const TrainingStage& stage = stages[at.index];
      if (at.index != trainer_stage) {
        stage_opts = stage_optimizers(g_, stage, opts);
        trainer.emplace(s, stage.loss, stage_opts, stage.monitors, stage.state_updates);
        trainer_stage = at.index;
      }
      const std::vector<Value>& monitors = stage.monitors;
      const std::int64_t first = epoch == epoch0 ? batch0 : 0;
      std::vector<double> sums(1 + monitors.size(), 0.0);
      double seconds = 0;
      if (first > 0 && resumed) {  // a checkpoint from the middle of this epoch
        for (std::size_t k = 0; k < sums.size(); ++k) sums[k] = parse_exact(resumed->extra, "sum." + std::to_string(k));
        seconds = parse_exact(resumed->extra, "seconds");
      }
      batches.set_epoch(static_cast<std::uint32_t>(epoch));
      progress.start_epoch(epoch, first);
      auto t0 = std::chrono::steady_clock::now();
      for (std::int64_t i = first; i < nb; ++i) {
        const Batch& b = batches[i];
        batch_feeds(g_, b.x, b.y, feeds);
        // Schedules count epochs from the start of the stage.
        const double progress_epochs = (epoch - at.start) + static_cast<double>(i) / static_cast<double>(nb);
        try {
          const std::vector<double>& v = trainer->step(feeds, progress_epochs);
          for (std::size_t k = 0; k < sums.size(); ++k) sums[k] += v[k];
        } catch (const RunError& e) {
          progress.clear();
          throw RunError(dir_ + ": training failed at epoch " + std::to_string(epoch + 1) + ", batch " +
                         std::to_string(i + 1) + ": " + e.what() + "; " + weights +
                         " keeps the last good checkpoint (epoch " + std::to_string(last_epoch_) + ")");
        }
        progress.update(i + 1, sums[0] / static_cast<double>(i + 1));
        if (g_stop_signal != 0 && i + 1 < nb) {
          seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          std::map<std::string, std::string> meta = {{"epoch", std::to_string(epoch)},
                                                     {"batch", std::to_string(i + 1)},
                                                     {"seconds", exact(seconds)}};
          for (std::size_t k = 0; k < sums.size(); ++k) meta["sum." + std::to_string(k)] = exact(sums[k]);
          save_checkpoint(s, weights, meta);
          progress.line(dir_ + ": interrupted at epoch " + std::to_string(epoch + 1) + ", batch " +
                        std::to_string(i + 1) + "/" + std::to_string(nb) + "; checkpoint saved, continue with --resume");
          return 128 + static_cast<int>(g_stop_signal);
        }
      }
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

      Json line;
      line["epoch"] = epoch + 1;
      line["step"] = static_cast<std::int64_t>(epoch + 1) * nb;
      if (!stage.name.empty()) line["stage"] = stage.name;
      line["loss"] = sums[0] / static_cast<double>(nb);
      for (std::size_t k = 0; k < monitors.size(); ++k) line[monitors[k].name()] = sums[k + 1] / static_cast<double>(nb);
      std::string summary;
      {
        KeepStep keep(s);
        summary = c_.kind->epoch_report(run, p_.data, stage, p_.metric, line);
        if (!summary.empty()) summary = "  " + summary;
      }
      for (const Optimizer& o : stage_opts)
        for (const OptimizerConfig& oc : c_.train.optimizers)
          if (oc.name == o.name())
            for (const auto& [h, sched] : oc.resolved_schedules)
              line[o.name() + "." + h] = s.get(o.hyper().at(h).name()).item();
      line["seconds"] = seconds;
      metrics_.push_back(line.dump());
      write_metrics();
      save_checkpoint(s, weights, {{"epoch", std::to_string(epoch + 1)}, {"batch", "0"}});
      last_epoch_ = epoch + 1;
      {
        KeepStep keep(s);  // pictures that run the model must not move the checkpointed step
        run.epoch = epoch + 1;
        for (const auto& [file, image] : c_.kind->pictures(run, p_.data)) write_png(in_dir(dir_, file), image);
      }
      char head[160];
      std::snprintf(head, sizeof head, "epoch %d/%d  step %" PRId64 "  loss %s", epoch + 1, c_.train.epochs,
                    static_cast<std::int64_t>(epoch + 1) * nb, fixed(line["loss"].get<double>()).c_str());
      progress.line(head + summary + "  " + fixed(seconds, 2) + " s");
    }
    return 0;
  }

  void set_metrics(std::vector<std::string> lines, int last_epoch) {
    metrics_ = std::move(lines);
    last_epoch_ = last_epoch;
  }
  void write_metrics() const {
    std::string text;
    for (const auto& l : metrics_) text += l + "\n";
    write_file_atomic(in_dir(dir_, kMetricsFile), text);
  }

 private:
  static std::string fixed(double v, int digits = 4) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
  }

  std::string dir_;
  Prepared& p_;
  Config& c_;
  Graph& g_;
  std::vector<std::string> metrics_;
  int last_epoch_ = 0;
};

void note_untrained(const std::vector<std::string>& untrained) {
  if (untrained.empty()) return;
  std::string list;
  for (const auto& n : untrained) list += (list.empty() ? "" : ", ") + n;
  std::fprintf(stderr, "note: no optimizer trains %s (they keep their initial values)\n", list.c_str());
}

// The metrics.jsonl lines of epochs <= last (a run killed between writing
// the metrics and the checkpoint has one line too many).
std::vector<std::string> metrics_up_to(const std::string& dir, int last) {
  std::vector<std::string> kept;
  std::error_code ec;
  const std::string file = in_dir(dir, kMetricsFile);
  if (!fs::exists(file, ec)) return kept;
  std::istringstream in(read_file(file));
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    Json j;
    try {
      j = Json::parse(line);
    } catch (const nlohmann::json::exception&) {
      throw InvalidInput(file + ": line " + std::to_string(kept.size() + 1) + " is not JSON");
    }
    if (j.contains("epoch") && j["epoch"].is_number_integer() && j["epoch"].get<int>() <= last) kept.push_back(line);
  }
  return kept;
}

// What a new run starts from beyond the graph's initializers: the config's
// values for recorded optimizers, the kind's data-dependent initial values.
void start(Prepared& p, const Graph& g, Session& session, const std::vector<Optimizer>& opts) {
  apply_recorded_hyper(p.config, opts, session);
  ModelRun run{g, session, p.config, p.config.eval.batch_size, &p.data.train};
  p.config.kind->initialize(run, p.data);
}

// A new run in the empty directory a.out (locked by the caller).
int fresh(const TrainArgs& a, Prepared& p) {
  Config& c = p.config;

  Json resolved = c.to_json();
  resolved["provenance"] = provenance(num_threads(), a.command_line);
  write_file_atomic(in_dir(a.out, kConfigFile), pretty_json(resolved));
  const std::string text = graph_to_json(*p.graph);
  write_file_atomic(in_dir(a.out, kGraphFile), text);
  note_untrained(p.untrained);

  std::unique_ptr<Graph> g = graph_from_json(text);
  Session session(*g, {.seed = c.train.seed});
  std::vector<Optimizer> opts = recover_optimizers(c, *g);
  start(p, *g, session, opts);
  save_checkpoint(session, in_dir(a.out, kCheckpointFile), {{"epoch", "0"}, {"batch", "0"}});
  Run run(a.out, p, *g);
  run.write_metrics();
  return run.train(session, opts, 0, 0, nullptr);
}

// Continues the run in a.out (locked by the caller, stale temporary files
// removed).
int resume(TrainArgs a) {
  const std::string dir = a.out;
  const std::string config_file = in_dir(dir, kConfigFile);
  std::error_code ec;
  if (!fs::exists(config_file, ec))
    throw InvalidInput(dir + ": not empty, and not an anneal run (it has no " + std::string(kConfigFile) +
                       "); choose another --out");
  const Config run_config = load_config(config_file, /*check_files=*/false);
  const Json recorded = parse_json(read_file(config_file));

  // A resumed run keeps its seed, data and (by default) thread count.
  if (a.seed && *a.seed != run_config.train.seed)
    throw InvalidInput("--seed " + std::to_string(*a.seed) + ": the run in " + dir + " has seed " +
                       std::to_string(run_config.train.seed) + ", and a resumed run keeps it");
  if (a.limit && *a.limit != run_config.data.limit)
    throw InvalidInput("--limit " + std::to_string(*a.limit) + ": the run in " + dir + " was trained with limit " +
                       std::to_string(run_config.data.limit) + ", and a resumed run keeps its data");
  a.seed = run_config.train.seed;
  a.limit = run_config.data.limit;
  if (!a.epochs) a.epochs = run_config.train.epochs;
  int run_threads = 0;
  if (run_config.provenance.is_object() && run_config.provenance.contains("threads") &&
      run_config.provenance["threads"].is_number_integer())
    run_threads = run_config.provenance["threads"].get<int>();
  if (!a.threads && run_threads > 0) set_num_threads(run_threads);
  if (a.threads && run_threads > 0 && *a.threads != run_threads)
    std::fprintf(stderr, "note: the run used %d threads, resuming with %d: matrix products may round differently, so "
                         "the result is not bit-identical to an uninterrupted run\n", run_threads, *a.threads);

  Prepared p = prepare(a);
  Config& c = p.config;
  Json mine = c.to_json();
  std::string diff = first_difference(comparable(recorded), comparable(mine));
  if (!diff.empty())
    throw InvalidInput(a.config + ": differs from " + config_file + " at " + diff +
                       "; --resume continues a run with the config it started with");

  const std::string graph_file = in_dir(dir, kGraphFile), weights = in_dir(dir, kCheckpointFile);
  std::unique_ptr<Graph> g;
  if (fs::exists(graph_file, ec)) {
    g = load_graph(graph_file);
  } else {  // killed before writing it
    const std::string text = graph_to_json(*p.graph);
    write_file_atomic(graph_file, text);
    g = graph_from_json(text);
  }
  Session session(*g, {.seed = c.train.seed});
  std::vector<Optimizer> opts = recover_optimizers(c, *g);
  CheckpointInfo info;
  if (fs::exists(weights, ec)) {
    info = load_checkpoint(session, weights);
  } else {  // killed before the first checkpoint
    start(p, *g, session, opts);
    info.extra = {{"epoch", "0"}, {"batch", "0"}};
    save_checkpoint(session, weights, info.extra);
  }
  const auto done = static_cast<int>(parse_count(info, "epoch", weights));
  const std::int64_t batch = parse_count(info, "batch", weights);
  if (done >= c.train.epochs) {
    std::fprintf(stderr, "%s: the run has trained %d epoch%s (train.epochs %d); nothing to do\n", dir.c_str(), done,
                 done == 1 ? "" : "s", c.train.epochs);
    return 0;
  }
  if (recorded.contains("train") && recorded["train"].value("epochs", 0) != c.train.epochs) {
    Json updated = recorded;
    updated["train"]["epochs"] = c.train.epochs;
    write_file_atomic(config_file, pretty_json(updated));
  }
  Run run(dir, p, *g);
  run.set_metrics(metrics_up_to(dir, done), done);
  run.write_metrics();
  std::fprintf(stderr, "%s: resuming at epoch %d, batch %lld\n", dir.c_str(), done + 1, static_cast<long long>(batch));
  return run.train(session, opts, done, batch, &info);
}

}  // namespace

int run_train(const TrainArgs& a) {
  if (a.threads) set_num_threads(*a.threads);
  std::error_code ec;
  const bool exists = fs::exists(a.out, ec);
  if (exists && !fs::is_directory(a.out, ec)) throw InvalidInput(a.out + ": exists and is not a directory");
  const bool nonempty = exists && !fs::is_empty(a.out, ec);
  if (nonempty && !a.resume)
    throw InvalidInput(a.out + ": not empty; --resume continues the run in it, or choose another --out");
  if (!nonempty) {
    Prepared p = prepare(a);  // everything that can fail on bad input, before creating anything
    StopSignals stop;         // from here on a signal stops the run at its first step boundary
    fs::create_directories(a.out);
    DirLock lock(a.out);
    if (!fs::is_empty(a.out)) throw InvalidInput(a.out + ": not empty (another run started in it)");
    return fresh(a, p);
  }
  StopSignals stop;
  DirLock lock(a.out);
  // A run killed while writing its first file leaves only a temporary one.
  const bool had_temp = remove_stale_temp_files(a.out) > 0;
  if (had_temp && fs::is_empty(a.out)) {
    Prepared p = prepare(a);
    return fresh(a, p);
  }
  return resume(a);
}

}  // namespace anneal::cli
