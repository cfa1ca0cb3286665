// The `anneal` command, run as a separate process (the binary's path comes
// from the build: ANNEAL_CLI): its exit-code contract, the run directory it
// writes, bit-identical resume after stops and kills at random moments, and
// one clean line on stderr for every kind of bad input. Most runs use a tiny
// generated IDX dataset; the example configs train on Fashion-MNIST with
// --limit 500 --epochs 1.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "anneal.hpp"
#include "io/checkpoint.hpp"
#include "io/png.hpp"
#include "models/mlp_classifier.hpp"
#include "tests/cli_harness.hpp"

using namespace anneal;
using namespace anneal::cli_test;

namespace {

// A classifier graph with a stochastic op (masking noise on its input) and
// no optimizer, saved as JSON: a model.graph for the CLI to train.
std::string save_noisy_classifier(const std::string& path) {
  Graph g("noisy_classifier");
  Value x = g.input("x", {Dim::batch(), 64});
  Value labels = g.input("labels", {Dim::batch()}, DType::i32);
  Value h = relu(nn::linear(g, "enc", masking_noise(x, 0.25), 16));
  Value logits = nn::linear(g, "out", h, 3);
  g.output("logits", logits);
  g.output("loss", mean(cross_entropy(logits, labels)));
  save_graph(g, path);
  return path;
}

}  // namespace

TEST_CASE("cli: every example config trains and evaluates and samples where it can and reloads") {
  const fs::path configs = fs::path(ANNEAL_SOURCE_DIR) / "examples" / "configs";
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(configs))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(!files.empty());
  for (const fs::path& config : files) {
    CAPTURE(config.string());
    TempDir tmp;
    const std::string run = tmp / "run";
    Result t = anneal_cmd({"train", config.string(), "--out", run, "--limit", "500", "--epochs", "1"});
    REQUIRE(t.code == 0);
    CHECK(t.out.empty());
    CHECK(lines(t.err) >= 1);  // one plain line per epoch (stderr is not a terminal)
    for (const char* f : {"config.json", "graph.json", "weights.safetensors", "metrics.jsonl"})
      CHECK(fs::exists(run + "/" + f));

    // config.json: resolved and with provenance.
    json cfg = json::parse(slurp(run + "/config.json"));
    for (const char* k : {"model", "data", "train", "eval", "provenance"}) CHECK(cfg.contains(k));
    for (const char* k : {"anneal_version", "git_revision", "onednn", "cpu_isa", "threads"})
      CHECK(cfg["provenance"].contains(k));
    CHECK(cfg["data"]["limit"] == 500);
    CHECK(cfg["train"]["epochs"] == 1);
    // metrics.jsonl: one object per epoch.
    std::string metrics = slurp(run + "/metrics.jsonl");
    REQUIRE(lines(metrics) == 1);
    json m = json::parse(metrics);
    for (const char* k : {"epoch", "step", "loss", "seconds"}) CHECK(m.contains(k));
    CHECK(m["epoch"] == 1);
    CHECK(std::isfinite(m["loss"].get<double>()));
    // Pictures decode.
    for (const auto& e : fs::directory_iterator(run))
      if (e.path().extension() == ".png") CHECK(read_png(e.path().string()).width > 0);

    // eval: exactly one JSON object on one line, for the metric config.json
    // resolved. Metrics whose documented defaults take minutes get quick
    // settings (AIS: the paper's 14,500 temperatures by default).
    CHECK(cfg["eval"]["metric"].is_string());
    const std::map<std::string, std::vector<std::string>> quick = {
        {"ais", {"--ais-betas", "100", "--ais-runs", "16"}}};
    std::vector<std::string> eval_args = {"eval", run};
    if (auto q = quick.find(cfg["eval"]["metric"].get<std::string>()); q != quick.end())
      eval_args.insert(eval_args.end(), q->second.begin(), q->second.end());
    Result e = anneal_cmd(eval_args);
    REQUIRE(e.code == 0);
    REQUIRE(lines(e.out) == 1);
    json r = json::parse(e.out);
    auto it = r.begin();
    CHECK(it.key() == "metric");
    CHECK((++it).key() == "value");
    CHECK((++it).key() == "n");
    CHECK(r["n"].get<std::int64_t>() > 0);
    CHECK(r["split"] == "test");

    // sample where the kind can; else exit 2 saying so, writing nothing.
    // Kinds that sample by Gibbs steps run a short chain (1,000 steps by
    // default).
    const std::string png = tmp / "samples.png";
    Result s = anneal_cmd({"sample", run, "--n", "16", "--out", png, "--gibbs-steps", "20"});
    if (s.code == 2 && contains(s.err, "--gibbs-steps: not an option"))
      s = anneal_cmd({"sample", run, "--n", "16", "--out", png});
    if (s.code == 0) {
      CHECK(read_png(png).width > 0);
    } else {
      CHECK(s.code == 2);
      CHECK(contains(s.err, "cannot sample"));
      CHECK(lines(s.err) == 1);
      CHECK(!fs::exists(png));
    }

    // inspect, and the Graphviz form.
    Result i = anneal_cmd({"inspect", run});
    CHECK(i.code == 0);
    CHECK(contains(i.out, "parameters:"));
    Result d = anneal_cmd({"inspect", run + "/graph.json", "--dot"});
    CHECK(d.code == 0);
    CHECK(d.out.rfind("digraph", 0) == 0);

    // The saved graph reloads, saves back byte-identically and, with the
    // checkpoint, gives what eval printed.
    const std::string text = slurp(run + "/graph.json");
    std::unique_ptr<Graph> g = graph_from_json(text);
    CHECK(graph_to_json(*g) == text);
    Session session(*g, {.seed = cfg["train"]["seed"].get<std::uint64_t>()});
    load_checkpoint(session, run + "/weights.safetensors");
    if (r["metric"] == "accuracy" && cfg["data"].value("name", "") == "fashion-mnist") {
      Dataset test = scale(fashion_mnist("test"), static_cast<float>(cfg["data"]["scale"].get<double>()));
      CHECK(classification_accuracy(session, g->find("x"), g->output("logits"), test) ==
            doctest::Approx(r["value"].get<double>()).epsilon(1e-12));
    }
  }
}

TEST_CASE("cli: the mlp run directory and eval options and PNG filters") {
  Fixture fx;
  const std::string run = fx.dir / "run";
  REQUIRE(anneal_cmd({"train", fx.write_config(fx.mlp_config()), "--out", run}).code == 0);
  json m;
  std::istringstream metrics(slurp(run + "/metrics.jsonl"));
  int n = 0;
  for (std::string line; std::getline(metrics, line); ++n) m = json::parse(line);
  CHECK(n == 2);
  CHECK(m["epoch"] == 2);
  CHECK(m["step"] == 24);  // 240 training examples in batches of 20, twice
  CHECK(m.contains("valid_accuracy"));
  CHECK(m.contains("adam.lr"));
  Image filters = read_png(run + "/filters.png");
  CHECK(filters.width == 4 * 9 + 1);  // 16 tiles of 8x8 in a 4x4 grid, 1-pixel padding
  CHECK(filters.height == 4 * 9 + 1);

  Result e = anneal_cmd({"eval", run, "--metric", "loss", "--split", "valid"});
  REQUIRE(e.code == 0);
  json r = json::parse(e.out);
  CHECK(r["metric"] == "loss");
  CHECK(r["n"] == 60);
  CHECK(r["split"] == "valid");
  r = json::parse(anneal_cmd({"eval", run, "--split", "train", "--limit", "50"}).out);
  CHECK(r["metric"] == "accuracy");
  CHECK(r["n"] == 50);
  r = json::parse(anneal_cmd({"eval", run}).out);
  CHECK(r["n"] == 90);
  CHECK(r["value"].get<double>() > 0.9);  // the bands are easy to tell apart

  // Bad eval/sample usage: exit 2, one line, nothing on stdout.
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"eval", run, "--metric", "perplexity"},
           {"eval", run, "--split", "holdout"},
           {"eval", run, "--gibbs-steps", "5"},
           {"eval", fx.dir / "no-such-run"},
           {"sample", run, "--n", "4", "--out", fx.dir / "s.png"},
           {"sample", run, "--n", "0", "--out", fx.dir / "s.png"},
           {"inspect", fx.dir / "missing.json"},
       }) {
    check_usage_error(args, {});
  }
}

TEST_CASE("cli: stop and resume is bit-identical to an uninterrupted run") {
  Fixture fx;
  json noisy = fx.mlp_config();
  noisy["model"] = {{"graph", save_noisy_classifier(fx.dir / "noisy.json")}};
  for (const json& config : {fx.mlp_config(), noisy}) {
    const std::string cfg = fx.write_config(config);
    CAPTURE(config["model"].dump());
    const std::string straight = fx.dir / "straight", resumed = fx.dir / "resumed";
    fs::remove_all(straight);
    fs::remove_all(resumed);
    REQUIRE(anneal_cmd({"train", cfg, "--out", straight}).code == 0);
    REQUIRE(anneal_cmd({"train", cfg, "--out", resumed, "--epochs", "1"}).code == 0);
    CHECK(checkpoint_of(resumed).extra.at("epoch") == "1");
    CHECK(slurp(straight + "/weights.safetensors") != slurp(resumed + "/weights.safetensors"));
    REQUIRE(anneal_cmd({"train", cfg, "--out", resumed, "--resume", "--epochs", "2"}).code == 0);
    CHECK(slurp(straight + "/weights.safetensors") == slurp(resumed + "/weights.safetensors"));
    // The metrics agree too (apart from the times).
    auto losses = [](const std::string& dir) {
      std::vector<double> v;
      std::istringstream in(slurp(dir + "/metrics.jsonl"));
      for (std::string line; std::getline(in, line);) v.push_back(json::parse(line)["loss"].get<double>());
      return v;
    };
    CHECK(losses(straight) == losses(resumed));
    CHECK(json::parse(slurp(resumed + "/config.json"))["train"]["epochs"] == 2);
  }
}

TEST_CASE("cli: a run killed or interrupted at random moments resumes to the same bytes") {
  Fixture fx;
  json c = fx.mlp_config();
  c["train"]["batch_size"] = 4;  // more steps, so signals land inside epochs too
  const std::string cfg = fx.write_config(c);
  const std::string straight = fx.dir / "straight";
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(anneal_cmd({"train", cfg, "--out", straight}).code == 0);
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string expected = slurp(straight + "/weights.safetensors");

  std::mt19937 rng(12345);
  int interrupted = 0, killed = 0;
  for (int trial = 0; trial < 8; ++trial) {
    CAPTURE(trial);
    const std::string run = fx.dir / ("run" + std::to_string(trial));
    const std::string o = fx.dir / "o", e = fx.dir / "e";
    pid_t pid = spawn({"train", cfg, "--out", run}, o, e);
    // Trials 0 and 1 stop the first epoch for sure: the signal handlers are
    // in place before the initial checkpoint appears and training starts right
    // after it (an epoch here takes milliseconds, so signal at once). The rest
    // stop anywhere.
    const int sig = trial == 0 ? SIGINT : trial == 1 ? SIGTERM : trial % 2 == 0 ? SIGINT : SIGKILL;
    if (trial < 2) {
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (!fs::exists(run + "/weights.safetensors") && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    } else {
      std::this_thread::sleep_for(
          std::chrono::duration<double>(total * std::uniform_real_distribution<double>(0.05, 0.95)(rng)));
    }
    ::kill(pid, sig);
    Result r = finish(pid, o, e);
    CAPTURE(r.err);
    if (trial < 2) {
      CHECK(r.code == 128 + sig);  // stopped at a step boundary with a checkpoint
      CHECK(contains(r.err, "--resume"));
      CHECK(checkpoint_of(run).extra.at("batch") != "0");
    }
    if (r.code == 128 + sig) ++interrupted;
    if (r.code == -SIGKILL || r.code == -SIGINT) ++killed;
    // Whatever state it was left in, --resume finishes the same run.
    Result again = anneal_cmd({"train", cfg, "--out", run, "--resume"});
    CAPTURE(again.err);
    REQUIRE(again.code == 0);
    CHECK(slurp(run + "/weights.safetensors") == expected);
    for (const auto& entry : fs::directory_iterator(run))
      CHECK(!contains(entry.path().filename().string(), ".tmp."));
  }
  MESSAGE(interrupted << " runs stopped by SIGINT/SIGTERM with a checkpoint and " << killed
                      << " killed outright resumed identically");
}

TEST_CASE("cli: resuming a finished run does nothing and a non-empty directory needs --resume") {
  Fixture fx;
  const std::string cfg = fx.write_config(fx.mlp_config());
  const std::string run = fx.dir / "run";
  REQUIRE(anneal_cmd({"train", cfg, "--out", run}).code == 0);
  const auto before = snapshot(run);
  Result r = anneal_cmd({"train", cfg, "--out", run, "--resume"});
  CHECK(r.code == 0);
  CHECK(contains(r.err, "nothing to do"));
  CHECK(snapshot(run) == before);

  // Without --resume: exit 2, one line naming the directory, nothing touched.
  Result again = anneal_cmd({"train", cfg, "--out", run});
  CHECK(again.code == 2);
  CHECK(lines(again.err) == 1);
  CHECK(contains(again.err, run));
  CHECK(snapshot(run) == before);
  const std::string other = fx.dir / "other";
  fs::create_directories(other);
  write_text(other + "/notes.txt", "mine");
  Result foreign = anneal_cmd({"train", cfg, "--out", other});
  CHECK(foreign.code == 2);
  CHECK(snapshot(other) == std::map<std::string, std::string>{{"notes.txt", "mine"}});
  // --resume in a directory that is not a run: exit 2, untouched.
  Result not_run = anneal_cmd({"train", cfg, "--out", other, "--resume"});
  CHECK(not_run.code == 2);
  CHECK(contains(not_run.err, "config.json"));
  CHECK(snapshot(other) == std::map<std::string, std::string>{{"notes.txt", "mine"}});
  // A resumed run keeps its config, seed and data.
  json changed = fx.mlp_config();
  changed["train"]["batch_size"] = 30;
  Result diff = anneal_cmd({"train", fx.write_config(changed, "changed.json"), "--out", run, "--resume", "--epochs", "3"});
  CHECK(diff.code == 2);
  CHECK(contains(diff.err, "train.batch_size"));
  CHECK(anneal_cmd({"train", cfg, "--out", run, "--resume", "--seed", "8", "--epochs", "3"}).code == 2);
  CHECK(snapshot(run) == before);
  // Stale temporary files of killed writes go when a run resumes.
  write_text(run + "/weights.safetensors.tmp.999999.0", "partial");
  REQUIRE(anneal_cmd({"train", cfg, "--out", run, "--resume", "--epochs", "3"}).code == 0);
  CHECK(!fs::exists(run + "/weights.safetensors.tmp.999999.0"));
  CHECK(checkpoint_of(run).extra.at("epoch") == "3");
}

TEST_CASE("cli: bad configs and graphs and data and flags exit 2 with one line naming the file and JSON path") {
  Fixture fx;
  const std::string garbage = fx.dir / "garbage.idx";
  write_text(garbage, "this is not an IDX file");
  const std::string short_labels = fx.dir / "short-labels.idx";
  write_idx(short_labels, {299}, std::vector<std::uint8_t>(299, 0));
  const std::string bad_graph = fx.dir / "bad-graph.json";
  write_text(bad_graph, "{\"format\": \"anneal.graph\", \"version\": 1, \"nodes\": 3}");

  struct Case {
    std::string name;
    std::function<void(json&)> edit;
    std::vector<std::string> expect;  // substrings of the message
  };
  const std::vector<Case> cases = {
      {"unknown top-level key", [](json& c) { c["modle"] = 1; }, {"modle", "unknown key"}},
      {"unknown nested key", [](json& c) { c["train"]["optimizers"][0]["lrr"] = 0.1; },
       {"train.optimizers[0].lrr", "unknown key"}},
      {"unknown data key", [](json& c) { c["data"]["validaton"] = 0.1; }, {"data.validaton"}},
      {"wrong type", [](json& c) { c["train"]["epochs"] = "ten"; }, {"train.epochs", "integer"}},
      {"wrong type in a list", [](json& c) { c["model"]["hidden"] = {16, "wide"}; }, {"model.hidden[1]"}},
      {"out of range", [](json& c) { c["data"]["validation"] = 1.5; }, {"data.validation"}},
      {"missing section", [](json& c) { c.erase("train"); }, {"train", "required"}},
      {"unknown kind", [](json& c) { c["model"]["kind"] = "transformer"; }, {"model.kind", "mlp"}},
      {"kind and graph", [](json& c) { c["model"]["graph"] = "g.json"; }, {"model"}},
      {"missing file", [](json& c) { c["data"]["train_images"] = "nope.idx"; }, {"data.train_images", "nope.idx"}},
      {"bad IDX", [&](json& c) { c["data"]["train_images"] = garbage; }, {"data.train_images", garbage}},
      {"label count", [&](json& c) { c["data"]["train_labels"] = short_labels; },
       {"data.train_labels", short_labels}},
      {"bad graph", [&](json& c) { c["model"] = {{"graph", bad_graph}}; }, {"model.graph", bad_graph}},
      {"unknown optimizer kind", [](json& c) { c["train"]["optimizers"][0]["kind"] = "lbfgs"; },
       {"train.optimizers[0].kind"}},
      {"unknown schedule kind", [](json& c) { c["train"]["optimizers"][0]["schedules"]["lr"]["kind"] = "warm"; },
       {"train.optimizers[0].schedules.lr.kind"}},
      {"nothing to schedule", [](json& c) { c["train"]["optimizers"][0]["schedules"]["weight_decay"] = {{"kind", "cosine"}}; },
       {"train.optimizers[0].schedules.weight_decay"}},
      {"overlapping groups",
       [](json& c) { c["train"]["optimizers"].push_back({{"kind", "sgd"}, {"params", "fc1."}}); },
       {"train.optimizers[1].params", "fc1.W"}},
      {"empty group", [](json& c) { c["train"]["optimizers"][0]["params"] = "decoder."; },
       {"train.optimizers[0].params", "no parameter"}},
      {"unknown metric", [](json& c) { c["eval"] = {{"metric", "bleu"}}; }, {"eval.metric", "bleu"}},
      {"too few classes", [](json& c) { c["model"]["classes"] = 2; }, {"model.classes"}},
  };
  for (const Case& k : cases) {
    CAPTURE(k.name);
    json c = fx.mlp_config();
    k.edit(c);
    const std::string cfg = fx.write_config(c, "bad.json");
    const std::string run = fx.dir / "never";
    Result r = anneal_cmd({"train", cfg, "--out", run});
    CHECK(r.code == 2);
    CHECK(lines(r.err) == 1);
    CHECK(contains(r.err, cfg));
    for (const auto& s : k.expect) CHECK_MESSAGE(contains(r.err, s), "expected '" << s << "' in: " << r.err);
    CHECK(!fs::exists(run));
  }

  // Not JSON, a duplicate key, a missing config file.
  const std::string cfg = fx.dir / "raw.json";
  write_text(cfg, "{\"model\": {\"kind\": \"mlp\",}}");
  Result r = anneal_cmd({"train", cfg, "--out", fx.dir / "never"});
  CHECK(r.code == 2);
  CHECK(contains(r.err, cfg + ": byte"));
  write_text(cfg, "{\"model\": {\"kind\": \"mlp\"}, \"train\": {\"epochs\": 1, \"epochs\": 2}}");
  r = anneal_cmd({"train", cfg, "--out", fx.dir / "never"});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "train.epochs: duplicate key"));
  r = anneal_cmd({"train", fx.dir / "absent.json", "--out", fx.dir / "never"});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "absent.json"));

  // Unknown flags and commands, missing and malformed arguments.
  const std::string good = fx.write_config(fx.mlp_config());
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"train", good, "--out", fx.dir / "never", "--bogus"},
           {"train", "--config", good, "--out", fx.dir / "never"},
           {"train", good},
           {"train", good, "--out", fx.dir / "never", "--epochs", "many"},
           {"train", good, "--out", fx.dir / "never", "--epochs", "0"},
           {"frobnicate"},
           {},
       }) {
    Result u = anneal_cmd(args);
    std::string command;
    for (const auto& a : args) command += " " + a;
    CAPTURE(command);
    CAPTURE(u.err);
    CHECK(u.code == 2);
    CHECK(lines(u.err) == 1);
    CHECK(!fs::exists(fx.dir / "never"));
  }
  CHECK(contains(anneal_cmd({"train", good, "--out", fx.dir / "never", "--bogus"}).err, "--bogus"));
  CHECK(anneal_cmd({"--help"}).code == 0);
}

TEST_CASE("cli: NaN in training exits 1 naming the node and keeps the last good checkpoint") {
  Fixture fx;
  // SGD whose learning rate jumps by 1e12 after the first epoch.
  json c = fx.mlp_config();
  c["train"]["optimizers"] = json::array(
      {{{"kind", "sgd"}, {"lr", 0.05}, {"schedules", {{"lr", {{"kind", "step"}, {"factor", 1e12}, {"every", 1}}}}}}});
  const std::string cfg = fx.write_config(c);
  const std::string run = fx.dir / "run", one = fx.dir / "one";
  Result r = anneal_cmd({"train", cfg, "--out", run, "--epochs", "3"});
  CHECK(r.code == 1);
  CHECK(lines(r.err) == 2);  // epoch 1's line, then the error
  CHECK(contains(r.err, "non-finite"));
  CHECK(contains(r.err, "node '"));
  CHECK(contains(r.err, "epoch 2"));
  CHECK(checkpoint_of(run).extra.at("epoch") == "1");
  REQUIRE(anneal_cmd({"train", cfg, "--out", one, "--epochs", "1"}).code == 0);
  CHECK(slurp(run + "/weights.safetensors") == slurp(one + "/weights.safetensors"));
  // The failed run is still a valid run directory.
  CHECK(anneal_cmd({"eval", run}).code == 0);
}

TEST_CASE("cli: model.graph trains a saved graph with the optimizers it records or the config's") {
  Fixture fx;
  // A graph without optimizers: the config's are added.
  json c = fx.mlp_config();
  c["model"] = {{"graph", save_noisy_classifier(fx.dir / "noisy.json")}};
  c["train"]["optimizers"] = json::array({{{"kind", "sgd"}, {"lr", 0.1}, {"momentum", 0.9}, {"select", "weights"}},
                                          {{"name", "bias"}, {"kind", "adam"}, {"select", "biases"}}});
  const std::string first = fx.dir / "first";
  REQUIRE(anneal_cmd({"train", fx.write_config(c), "--out", first}).code == 0);
  json r = json::parse(anneal_cmd({"eval", first}).out);
  CHECK(r["metric"] == "accuracy");  // the graph has logits and labels
  // The run stands on its own: its graph.json, not the file it came from.
  fs::remove(fx.dir / "noisy.json");
  CHECK(anneal_cmd({"eval", first}).out == json::parse(anneal_cmd({"eval", first}).out).dump() + "\n");
  CHECK(anneal_cmd({"inspect", first}).code == 0);

  // Its graph.json records both optimizers: train it again from the file,
  // scheduling a recorded optimizer's learning rate by name.
  json again = fx.mlp_config();
  again["model"] = {{"graph", first + "/graph.json"}};
  again["train"]["optimizers"] = json::array({{{"name", "sgd"}, {"schedules", {{"lr", {{"kind", "linear"}, {"to", 0.0}}}}}}});
  const std::string second = fx.dir / "second";
  REQUIRE(anneal_cmd({"train", fx.write_config(again, "again.json"), "--out", second, "--epochs", "1"}).code == 0);
  json resolved = json::parse(slurp(second + "/config.json"));
  CHECK(resolved["train"]["optimizers"].size() == 2);
  CHECK(resolved["train"]["optimizers"][0]["schedules"]["lr"]["from"] == 0.1);  // the recorded value
  CHECK(json::parse(anneal_cmd({"eval", second, "--metric", "loss"}).out)["metric"] == "loss");

  // Entries must name recorded optimizers and may not regroup parameters.
  again["train"]["optimizers"] = json::array({{{"name", "rmsprop"}}});
  Result bad = anneal_cmd({"train", fx.write_config(again, "again.json"), "--out", fx.dir / "never"});
  CHECK(bad.code == 2);
  CHECK(contains(bad.err, "train.optimizers[0].name"));
  again["train"]["optimizers"] = json::array({{{"name", "sgd"}, {"params", "enc."}}});
  bad = anneal_cmd({"train", fx.write_config(again, "again.json"), "--out", fx.dir / "never"});
  CHECK(bad.code == 2);
  CHECK(contains(bad.err, "train.optimizers[0].params"));
}
