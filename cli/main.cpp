// anneal: train, evaluate, sample and inspect models without writing code.
//
//   anneal train CONFIG.json --out DIR [--epochs N] [--limit N] [--threads T] [--seed S] [--resume]
//   anneal eval DIR [--metric NAME] [--split test|train|valid] [--limit N] [--seed S] [metric options]
//   anneal sample DIR --n N --out FILE.png [--seed S] [model options]
//   anneal inspect FILE.json|DIR [--dot]
//
// Exit codes (a contract that scripts and tests rely on):
//   0  success
//   1  a failure while running (NaN/Inf in training, an I/O error), one line on stderr
//   2  bad usage, or a bad config, graph, weights or data file: one line on
//      stderr naming the file and the JSON path
//   128+N  training stopped by signal N (SIGINT, SIGTERM) after saving a checkpoint
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <limits>
#include <new>
#include <string>

#include "backend/error.hpp"
#include "backend/threads.hpp"
#include "cli/commands.hpp"
#include "cli/run_dir.hpp"

namespace {

using namespace anneal;
using namespace anneal::cli;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int report(int code, const std::string& message) {
  std::fprintf(stderr, "anneal: %s\n", one_line(message).c_str());
  return code;
}

std::string shell_quoted(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") ==
                        std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Extra "--key value" / "--key=value" pairs (metric and model options).
Options parse_extras(const std::vector<std::string>& args) {
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 3 || a.compare(0, 2, "--") != 0) throw InvalidInput("unexpected argument '" + a + "'");
    auto eq = a.find('=');
    std::string key = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2), value;
    if (eq != std::string::npos) {
      value = a.substr(eq + 1);
    } else {
      if (i + 1 >= args.size()) throw InvalidInput(a + ": missing value");
      value = args[++i];
    }
    if (!o.emplace(key, value).second) throw InvalidInput(a + ": given twice");
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  anneal::bounded_omp_spinning(argv);  // backend/threads.hpp: fast parallel regions, robust when cores are shared
  CLI::App app{"anneal: train, evaluate, sample and inspect deep generative models (docs/config-format.md)", "anneal"};
  app.set_version_flag("--version", "anneal " + anneal_version() + " (" + git_revision() + ")");
  app.require_subcommand(1);
  constexpr std::int64_t kMaxCount = std::int64_t{1} << 31;

  TrainArgs train;
  int epochs = 0, threads = 0;
  std::int64_t train_limit = 0;
  std::uint64_t train_seed = 0;
  CLI::App* t = app.add_subcommand("train", "Train a model described by a config; writes a run directory");
  t->add_option("config", train.config, "The run's config (docs/config-format.md)")->required();
  t->add_option("--out", train.out, "The run directory (must be empty or absent unless --resume)")->required();
  auto* t_epochs = t->add_option("--epochs", epochs, "Train N epochs instead of train.epochs")
                       ->check(CLI::Range(1, 1'000'000));
  auto* t_limit = t->add_option("--limit", train_limit, "Use the first N examples of the training file")
                      ->check(CLI::Range(std::int64_t{1}, kMaxCount));
  auto* t_threads = t->add_option("--threads", threads, "Threads for the kernels (default: ANNEAL_NUM_THREADS or all)")
                        ->check(CLI::Range(1, 4096));
  auto* t_seed = t->add_option("--seed", train_seed, "Override train.seed");
  t->add_flag("--resume", train.resume, "Continue the run in DIR from its last checkpoint");

  EvalArgs eval;
  std::int64_t eval_limit = 0;
  std::uint64_t eval_seed = 0;
  CLI::App* e = app.add_subcommand("eval", "Evaluate a trained run; prints one JSON object on stdout");
  e->add_option("dir", eval.dir, "The run directory")->required();
  e->add_option("--metric", eval.metric, "The metric (default: the config's eval.metric, else the model's default)");
  e->add_option("--split", eval.split, "The data split (default: the config's eval.split, else test)")
      ->check(CLI::IsMember({"test", "train", "valid"}));
  auto* e_limit = e->add_option("--limit", eval_limit, "Evaluate the first N examples of the split")
                      ->check(CLI::Range(std::int64_t{1}, kMaxCount));
  auto* e_seed = e->add_option("--seed", eval_seed, "Seed for stochastic metrics (default: the run's seed)");
  e->allow_extras();  // metric options, checked by the model kind

  SampleArgs sample;
  std::uint64_t sample_seed = 0;
  CLI::App* s = app.add_subcommand("sample", "Draw samples from a trained generative model into a PNG grid");
  s->add_option("dir", sample.dir, "The run directory")->required();
  s->add_option("--n", sample.n, "How many samples")->required()->check(CLI::Range(std::int64_t{1}, std::int64_t{10000}));
  s->add_option("--out", sample.out, "The PNG file to write")->required();
  auto* s_seed = s->add_option("--seed", sample_seed, "Seed (default: the run's seed)");
  s->allow_extras();  // model options, checked by the model kind

  InspectArgs inspect;
  CLI::App* i = app.add_subcommand("inspect", "Summarize a graph JSON file or a run directory");
  i->add_option("path", inspect.path, "A graph JSON file or a run directory")->required();
  i->add_flag("--dot", inspect.dot, "Print the graph for Graphviz (dot -Tsvg)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& err) {
    if (err.get_exit_code() == 0) return app.exit(err);  // --help, --version
    std::string where, message = err.what();
    for (CLI::App* sub : app.get_subcommands()) {
      where = " " + sub->get_name();
      // An unknown flag explains a missing argument better than "X is
      // required" does (`anneal train --config x.json`).
      std::vector<std::string> extra = sub->remaining();
      if (!sub->get_allow_extras() && !extra.empty() && extra[0].rfind("-", 0) == 0)
        message = "unknown option " + extra[0];
    }
    if (app.get_subcommands().empty()) {
      std::vector<std::string> extra = app.remaining();
      if (extra.empty()) message = "a command is required: train, eval, sample or inspect";
      else if (extra[0].rfind("-", 0) == 0) message = "unknown option " + extra[0];
      else message = "unknown command '" + extra[0] + "' (the commands: train, eval, sample, inspect)";
    }
    return report(kExitUsage, message + " (see 'anneal" + where + " --help')");
  }

  try {
    if (t->parsed()) {
      if (t_epochs->count()) train.epochs = epochs;
      if (t_limit->count()) train.limit = train_limit;
      if (t_threads->count()) train.threads = threads;
      if (t_seed->count()) train.seed = train_seed;
      for (int k = 0; k < argc; ++k) train.command_line += (k ? " " : "") + shell_quoted(argv[k]);
      return run_train(train);
    }
    if (e->parsed()) {
      if (e_limit->count()) eval.limit = eval_limit;
      if (e_seed->count()) eval.seed = eval_seed;
      eval.options = parse_extras(e->remaining());
      return run_eval(eval);
    }
    if (s->parsed()) {
      if (s_seed->count()) sample.seed = sample_seed;
      sample.options = parse_extras(s->remaining());
      return run_sample(sample);
    }
    return run_inspect(inspect);
  } catch (const InvalidInput& err) {
    return report(kExitUsage, err.what());
  } catch (const Error& err) {
    return report(kExitFailure, err.what());
  } catch (const std::bad_alloc&) {
    return report(kExitFailure, "out of memory");
  } catch (const std::filesystem::filesystem_error& err) {
    return report(kExitFailure, err.what());
  } catch (const std::exception& err) {
    return report(kExitFailure, std::string("internal error: ") + err.what());
  }
}
