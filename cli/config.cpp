#include "cli/config.hpp"

#include <filesystem>
#include <limits>

#include "backend/error.hpp"
#include "cli/generated_data.hpp"
#include "cli/model_kind.hpp"
#include "data/dataset.hpp"
#include "io/atomic_file.hpp"

namespace anneal::cli {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kMaxCount = std::int64_t{1} << 31;

std::string absolute_path(const std::string& base_dir, const std::string& p) {
  fs::path path(p);
  if (path.is_relative()) path = fs::path(base_dir) / path;
  return fs::absolute(path).lexically_normal().string();
}

// A path from the config that must name an existing regular file (checked
// unless `check` is false).
std::string existing_file(Section& s, const std::string& key, const std::string& base_dir, bool check) {
  std::string given = s.string(key, "");
  if (given.empty()) fail_at(s.path(key), "expected a file path, got an empty string");
  std::string p = absolute_path(base_dir, given);
  if (!check) return p;
  std::error_code ec;
  auto st = fs::status(p, ec);
  if (!fs::exists(st)) fail_at(s.path(key), "no such file: " + p);
  if (fs::is_directory(st)) fail_at(s.path(key), p + " is a directory, not a file");
  return p;
}

DataConfig parse_data(Section& d, const std::string& base_dir, bool check) {
  DataConfig c;
  const std::vector<std::string> files = {"train_images", "train_labels", "test_images", "test_labels"};
  std::optional<std::string> name = d.optional_string("name");
  std::vector<std::string> names = {"fashion-mnist"};
  names.insert(names.end(), kGeneratedDatasets.begin(), kGeneratedDatasets.end());
  if (name) {
    c.name = d.choice("name", "", names);
    for (const auto& f : files)
      if (d.has(f)) fail_at(d.path(f), "give either \"name\" (a known dataset) or explicit IDX files, not both");
    if (is_generated_dataset(c.name)) {
      if (d.has("dir")) fail_at(d.path("dir"), "\"" + c.name + "\" is generated; it has no directory");
      c.generator = resolve_generated(c.name, d);
      c.scale = 1.0;  // counts and one-hot values, not bytes
    } else {
      c.dir = absolute_path(base_dir, d.string("dir", kFashionMnistDir));
      if (check && !fs::is_directory(c.dir))
        fail_at(d.path("dir"), "no such directory: " + c.dir +
                                   (d.has("dir") ? "" : " (Debian's dataset-fashion-mnist package installs it)"));
    }
  } else {
    if (d.has("dir")) fail_at(d.path("dir"), "\"dir\" goes with \"name\"; explicit IDX files give their own paths");
    if (!d.has("train_images"))
      fail_at(d.path(), "give \"name\": \"fashion-mnist\" or explicit IDX files (\"train_images\", optional "
                        "\"train_labels\", \"test_images\", \"test_labels\")");
    c.train_images = existing_file(d, "train_images", base_dir, check);
    if (d.has("train_labels")) c.train_labels = existing_file(d, "train_labels", base_dir, check);
    if (d.has("test_images")) c.test_images = existing_file(d, "test_images", base_dir, check);
    if (d.has("test_labels")) {
      if (c.test_images.empty()) fail_at(d.path("test_labels"), "test labels without \"test_images\"");
      c.test_labels = existing_file(d, "test_labels", base_dir, check);
    }
    if (!c.test_images.empty() && c.train_labels.empty() != c.test_labels.empty())
      fail_at(d.path(c.test_labels.empty() ? "test_labels" : "train_labels"),
              "give labels for both the training and the test images, or for neither");
  }
  c.scale = d.number("scale", c.scale);
  if (c.scale == 0) fail_at(d.path("scale"), "a scale of 0 erases the data");
  if (auto t = d.optional_number("binarize")) c.binarize = d.in_range("binarize", *t, 0, 1);
  c.standardize = d.boolean("standardize", false);
  c.validation = d.in_range("validation", d.number("validation", 0.0), 0, 1, false, true);
  c.split_seed = d.seed("split_seed", 0);
  c.limit = d.integer("limit", 0, 0, kMaxCount);
  return c;
}

const std::vector<std::string> kAllHyper = {"lr", "momentum", "beta1", "beta2", "eps", "weight_decay"};

OptimizerConfig parse_optimizer(const Json& j, const std::string& path, std::size_t index) {
  Section o(j, path);
  OptimizerConfig c;
  c.path = path;
  if (o.has("kind")) c.kind = o.choice("kind", "", {"adam", "sgd"});
  std::string base = c.kind.empty() ? "adam" : c.kind;
  c.name = o.string("name", index == 0 ? base : base + std::to_string(index));
  if (c.name.empty() || c.name.find_first_of("/ ") != std::string::npos)
    fail_at(o.path("name"), "an optimizer name is non-empty, without spaces or '/'");
  if (const Json* p = o.find("params")) {
    if (p->is_string()) {
      c.params = {p->get<std::string>()};
    } else if (p->is_array()) {
      if (p->empty()) fail_at(o.path("params"), "an empty list selects no parameter");
      for (std::size_t i = 0; i < p->size(); ++i) c.params.push_back(as_string((*p)[i], index_path(o.path("params"), i)));
    } else {
      fail_at(o.path("params"), "expected a name prefix or a list of them, got " + json_type_name(*p));
    }
    c.params_given = true;
  }
  if (o.has("select")) {
    c.select = o.choice("select", "all", {"all", "weights", "biases"});
    c.select_given = true;
  }
  // Hyper-parameters: those of the kind (or of any kind, for an optimizer
  // recorded in a model.graph; the recorded one is checked when built).
  std::vector<std::string> allowed = c.kind == "adam"  ? std::vector<std::string>{"lr", "beta1", "beta2", "eps", "weight_decay"}
                                     : c.kind == "sgd" ? std::vector<std::string>{"lr", "momentum", "weight_decay"}
                                                       : kAllHyper;
  for (const auto& h : allowed) {
    auto v = o.optional_number(h);
    if (!v) continue;
    if (h == "lr" || h == "eps") o.in_range(h, *v, 0, INFINITY, true);
    else if (h == "weight_decay") o.in_range(h, *v, 0, INFINITY);
    else o.in_range(h, *v, 0, 1, false, true);  // momentum, beta1, beta2
    c.hyper[h] = *v;
  }
  if (c.kind == "sgd" || c.kind.empty()) {
    if (o.has("nesterov")) {
      c.nesterov = o.boolean("nesterov", false);
      c.nesterov_given = true;
    }
  }
  if (const Json* s = o.find("schedules")) {
    Section sched(*s, o.path("schedules"));
    for (auto it = s->begin(); it != s->end(); ++it) {
      const std::string& h = it.key();
      bool known = false;
      for (const auto& a : allowed) known |= a == h;
      if (!known) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        fail_at(sched.path(h), "no hyper-parameter '" + h + "' to schedule (" +
                                   (c.kind.empty() ? std::string("optimizers have: ") : c.kind + " has: ") + list + ")");
      }
      sched.find(h);
      c.schedules[h] = {sched.path(h), it.value()};
    }
  }
  o.done();
  return c;
}

TrainConfig parse_train(Section& t, const ModelKind& kind, const Json& model) {
  TrainConfig c;
  c.epochs = static_cast<int>(t.integer("epochs", c.epochs, 1, 1'000'000));
  c.horizon = c.epochs;
  c.batch_size = t.integer("batch_size", c.batch_size, 1, kMaxCount);
  c.drop_last = t.boolean("drop_last", false);
  c.seed = t.seed("seed", 0);
  c.options = kind.resolve_train(t, model, c);
  const Json defaults = kind.default_optimizers(model);
  const Json* opts = t.find("optimizers");
  if (!opts && !defaults.is_null()) opts = &defaults;  // read as if the config gave them
  if (opts) {
    if (!opts->is_array()) fail_at(t.path("optimizers"), "expected an array of optimizers, got " + json_type_name(*opts));
    if (opts->empty()) fail_at(t.path("optimizers"), "an empty list trains nothing (leave the key out for the default)");
    for (std::size_t i = 0; i < opts->size(); ++i) {
      c.optimizers.push_back(parse_optimizer((*opts)[i], index_path(t.path("optimizers"), i), i));
      for (std::size_t k = 0; k < i; ++k)
        if (c.optimizers[k].name == c.optimizers[i].name)
          fail_at(c.optimizers[i].path + ".name", "optimizer name '" + c.optimizers[i].name + "' is already used by " +
                                                      c.optimizers[k].path + " (give each a \"name\")");
    }
    c.optimizers_given = true;
  }
  return c;
}

Json schedule_json(const Schedule& s) {
  Json j;
  switch (s.kind) {
    case Schedule::Kind::constant:
      j["kind"] = "constant";
      j["from"] = s.from;
      break;
    case Schedule::Kind::linear:
    case Schedule::Kind::cosine:
      j["kind"] = s.kind == Schedule::Kind::linear ? "linear" : "cosine";
      j["from"] = s.from;
      j["to"] = s.to;
      j["start"] = s.start;
      j["end"] = s.end;
      break;
    case Schedule::Kind::step:
      j["kind"] = "step";
      j["from"] = s.from;
      j["factor"] = s.factor;
      j["every"] = s.every;
      break;
    case Schedule::Kind::exponential:
      j["kind"] = "exponential";
      j["from"] = s.from;
      j["factor"] = s.factor;
      break;
  }
  return j;
}

}  // namespace

Schedule resolve_schedule(const Json& j, const std::string& path, std::optional<double> base, int horizon) {
  Section s(j, path);
  std::string kind = s.choice("kind", "", {"constant", "linear", "step", "exponential", "cosine"});
  if (!s.has("kind")) fail_at(s.path("kind"), "required key is missing (constant, linear, step, exponential or cosine)");
  auto from = s.optional_number("from");
  if (!from) {
    if (!base) fail_at(s.path("from"), "required here (the hyper-parameter has no value in this config to start from)");
    from = base;
  }
  Schedule r;
  if (kind == "constant") {
    r = Schedule::constant(*from);
  } else if (kind == "linear" || kind == "cosine") {
    double to = kind == "cosine" ? s.number("to", 0.0) : s.required_number("to");
    double start = s.in_range("start", s.number("start", 0.0), 0, INFINITY);
    double end = s.number("end", horizon);
    if (!(end > start)) fail_at(s.path("end"), "the schedule must end (" + Json(end).dump() + ") after it starts (" +
                                                   Json(start).dump() + ")");
    r = kind == "linear" ? Schedule::linear(*from, to, start, end) : Schedule::cosine(*from, to, start, end);
  } else if (kind == "step") {
    double factor = s.in_range("factor", s.required_number("factor"), 0, INFINITY, true);
    double every = s.in_range("every", s.number("every", 1.0), 0, INFINITY, true);
    r = Schedule::step(*from, factor, every);
  } else {
    double factor = s.in_range("factor", s.required_number("factor"), 0, INFINITY, true);
    r = Schedule::exponential(*from, factor);
  }
  s.done();
  return r;
}

Json Config::to_json() const {
  Json j;
  if (!description.empty()) j["description"] = description;
  j["model"] = model;
  Json d;
  if (!data.name.empty()) {
    d["name"] = data.name;
    if (is_generated_dataset(data.name)) d.update(data.generator);
    else d["dir"] = data.dir;
  } else {
    d["train_images"] = data.train_images;
    if (!data.train_labels.empty()) d["train_labels"] = data.train_labels;
    if (!data.test_images.empty()) d["test_images"] = data.test_images;
    if (!data.test_labels.empty()) d["test_labels"] = data.test_labels;
  }
  d["scale"] = data.scale;
  d["binarize"] = data.binarize ? Json(*data.binarize) : Json(nullptr);
  d["standardize"] = data.standardize;
  d["validation"] = data.validation;
  d["split_seed"] = data.split_seed;
  d["limit"] = data.limit;
  j["data"] = d;

  Json t;
  t["epochs"] = train.epochs;
  t["batch_size"] = train.batch_size;
  t["drop_last"] = train.drop_last;
  t["seed"] = train.seed;
  t.update(train.options);
  Json opts = Json::array();
  for (const OptimizerConfig& o : train.optimizers) {
    Json oj;
    oj["name"] = o.name;
    if (!o.kind.empty()) oj["kind"] = o.kind;
    if (!o.recorded) {
      oj["params"] = o.params;
      oj["select"] = o.select;
    }
    for (const auto& h : kAllHyper)
      if (o.hyper.count(h)) oj[h] = o.hyper.at(h);
    if (o.kind == "sgd" && !o.recorded) oj["nesterov"] = o.nesterov;
    if (!o.schedules.empty()) {
      Json sj;
      for (const auto& [h, spec] : o.schedules) {
        auto r = o.resolved_schedules.find(h);
        sj[h] = r != o.resolved_schedules.end() ? schedule_json(r->second) : spec.json;
      }
      oj["schedules"] = sj;
    }
    opts.push_back(oj);
  }
  t["optimizers"] = opts;
  j["train"] = t;

  Json e;
  e["metric"] = eval.metric.empty() ? Json(nullptr) : Json(eval.metric);
  e["split"] = eval.split;
  e["batch_size"] = eval.batch_size;
  j["eval"] = e;
  if (!provenance.is_null()) j["provenance"] = provenance;
  return j;
}

Config parse_config(const Json& doc, const std::string& file, const std::string& base_dir, bool check_files) {
  try {
    Config c;
    c.file = file;
    c.base_dir = base_dir;
    Section top(doc, "$");
    c.description = top.string("description", "");
    {
      Section m(top.require("model"), "model");
      bool has_kind = m.has("kind"), has_graph = m.has("graph");
      if (has_kind && has_graph)
        fail_at("model", "give either \"kind\" (a built-in model) or \"graph\" (a saved graph JSON), not both");
      if (has_kind) {
        std::string kind = m.string("kind", "");
        try {
          c.kind = &model_kind(kind);
        } catch (const InvalidInput& e) {
          fail_at(m.path("kind"), e.what());
        }
        c.model = c.kind->resolve(m);
      } else if (has_graph) {
        c.graph_file = existing_file(m, "graph", base_dir, check_files);
        c.kind = &graph_model_kind();
        c.model = c.kind->resolve(m);
        c.model["graph"] = c.graph_file;
      } else {
        fail_at("model", "missing \"kind\" (a built-in model, e.g. \"mlp\") or \"graph\" (a saved graph JSON)");
      }
      m.done();
    }
    {
      Section d(top.require("data"), "data");
      c.data = parse_data(d, base_dir, check_files);
      d.done();
    }
    {
      Section t(top.require("train"), "train");
      c.train = parse_train(t, *c.kind, c.model);
      t.done();
    }
    if (const Json* ej = top.find("eval")) {
      Section e(*ej, "eval");
      c.eval.metric = e.string("metric", "");
      c.eval.split = e.choice("split", "test", kSplits);
      c.eval.batch_size = e.integer("batch_size", c.eval.batch_size, 1, kMaxCount);
      e.done();
    }
    if (const Json* p = top.find("provenance")) c.provenance = *p;  // written by train, not read
    top.done();
    return c;
  } catch (const InvalidInput& e) {
    throw InvalidInput(file + ": " + e.what());
  }
}

Config load_config(const std::string& file, bool check_files) {
  std::string text = read_file(file);  // errors name the file
  Json doc;
  try {
    doc = parse_json(text);
  } catch (const InvalidInput& e) {
    throw InvalidInput(file + ": " + e.what());
  }
  std::string base = fs::absolute(fs::path(file)).parent_path().string();
  return parse_config(doc, file, base, check_files);
}

}  // namespace anneal::cli
