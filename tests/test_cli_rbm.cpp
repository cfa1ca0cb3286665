// The RBM kinds of the `anneal` command (cli/kind_rbm*.cpp), run as a
// separate process on the harness' tiny 8x8 images (binarized) or on small
// generated datasets: the monitors each epoch, the exact and AIS
// log-likelihoods, sampling, bit-identical resume of PCD and of a stack
// across its stages, and one clean line naming the JSON path for bad RBM
// configs. (The shipped examples/configs/*.json train in test_cli.cpp.)
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <sstream>
#include <thread>

#include "io/png.hpp"
#include "io/safetensors.hpp"
#include "tests/cli_harness.hpp"

using namespace anneal;
using namespace anneal::cli_test;

namespace {

// A 64-10 RBM over the fixture's binarized images (the exact partition
// function enumerates its 2^10 hidden configurations), the classic SGD
// recipe by default, and quick pictures.
json rbm_config(const Fixture& fx, const std::string& kind = "rbm", json hidden = 10) {
  json c;
  c["model"] = {{"kind", kind}, {"hidden", hidden}};
  c["data"] = fx.data();
  c["data"]["binarize"] = 0.5;
  c["train"] = {{"epochs", 2},
                {"batch_size", 20},
                {"seed", 3},
                {"pictures", {{"samples", 4}, {"gibbs_steps", 5}, {"reconstructions", 6}}}};
  return c;
}

std::vector<json> metric_lines(const std::string& run) {
  std::vector<json> out;
  std::istringstream in(slurp(run + "/metrics.jsonl"));
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

json eval_json(const std::vector<std::string>& args) {
  Result r = anneal_cmd(args);
  CAPTURE(r.err);
  REQUIRE(r.code == 0);
  REQUIRE(lines(r.out) == 1);
  return json::parse(r.out);
}

Tensor weight(const std::string& run, const std::string& name) {
  return load_safetensors(run + "/weights.safetensors").tensors.at(name);
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.numel() == b.numel() &&
         std::equal(a.data<float>(), a.data<float>() + a.numel(), b.data<float>());
}

}  // namespace

TEST_CASE("cli rbm: a run reports its monitors each epoch and exact and AIS agree on log Z") {
  Fixture fx;
  const std::string run = fx.dir / "run";
  Result t = anneal_cmd({"train", fx.write_config(rbm_config(fx)), "--out", run});
  CAPTURE(t.err);
  REQUIRE(t.code == 0);

  // Monitors: reconstruction error, pseudo-log-likelihood, free energies on
  // the training examples and the validation split, and their gap.
  std::vector<json> m = metric_lines(run);
  REQUIRE(m.size() == 2);
  for (const char* k : {"loss", "recon_error", "pll", "free_energy", "free_energy_valid", "free_energy_gap",
                        "weights.momentum", "biases.momentum", "seconds"})
    CHECK_MESSAGE(m[1].contains(k), k);
  CHECK(m[1]["free_energy_gap"].get<double>() ==
        doctest::Approx(m[1]["free_energy_valid"].get<double>() - m[1]["free_energy"].get<double>()));
  CHECK(m[1]["pll"].get<double>() < 0);
  for (const char* f : {"filters.png", "reconstructions.png", "samples_gibbs5.png"})
    CHECK_MESSAGE(read_png(run + "/" + f).width > 0, f);

  // The resolved config: the classic optimizers in two groups, CD-1, and
  // the exact metric (2^10 hidden configurations) as eval's default.
  json cfg = json::parse(slurp(run + "/config.json"));
  CHECK(cfg["model"]["visible"] == 64);
  CHECK(cfg["model"]["item_shape"] == json::array({8, 8}));
  CHECK(cfg["train"]["cd"]["k"] == 1);
  CHECK(cfg["train"]["optimizers"][0]["select"] == "weights");
  CHECK(cfg["train"]["optimizers"][0]["weight_decay"] == 0.0002);
  CHECK(cfg["train"]["optimizers"][1]["select"] == "biases");
  CHECK(cfg["train"]["optimizers"][1]["weight_decay"] == 0.0);
  CHECK(cfg["eval"]["metric"] == "exact");

  json exact = eval_json({"eval", run});
  CHECK(exact["metric"] == "exact");
  CHECK(exact["n"] == 90);
  CHECK(exact["value"] == exact["test_loglik"]);
  CHECK(exact["test_loglik"].get<double>() < 0);
  const double log_z = exact["log_z"].get<double>();
  CHECK(std::isfinite(log_z));
  json ais = eval_json({"eval", run, "--metric", "ais", "--ais-betas", "2000", "--ais-runs", "100"});
  CHECK(ais["betas"] == 2000);
  CHECK(ais["runs"] == 100);
  CHECK(std::abs(ais["log_z"].get<double>() - log_z) < 0.2);
  CHECK(ais["log_z_hi"].get<double>() >= ais["log_z"].get<double>());
  CHECK(ais["test_loglik"].get<double>() ==
        doctest::Approx(exact["test_loglik"].get<double>() - (ais["log_z"].get<double>() - log_z)));
  for (const char* metric : {"recon", "pll"}) {
    json r = eval_json({"eval", run, "--metric", metric, "--split", "valid"});
    CHECK(r["n"] == 60);
    CHECK(std::isfinite(r["value"].get<double>()));
  }

  // Samples after K Gibbs steps from random states.
  const std::string png = fx.dir / "samples.png";
  REQUIRE(anneal_cmd({"sample", run, "--n", "9", "--out", png, "--gibbs-steps", "20"}).code == 0);
  CHECK(read_png(png).width == 3 * 9 + 1);  // 3x3 tiles of 8x8, 1-pixel padding
}

TEST_CASE("cli rbm: exact names its limit and bad metric and sample options exit 2 with one line") {
  Fixture fx;
  json c = rbm_config(fx, "rbm", 30);  // 2^30 hidden and 2^64 visible configurations
  c["train"]["epochs"] = 1;
  const std::string run = fx.dir / "run";
  REQUIRE(anneal_cmd({"train", fx.write_config(c), "--out", run}).code == 0);
  CHECK(json::parse(slurp(run + "/config.json"))["eval"]["metric"] == "ais");

  check_usage_error({"eval", run, "--metric", "exact"}, {"2^25", "25 binary units", "--metric ais"});
  check_usage_error({"eval", run, "--metric", "ais", "--ais-betas", "1"}, {"--ais-betas"});
  check_usage_error({"eval", run, "--metric", "ais", "--ais-runs", "many"}, {"--ais-runs"});
  check_usage_error({"eval", run, "--metric", "recon", "--ais-betas", "10"}, {"--ais-betas", "metric recon"});
  check_usage_error({"eval", run, "--metric", "accuracy"}, {"accuracy", "ais, exact, recon, pll"});
  check_usage_error({"sample", run, "--n", "4", "--out", fx.dir / "s.png", "--gibbs-steps", "-1"}, {"--gibbs-steps"});
  check_usage_error({"sample", run, "--n", "4", "--out", fx.dir / "s.png", "--doc-length", "5"}, {"--doc-length"});
  CHECK(!fs::exists(fx.dir / "s.png"));
}

TEST_CASE("cli rbm: a PCD run resumes bit-identically with its persistent chains in the checkpoint") {
  Fixture fx;
  json c = rbm_config(fx);
  c["train"]["epochs"] = 3;
  c["train"]["batch_size"] = 4;  // more steps, so a stop lands inside an epoch
  c["train"]["cd"] = {{"k", 2}, {"persistent", true}, {"chains", 16}};
  const std::string cfg = fx.write_config(c);
  const std::string straight = fx.dir / "straight", resumed = fx.dir / "resumed", stopped = fx.dir / "stopped";
  REQUIRE(anneal_cmd({"train", cfg, "--out", straight}).code == 0);
  const Tensor chains = weight(straight, "state.rbm.pcd.chains");
  CHECK(chains.shape() == Dims{16, 64});
  CHECK(*std::max_element(chains.data<float>(), chains.data<float>() + chains.numel()) == 1.f);

  // Stopped at an epoch boundary, then resumed.
  REQUIRE(anneal_cmd({"train", cfg, "--out", resumed, "--epochs", "1"}).code == 0);
  REQUIRE(anneal_cmd({"train", cfg, "--out", resumed, "--resume", "--epochs", "3"}).code == 0);
  CHECK(slurp(straight + "/weights.safetensors") == slurp(resumed + "/weights.safetensors"));
  auto losses = [](const std::string& dir) {
    std::vector<double> v;
    for (const json& l : metric_lines(dir)) v.push_back(l["loss"].get<double>());
    return v;
  };
  CHECK(losses(straight) == losses(resumed));

  // Stopped by SIGINT (most likely inside the first epoch), then resumed.
  const std::string o = fx.dir / "o", e = fx.dir / "e";
  pid_t pid = spawn({"train", cfg, "--out", stopped}, o, e);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!fs::exists(stopped + "/weights.safetensors") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  ::kill(pid, SIGINT);
  Result r = finish(pid, o, e);
  CAPTURE(r.err);
  CHECK((r.code == 0 || r.code == 128 + SIGINT));
  REQUIRE(anneal_cmd({"train", cfg, "--out", stopped, "--resume"}).code == 0);
  CHECK(slurp(straight + "/weights.safetensors") == slurp(stopped + "/weights.safetensors"));
}

TEST_CASE("cli rbm: a stack trains its layers one after another and resumes across them") {
  Fixture fx;
  json c = rbm_config(fx, "rbm_stack", json::array({12, 6}));
  c["train"]["epochs"] = 3;
  c["train"]["layer_epochs"] = json::array({1, 2});
  const std::string cfg = fx.write_config(c);
  const std::string straight = fx.dir / "straight", resumed = fx.dir / "resumed";
  REQUIRE(anneal_cmd({"train", cfg, "--out", straight}).code == 0);
  std::vector<json> m = metric_lines(straight);
  REQUIRE(m.size() == 3);
  CHECK(m[0]["stage"] == "rbm1");
  CHECK(m[1]["stage"] == "rbm2");
  CHECK(m[2]["stage"] == "rbm2");
  CHECK(m[0].contains("rbm1.weights.momentum"));
  CHECK(!m[1].contains("rbm1.weights.momentum"));
  CHECK(m[1].contains("rbm2.weights.momentum"));
  // Each layer's schedules start with its stage: momentum 0.5 -> 0.9 over 5 epochs.
  CHECK(m[1]["rbm2.weights.momentum"].get<double>() == doctest::Approx(m[0]["rbm1.weights.momentum"].get<double>()));
  for (const char* k : {"recon_error", "pll", "free_energy_gap"}) CHECK_MESSAGE(m[0].contains(k), k);

  // The first layer stays as it was once the second one trains; a run
  // stopped between the stages resumes to the same bytes.
  REQUIRE(anneal_cmd({"train", cfg, "--out", resumed, "--epochs", "1"}).code == 0);
  const Tensor w1 = weight(resumed, "rbm1.W"), w2 = weight(resumed, "rbm2.W");
  REQUIRE(anneal_cmd({"train", cfg, "--out", resumed, "--resume", "--epochs", "3"}).code == 0);
  CHECK(same_bytes(w1, weight(resumed, "rbm1.W")));
  CHECK(!same_bytes(w2, weight(resumed, "rbm2.W")));
  CHECK(slurp(straight + "/weights.safetensors") == slurp(resumed + "/weights.safetensors"));

  json r = eval_json({"eval", straight});
  CHECK(r["metric"] == "recon");
  CHECK(r["n"] == 90);
  const std::string png = fx.dir / "samples.png";
  REQUIRE(anneal_cmd({"sample", straight, "--n", "4", "--out", png, "--gibbs-steps", "10"}).code == 0);
  CHECK(read_png(png).width == 2 * 9 + 1);
}

TEST_CASE("cli rbm: generated datasets resolve their options and softmax kinds train on them") {
  TempDir dir;
  // Ratings: 6 items on a 3-level scale; the group size comes from the data.
  json ratings;
  ratings["model"] = {{"kind", "softmax_rbm"}, {"hidden", 4}};
  ratings["data"] = {{"name", "synthetic-ratings"}, {"users", 200}, {"test_users", 40}, {"items", 6}, {"levels", 3}};
  ratings["train"] = {{"epochs", 1}, {"batch_size", 20}, {"pictures", {{"samples", 4}, {"gibbs_steps", 3}}}};
  const std::string ratings_file = dir / "ratings.json";
  write_text(ratings_file, ratings.dump());
  const std::string r1 = dir / "ratings";
  REQUIRE(anneal_cmd({"train", ratings_file, "--out", r1}).code == 0);
  json cfg = json::parse(slurp(r1 + "/config.json"));
  CHECK(cfg["model"]["group_size"] == 3);
  CHECK(cfg["data"]["factors"] == 8);  // a generator default, written out
  CHECK(cfg["data"]["scale"] == 1.0);
  json exact = eval_json({"eval", r1});
  CHECK(exact["metric"] == "exact");
  CHECK(exact["n"] == 40);
  CHECK(exact["value"].get<double>() > -6 * std::log(3.0) - 3);  // about uniform ratings, or better

  // A topic corpus: the longest training document sets max_doc_length.
  json corpus;
  corpus["model"] = {{"kind", "replicated_softmax"}, {"hidden", 5}};
  corpus["data"] = {{"name", "topic-corpus"}, {"documents", 200}, {"test_documents", 20}, {"vocabulary", 16},
                    {"topics", 4},            {"min_length", 4},  {"max_length", 12}};
  corpus["train"] = {{"epochs", 1}, {"batch_size", 20}, {"pictures", {{"samples", 4}, {"gibbs_steps", 3}}}};
  const std::string corpus_file = dir / "corpus.json";
  write_text(corpus_file, corpus.dump());
  const std::string r2 = dir / "corpus";
  REQUIRE(anneal_cmd({"train", corpus_file, "--out", r2}).code == 0);
  cfg = json::parse(slurp(r2 + "/config.json"));
  CHECK(cfg["model"]["max_doc_length"].get<int>() <= 12);
  CHECK(cfg["model"]["max_doc_length"].get<int>() >= 8);
  CHECK(json::parse(slurp(r2 + "/config.json"))["eval"]["metric"] == "recon");
  const std::string png = dir / "docs.png";
  REQUIRE(anneal_cmd({"sample", r2, "--n", "4", "--out", png, "--doc-length", "5", "--gibbs-steps", "3"}).code == 0);
  CHECK(read_png(png).width == 2 * 5 + 1);  // 4x4 tiles of the 16-word vocabulary
  check_usage_error({"sample", r2, "--n", "4", "--out", png, "--doc-length", "100"}, {"--doc-length"});
  check_usage_error({"eval", r2, "--metric", "ais"}, {"ais", "recon"});
}

TEST_CASE("cli rbm: bad RBM configs exit 2 with one line naming the file and JSON path") {
  Fixture fx;
  struct Case {
    std::string name;
    std::function<void(json&)> edit;
    std::vector<std::string> expect;
  };
  auto kind = [](const std::string& k) { return [k](json& c) { c["model"]["kind"] = k; }; };
  const std::vector<Case> cases = {
      {"unknown model key", [](json& c) { c["model"]["hiden"] = 5; }, {"model.hiden", "unknown key"}},
      {"no hidden units", [](json& c) { c["model"]["hidden"] = 0; }, {"model.hidden"}},
      {"wrong visible", [](json& c) { c["model"]["visible"] = 10; }, {"model.visible", "64"}},
      {"wrong item shape", [](json& c) { c["model"]["item_shape"] = {7, 7}; }, {"model.item_shape"}},
      {"unknown cd key", [](json& c) { c["train"]["cd"] = {{"kk", 2}}; }, {"train.cd.kk", "unknown key"}},
      {"chains without PCD", [](json& c) { c["train"]["cd"] = {{"chains", 10}}; }, {"train.cd.chains", "persistent"}},
      {"sparsity without a cost", [](json& c) { c["train"]["sparsity"] = {{"target", 0.1}}; },
       {"train.sparsity.cost", "required"}},
      {"sparsity of gaussian hiddens",
       [](json& c) {
         c["model"]["hidden_type"] = "gaussian";
         c["train"]["sparsity"] = {{"target", 0.1}, {"cost", 0.1}};
       },
       {"train.sparsity", "bernoulli"}},
      {"bad pictures", [](json& c) { c["train"]["pictures"]["samples"] = -1; }, {"train.pictures.samples"}},
      {"gaussian both ways",
       [&](json& c) {
         kind("grbm")(c);
         c["model"]["hidden_type"] = "gaussian";
       },
       {"model.hidden_type", "improper"}},
      {"group size", [&](json& c) { kind("softmax_rbm")(c); c["model"]["group_size"] = 5; }, {"model.group_size"}},
      {"short documents",
       [&](json& c) {
         kind("replicated_softmax")(c);
         c["data"].erase("binarize");
         c["data"]["scale"] = 0.1;
         c["model"]["max_doc_length"] = 3;
       },
       {"model.max_doc_length", "training document"}},
      {"PCD of documents",
       [&](json& c) {
         kind("replicated_softmax")(c);
         c["train"]["cd"] = {{"persistent", true}};
       },
       {"train.cd.persistent", "document lengths"}},
      {"classes without labels",
       [&](json& c) {
         kind("class_rbm")(c);
         c["data"].erase("train_labels");
         c["data"].erase("test_labels");
       },
       {"data", "labels"}},
      {"hybrid without weights",
       [&](json& c) {
         kind("class_rbm")(c);
         c["train"]["generative_weight"] = 0;
       },
       {"train.generative_weight"}},
      {"layer epochs",
       [](json& c) {
         c["model"] = {{"kind", "rbm_stack"}, {"hidden", {8, 4}}};
         c["train"]["layer_epochs"] = {1, 2, 3};
       },
       {"train.layer_epochs", "2"}},
      {"optimizer across layers",
       [](json& c) {
         c["model"] = {{"kind", "rbm_stack"}, {"hidden", {8, 4}}};
         c["train"]["optimizers"] = json::array({{{"kind", "sgd"}, {"lr", 0.1}}});
       },
       {"train.optimizers[0].params", "rbm1.W", "rbm2.W", "stages"}},
      {"generator keys", [](json& c) { c["data"] = {{"name", "topic-corpus"}, {"topics", 500}}; }, {"data.topics"}},
      {"generator dir", [](json& c) { c["data"] = {{"name", "synthetic-ratings"}, {"dir", "/tmp"}}; }, {"data.dir"}},
  };
  for (const Case& k : cases) {
    CAPTURE(k.name);
    json c = rbm_config(fx);
    k.edit(c);
    const std::string cfg = fx.write_config(c, "bad.json");
    const std::string run = fx.dir / "never";
    check_usage_error({"train", cfg, "--out", run}, k.expect);
    CHECK(anneal_cmd({"train", cfg, "--out", run}).err.find(cfg) != std::string::npos);
    CHECK(!fs::exists(run));
  }
}
