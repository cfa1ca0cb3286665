// safetensors I/O and checkpoints: round trips, an independent numpy reader,
// determinism, header validation, crash safety under SIGKILL, and
// bit-identical resume.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "tests/temp_dir.hpp"
#include "anneal.hpp"
#include "io/atomic_file.hpp"
#include "io/checkpoint.hpp"
#include "io/safetensors.hpp"
#include "models/mlp_classifier.hpp"

using namespace anneal;
namespace fs = std::filesystem;

namespace {

using anneal::testing::TempDir;

void write_bytes(const std::string& path, std::string_view bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The InvalidInput message `f` throws ("" if it throws nothing; a failed
// check if it throws anything else).
std::string invalid_input_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const InvalidInput& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected InvalidInput, got: " << e.what());
  }
  return "";
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         (a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

// A small MLP classifier with Adam, plus an i32 state, and its data.
struct Mlp {
  MlpClassifier m;
  Graph& g;
  Optimizer opt;
  Mlp()
      : m(build_mlp_classifier({.inputs = 6, .hidden = {5, 4}, .classes = 3})),
        g(*m.graph),
        opt(make_opt(*m.graph, m.loss)) {
    g.state("counter", {2}, Init::constant(7), DType::i32);
  }
  static Optimizer make_opt(Graph& g, Value loss) {
    auto params = g.params();
    return adam(g, "adam", params, grad(loss, params), {.lr = 0.01});
  }
  Feeds batch(int k) const {
    std::vector<double> x, y;
    for (int i = 0; i < 8; ++i) {
      for (int j = 0; j < 6; ++j) x.push_back(std::sin(0.7 * i + 1.3 * j + 0.1 * k));
      y.push_back((i + k) % 3);
    }
    return {{"x", Tensor::from(x, {8, 6})}, {"labels", Tensor::from(y, {8}, DType::i32)}};
  }
  void train(Session& s, int steps) const {
    Trainer tr(s, m.loss, {opt});
    for (int k = 0; k < steps; ++k) tr.step(batch(k));
  }
};

}  // namespace

TEST_CASE("safetensors: tensors and metadata round-trip - the layout follows the spec") {
  TempDir dir;
  std::map<std::string, Tensor> ts{
      {"w", Tensor::from({1.5, -2.25, 3, 4, 5, 6}, {2, 3})},
      {"d", Tensor::from({0.1, 0.2, 0.3}, {3}, DType::f64)},
      {"i", Tensor::from({-1, 2, 3}, {3}, DType::i32)},
      {"s", Tensor::scalar(0.5)},
      {"empty", Tensor::zeros(DType::f32, {0, 4})},
  };
  std::map<std::string, std::string> meta{{"k", "v"}, {"unicode", "\xc3\xa9t\xc3\xa9"}};
  save_safetensors(dir / "a.safetensors", ts, meta);
  SafetensorsFile f = load_safetensors(dir / "a.safetensors");
  CHECK(f.metadata == meta);
  REQUIRE(f.tensors.size() == ts.size());
  for (const auto& entry : ts) {
    const std::string& name = entry.first;  // not a structured binding: INFO captures it
    const Tensor& t = entry.second;
    INFO(name);
    REQUIRE(f.tensors.count(name));
    CHECK(bitwise_equal(f.tensors.at(name), t));
  }

  std::string bytes = read_file(dir / "a.safetensors");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  CHECK((8 + n) % 8 == 0);                     // the data section starts aligned
  CHECK(bytes[8] == '{');
  SafetensorsHeader h = parse_safetensors_header(bytes, "a");
  CHECK(h.data_start == 8 + n);
  for (const auto& e : h.entries) CHECK(e.begin % safetensors_dtype_size(e.dtype) == 0);  // aligned tensors
  CHECK(h.entries.front().dtype == "F64");     // widest first
}

TEST_CASE("checkpoint: save - load into a fresh session - every tensor and the step bitwise equal") {
  TempDir dir;
  const std::string path = dir / kCheckpointFile;
  Mlp a;
  Session sa(a.g, {.seed = 42});
  a.train(sa, 3);
  sa.set("counter", Tensor::from({-5, 123456789}, {2}, DType::i32));
  save_checkpoint(sa, path, {{"epoch", "2"}, {"batch", "17"}});

  // Every parameter and state is in the file, parameters under their own
  // names, states under "state.".
  SafetensorsFile file = load_safetensors(path);
  CHECK(file.tensors.size() == a.g.params().size() + a.g.states().size());
  for (Value p : a.g.params()) CHECK(file.tensors.count(p.name()));
  for (Value s : a.g.states()) CHECK(file.tensors.count("state." + s.name()));
  CHECK(file.tensors.count("state.adam.t"));
  CHECK(file.tensors.count("state.adam/fc1.W.adam_m"));

  Mlp b;  // an identically built graph
  Session sb(b.g, {.seed = 42});
  CheckpointInfo info = load_checkpoint(sb, path);
  CHECK(info.step == 3);
  CHECK(info.seed == 42);
  CHECK(info.graph == a.g.name());
  CHECK(info.extra == std::map<std::string, std::string>{{"epoch", "2"}, {"batch", "17"}});
  CHECK(sb.step() == sa.step());
  for (Value v : a.g.params()) CHECK_MESSAGE(bitwise_equal(sb.get(v.name()), sa.get(v.name())), v.name());
  for (Value v : a.g.states()) CHECK_MESSAGE(bitwise_equal(sb.get(v.name()), sa.get(v.name())), v.name());
  CHECK(sb.get("counter").to_vector() == std::vector<double>{-5, 123456789});

  // Both continue identically.
  a.train(sa, 2);
  b.train(sb, 2);
  CHECK(checkpoint_bytes(sa) == checkpoint_bytes(sb));

  // read_checkpoint_info sees the same metadata without a session.
  CheckpointInfo only = read_checkpoint_info(path);
  CHECK(only.step == 3);
  CHECK(only.extra.at("batch") == "17");
}

TEST_CASE("checkpoint: an untouched session saves every parameter and state - f64 sessions save F64") {
  Mlp a;
  Session fresh(a.g, {.seed = 3});
  CHECK(fresh.persistent_names().empty());
  auto ts = checkpoint_tensors(fresh);
  CHECK(ts.size() == a.g.params().size() + a.g.states().size());
  CHECK(ts.at("fc1.W").dtype() == DType::f32);
  CHECK(ts.at("state.counter").dtype() == DType::i32);

  Session ref(a.g, {.seed = 3, .precision = Precision::reference});
  TempDir dir;
  save_checkpoint(ref, dir / "w.safetensors");
  CHECK(load_safetensors(dir / "w.safetensors").tensors.at("fc1.W").dtype() == DType::f64);
  Session ref2(a.g, {.seed = 3, .precision = Precision::reference});
  load_checkpoint(ref2, dir / "w.safetensors");
  CHECK(bitwise_equal(ref2.get("fc1.W"), ref.get("fc1.W")));
}

TEST_CASE("checkpoint: identical runs write identical bytes") {
  TempDir dir;
  for (int run = 0; run < 2; ++run) {
    Mlp a;
    Session s(a.g, {.seed = 9});
    a.train(s, 2);
    save_checkpoint(s, dir / ("run" + std::to_string(run)), {{"epoch", "1"}});
  }
  std::string r0 = read_file(dir / "run0"), r1 = read_file(dir / "run1");
  CHECK(r0.size() > 1000);
  CHECK(r0 == r1);
  // Nothing in the file depends on where or when it was written.
  CHECK(!contains(r0, dir.path.string()));
}

TEST_CASE("safetensors: an independent numpy reader sees the same tensors and metadata") {
  REQUIRE_MESSAGE(std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0,
                  "this test needs numpy for /usr/bin/python3 (Debian package python3-numpy)");
  TempDir dir;
  Mlp a;
  Session fast(a.g, {.seed = 5});
  a.train(fast, 2);
  Session ref(a.g, {.seed = 5, .precision = Precision::reference});
  a.train(ref, 1);
  std::map<std::string, std::map<std::string, Tensor>> expected;
  save_checkpoint(fast, dir / "fast.safetensors", {{"epoch", "1"}});
  expected["fast.safetensors"] = checkpoint_tensors(fast);
  save_checkpoint(ref, dir / "ref.safetensors");
  expected["ref.safetensors"] = checkpoint_tensors(ref);

  // Written from the specification alone: u64 LE length, JSON, raw LE data.
  write_bytes(dir / "reader.py", R"PY(
import json, struct, sys
import numpy as np
raw = open(sys.argv[1], 'rb').read()
(n,) = struct.unpack('<Q', raw[:8])
text = raw[8:8 + n].decode('utf-8')
assert (8 + n) % 8 == 0, 'data section not 8-byte aligned'
assert text.startswith('{') and text.rstrip(' ').endswith('}'), 'header padded with something else than spaces'
header = json.loads(text)
meta = header.pop('__metadata__', {})
data = raw[8 + n:]
spans = sorted((v['data_offsets'][0], v['data_offsets'][1]) for v in header.values())
pos = 0
for b, e in spans:
    assert b == pos, 'hole or overlap at %d' % b
    pos = e
assert pos == len(data), 'trailing bytes'
types = {'F32': '<f4', 'F64': '<f8', 'I32': '<i4'}
for k in sorted(meta):
    print('M', k, meta[k])
for name in sorted(header):
    info = header[name]
    b, e = info['data_offsets']
    a = np.frombuffer(data[b:e], dtype=types[info['dtype']]).reshape(info['shape'])
    vals = [repr(float(x)) for x in a.ravel()] if a.dtype.kind == 'f' else [str(int(x)) for x in a.ravel()]
    print('T', name, info['dtype'], a.ndim, *a.shape, *vals)
print('END')
)PY");

  for (const auto& [file, tensors] : expected) {
    INFO(file);
    const std::string out = dir / (file + ".txt");
    const std::string cmd = "/usr/bin/python3 " + dir / "reader.py" + " " + dir / file + " > " + out + " 2>&1";
    int rc = std::system(cmd.c_str());
    std::string text = read_file(out);
    INFO(text);
    REQUIRE(rc == 0);
    std::istringstream in(text);
    std::string kind;
    std::size_t seen = 0;
    std::map<std::string, std::string> meta;
    while (in >> kind && kind != "END") {
      if (kind == "M") {
        std::string k, v;
        in >> k >> v;
        meta[k] = v;
        continue;
      }
      REQUIRE(kind == "T");
      std::string name, dtype;
      int rank = 0;
      in >> name >> dtype >> rank;
      INFO(name);
      REQUIRE(tensors.count(name));
      const Tensor& t = tensors.at(name);
      CHECK(dtype == safetensors_dtype_name(t.dtype()));
      Dims shape(static_cast<std::size_t>(rank));
      for (auto& d : shape) in >> d;
      CHECK(shape == t.shape());
      bool same = true;
      for (std::int64_t i = 0; i < t.numel(); ++i) {
        std::string v;
        in >> v;
        double got = std::strtod(v.c_str(), nullptr);
        same &= got == t.at(i);  // exact: repr() round-trips, f32 -> double is exact
      }
      CHECK(same);
      ++seen;
    }
    CHECK(kind == "END");
    CHECK(seen == tensors.size());
    CHECK(meta.at("anneal.format") == "anneal-checkpoint");
    CHECK(meta.at("anneal.step") == (file == "fast.safetensors" ? "2" : "1"));
  }
}

namespace {

// A file image with `header` as its JSON and `data` bytes of data.
std::string image(const std::string& header, std::size_t data, std::optional<std::uint64_t> n = std::nullopt) {
  std::string out;
  std::uint64_t len = n ? *n : header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  out += header;
  out.append(data, '\0');
  return out;
}

}  // namespace

TEST_CASE("safetensors: corrupt headers are InvalidInput naming the file and the tensor") {
  TempDir dir;
  const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  REQUIRE_NOTHROW(parse_safetensors(image(ok, 8), "ok"));
  struct Case {
    const char* label;
    std::string bytes;
    std::string expect;
    std::string tensor;  // the tensor the message must name, if any
  };
  const std::string two = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],)";
  std::vector<Case> cases{
      {"too short", std::string(5, '\0'), "shorter than the 8-byte header length", ""},
      {"empty file", "", "shorter than the 8-byte header length", ""},
      {"header beyond the file", image(ok, 8, ok.size() + 9), "beyond the end of the file", ""},
      {"huge header", image(ok, 8, 100'000'001), "exceeds the limit", ""},
      {"huge u64 header", image(ok, 8, ~0ull), "exceeds the limit", ""},
      {"bad JSON", image(R"({"a":{"dtype":"F32",)", 0), "not valid JSON", ""},
      {"not an object", image("[1,2]", 0), "JSON object", ""},
      {"entry not an object", image(R"({"a":3})", 0), "expected an object", "a"},
      {"unknown dtype", image(R"({"a":{"dtype":"F31","shape":[2],"data_offsets":[0,8]}})", 8), "unknown dtype", "a"},
      {"dtype not a string", image(R"({"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", 8), "dtype", "a"},
      {"missing field", image(R"({"a":{"dtype":"F32","shape":[2]}})", 8), "missing field 'data_offsets'", "a"},
      {"unknown field", image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", 8),
       "unknown field 'x'", "a"},
      {"negative dim", image(R"({"a":{"dtype":"F32","shape":[-1,2],"data_offsets":[0,8]}})", 8),
       "negative dimension", "a"},
      {"fractional dim", image(R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", 8), "integers", "a"},
      {"overflowing shape",
       image(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8), "too large", "a"},
      {"offsets out of range", image(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8),
       "beyond the data section", "a"},
      {"negative offset", image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", 8), "data_offsets",
       "a"},
      {"three offsets", image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}})", 8), "data_offsets",
       "a"},
      {"reversed offsets", image(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8),
       "end before they begin", "a"},
      {"size mismatch", image(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "needs 12", "a"},
      {"overlap", image(two + R"("data_offsets":[4,12]}})", 12), "overlaps tensor 'a'", "b"},
      {"hole", image(two + R"("data_offsets":[12,20]}})", 20), "hole of 4 bytes", "b"},
      {"trailing bytes", image(ok, 12), "4 trailing bytes", ""},
      {"duplicate tensor",
       image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
             8),
       "duplicate key 'a'", ""},
      {"duplicate field", image(R"({"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8),
       "duplicate key 'dtype'", ""},
      {"metadata not strings",
       image(R"({"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8),
       "__metadata__.k must be a string", ""},
      {"deep nesting", image(R"({"a":{"dtype":"F32","shape":[[[2]]],"data_offsets":[0,8]}})", 8), "nests deeper",
       ""},
      {"invalid UTF-8", image("{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
       "not valid JSON", ""},
      {"dtype Anneal cannot hold", image(R"({"a":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]}})", 8),
       "cannot hold", "a"},
  };
  for (const auto& c : cases) {
    INFO(c.label);
    const std::string path = dir / (std::string(c.label) + ".safetensors");
    write_bytes(path, c.bytes);
    std::string msg = invalid_input_message([&] { load_safetensors(path); });
    INFO(msg);
    CHECK(contains(msg, path));
    CHECK(contains(msg, c.expect));
    if (!c.tensor.empty()) CHECK(contains(msg, "tensor '" + c.tensor + "'"));
    // A checkpoint load fails the same way, touching nothing.
    Mlp m;
    Session s(m.g);
    CHECK(contains(invalid_input_message([&] { load_checkpoint(s, path); }), path));
    CHECK(s.persistent_names().empty());
  }
  // A BF16 tensor is a valid file: its header parses.
  CHECK(parse_safetensors_header(image(R"({"a":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]}})", 8), "x")
            .entries.at(0)
            .dtype == "BF16");
  // Empty and scalar tensors, any header padding, zero-size ranges anywhere.
  CHECK_NOTHROW(parse_safetensors(
      image(R"({"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}  )",
            4),
      "ok"));
  CHECK(contains(invalid_input_message([&] { load_safetensors(dir / "missing.safetensors"); }),
                 dir / "missing.safetensors"));
}

TEST_CASE("safetensors: every truncation and 2000 seeded byte mutants load or fail cleanly") {
  Mlp a;
  Session s(a.g, {.seed = 1});
  const std::string good = checkpoint_bytes(s, {{"epoch", "0"}});
  REQUIRE_NOTHROW(parse_safetensors(good, "good"));
  int rejected = 0;
  for (std::size_t len = 0; len < good.size(); ++len) {
    std::string msg = invalid_input_message([&] { parse_safetensors(std::string_view(good).substr(0, len), "t"); });
    rejected += !msg.empty();
  }
  CHECK(rejected == static_cast<int>(good.size()));  // every truncation is caught
  std::mt19937 rng(2024);
  std::size_t header_end = 8 + (static_cast<unsigned char>(good[0]) | (static_cast<unsigned char>(good[1]) << 8));
  int loaded = 0;
  for (int k = 0; k < 2000; ++k) {
    std::string bad = good;
    // Mostly the header, where the structure is.
    std::size_t at = rng() % 4 ? rng() % header_end : rng() % bad.size();
    bad[at] = static_cast<char>(rng() % 4 ? rng() % 256 : " {}[],:\"0123456789-"[rng() % 19]);
    try {
      parse_safetensors(bad, "m");
      ++loaded;
    } catch (const InvalidInput&) {
    }
  }
  MESSAGE(rejected << " truncations rejected; of 2000 mutants " << loaded << " still valid, " << 2000 - loaded
                   << " rejected with InvalidInput");
}

TEST_CASE("checkpoint: mismatches with the graph are InvalidInput naming the tensor - the session is unchanged") {
  TempDir dir;
  Mlp a;
  Session sa(a.g, {.seed = 4});
  a.train(sa, 1);
  const std::string path = dir / "w.safetensors";
  save_checkpoint(sa, path);

  Mlp b;
  Session sb(b.g, {.seed = 4});
  b.train(sb, 2);
  const std::string before = checkpoint_bytes(sb);
  auto expect_rejected = [&](Session& s, const std::string& file, const std::string& what,
                             CheckpointLoadOptions o = {}) {
    std::string msg = invalid_input_message([&] { load_checkpoint(s, file, o); });
    INFO(msg);
    CHECK(contains(msg, file));
    CHECK(contains(msg, what));
  };

  SUBCASE("wrong shape") {
    auto ts = checkpoint_tensors(sa);
    ts["fc1.W"] = Tensor::zeros(DType::f32, {6, 6});
    save_safetensors(dir / "shape.safetensors", ts, load_safetensors(path).metadata);
    expect_rejected(sb, dir / "shape.safetensors", "'fc1.W' is [6, 6] F32, but node 'fc1.W'");
  }
  SUBCASE("wrong dtype") {
    auto ts = checkpoint_tensors(sa);
    ts["state.adam.t"] = Tensor::scalar(1, DType::f64);
    save_safetensors(dir / "dtype.safetensors", ts, load_safetensors(path).metadata);
    expect_rejected(sb, dir / "dtype.safetensors", "'state.adam.t' is [] F64");
  }
  SUBCASE("a tensor the graph lacks") {
    auto ts = checkpoint_tensors(sa);
    ts["fc9.W"] = Tensor::zeros(DType::f32, {1});
    save_safetensors(dir / "extra.safetensors", ts, load_safetensors(path).metadata);
    expect_rejected(sb, dir / "extra.safetensors", "'fc9.W' is not a parameter or state");
  }
  SUBCASE("a tensor the file lacks") {
    auto ts = checkpoint_tensors(sa);
    REQUIRE(ts.erase("state.adam/fc2.b.adam_v") == 1);
    save_safetensors(dir / "missing.safetensors", ts, load_safetensors(path).metadata);
    expect_rejected(sb, dir / "missing.safetensors", "no tensor 'state.adam/fc2.b.adam_v'");
  }
  SUBCASE("another seed") {
    Session other(b.g, {.seed = 5});
    expect_rejected(other, path, "seed 4");
    CHECK_NOTHROW(load_checkpoint(other, path, {.require_same_seed = false}));
  }
  SUBCASE("another precision") {
    Session ref(b.g, {.seed = 4, .precision = Precision::reference});
    expect_rejected(ref, path, "F32, but");
  }
  SUBCASE("not a checkpoint, or a newer one") {
    save_safetensors(dir / "plain.safetensors", checkpoint_tensors(sa), {{"format", "pt"}});
    expect_rejected(sb, dir / "plain.safetensors", "not an Anneal checkpoint");
    auto meta = load_safetensors(path).metadata;
    meta["anneal.version"] = "2";
    save_safetensors(dir / "v2.safetensors", checkpoint_tensors(sa), meta);
    expect_rejected(sb, dir / "v2.safetensors", "version 2");
    meta["anneal.version"] = "1";
    meta["anneal.step"] = "12x";
    save_safetensors(dir / "step.safetensors", checkpoint_tensors(sa), meta);
    expect_rejected(sb, dir / "step.safetensors", "'anneal.step' = '12x'");
  }
  CHECK(checkpoint_bytes(sb) == before);
  CHECK(sb.step() == 2);
  CHECK(contains(invalid_input_message([&] { checkpoint_bytes(sa, {{"anneal.step", "1"}}); }), "reserved"));
}

TEST_CASE("checkpoint: a writer SIGKILLed at random moments always leaves a complete checkpoint") {
  TempDir dir;
  const std::string path = dir / kCheckpointFile;
  // Big enough (about 1 MB) that kills often land inside a write.
  Graph g("kill");
  g.param("a", {512, 256}, Init::zeros());
  g.param("b", {1000}, Init::zeros());
  g.state("c", {3000}, Init::zeros(), DType::i32);
  g.state("d", {}, Init::zeros());
  Session s(g);

  // The consistency check: every element and the step equal the counter in
  // the metadata. Returns that counter.
  auto check_file = [&]() -> std::int64_t {
    SafetensorsFile f = load_safetensors(path);
    std::int64_t counter = std::stoll(f.metadata.at("counter"));
    CHECK(f.metadata.at("anneal.step") == std::to_string(counter));
    REQUIRE(f.tensors.size() == 4);
    for (const auto& [name, t] : f.tensors) {
      bool all = true;
      for (std::int64_t i = 0; i < t.numel(); ++i) all &= t.at(i) == static_cast<double>(counter % 1000003);
      CHECK_MESSAGE(all, name);
    }
    Session loaded(g);
    load_checkpoint(loaded, path);
    CHECK(loaded.step() == static_cast<std::uint64_t>(counter));
    return counter;
  };

  std::mt19937 rng(77);
  const int kKills = 80;
  std::optional<std::int64_t> previous;  // the last counter the file held
  int completed_total = 0, unreported = 0, unchanged = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int round = 0; round < kKills; ++round) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const std::int64_t base = static_cast<std::int64_t>(round + 1) * 1000000;
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // The child: write checkpoints with counters base, base+1, ... and
      // report each completed one. It never returns into the test runner.
      ::close(fds[0]);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      try {
        for (std::int64_t k = base; k < base + 100000; ++k) {
          const double v = static_cast<double>(k % 1000003);
          for (const char* name : {"a", "b", "c", "d"}) {
            const Node& n = g.find(name).node();
            s.set(name, Tensor::full(n.type.dtype, n.type.shape, v));
          }
          s.set_step(static_cast<std::uint64_t>(k));
          save_checkpoint(s, path, {{"counter", std::to_string(k)}});
          if (::write(fds[1], &k, sizeof k) != static_cast<ssize_t>(sizeof k)) ::_exit(4);
        }
      } catch (...) {
        ::_exit(3);
      }
      ::_exit(0);
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK_MESSAGE(WIFSIGNALED(status), "the writer exited by itself with status " << status);
    std::vector<std::int64_t> done;
    std::int64_t k;
    while (::read(fds[0], &k, sizeof k) == static_cast<ssize_t>(sizeof k)) done.push_back(k);
    ::close(fds[0]);
    completed_total += static_cast<int>(done.size());

    if (!fs::exists(path)) {
      // Only possible before any checkpoint completed.
      CHECK(!previous);
      CHECK(done.empty());
      continue;
    }
    std::int64_t got = check_file();
    // The file holds the last completed checkpoint, or the one after it if
    // the kill came between its rename and its report; with none reported,
    // the previous round's or this round's first.
    std::set<std::int64_t> allowed;
    if (!done.empty()) {
      allowed = {done.back(), done.back() + 1};
    } else {
      allowed.insert(base);
      if (previous) allowed.insert(*previous);
    }
    CHECK_MESSAGE(allowed.count(got), "round " << round << ": file holds counter " << got);
    unreported += !done.empty() ? got == done.back() + 1 : got == base;
    unchanged += previous && got == *previous;
    previous = got;
  }
  // Leftover temporary files never disturb loading, and only the killed
  // writes left them.
  int temps = 0;
  for (const auto& e : fs::directory_iterator(dir.path))
    if (e.path().filename() != kCheckpointFile) ++temps;
  CHECK(temps <= kKills);
  CHECK_NOTHROW(check_file());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE(kKills << " SIGKILLs in " << seconds << " s: " << completed_total << " checkpoints completed, "
                 << unreported << " kills between rename and report, " << unchanged
                 << " rounds with no new checkpoint, " << temps << " temporary files left by killed writes");
}

namespace {

// A denoising autoencoder with masking noise: the stochastic op makes the
// run depend on the seed and the step counter.
struct Dae {
  Graph g{"dae"};
  Value x = g.input("x", {Dim::batch(), 6});
  Value loss;
  Optimizer opt;
  Dae() : loss(build()), opt(make_opt()) {}
  Value build() {
    Value W = g.param("W", {6, 3}, Init::glorot_uniform());
    Value b = g.param("b", {3}, Init::zeros());
    Value c = g.param("c", {6}, Init::zeros());
    Value noisy = masking_noise(x, 0.3);
    Value h = sigmoid(matmul(noisy, W) + b);
    return mse(matmul(h, W, false, true) + c, x);
  }
  Optimizer make_opt() {
    auto params = g.params();
    Optimizer o = adam(g, "adam", params, grad(loss, params), {.lr = 0.02});
    o.schedule("lr", Schedule::cosine(0.02, 0.002, 0, 3));
    return o;
  }
};

Dataset dae_data() {
  Dataset d;
  d.x = Tensor::empty(DType::f32, {30, 6});
  for (std::int64_t i = 0; i < 30 * 6; ++i)
    d.x.data<float>()[i] = static_cast<float>(0.5 + 0.5 * std::sin(0.37 * static_cast<double>(i * i % 97)));
  d.item_shape = {6};
  return d;
}

// Trains from data position (epoch, batch) until `stop` steps have run in
// total or 3 epochs are done; returns the position reached.
std::pair<std::uint32_t, std::int64_t> train_dae(Dae& m, Session& s, std::uint32_t epoch, std::int64_t batch,
                                                 std::uint64_t stop) {
  Trainer tr(s, m.loss, {m.opt});
  Batches batches(dae_data(), 8, /*seed=*/s.seed(), epoch);
  for (; epoch < 3; ++epoch, batch = 0) {
    batches.set_epoch(epoch);
    for (; batch < batches.size(); ++batch) {
      if (s.step() == stop) return {epoch, batch};
      double progress = epoch + static_cast<double>(batch) / static_cast<double>(batches.size());
      tr.step({{"x", batches[batch].x}}, progress);
    }
  }
  return {epoch, 0};
}

std::map<std::string, std::string> position(std::pair<std::uint32_t, std::int64_t> p) {
  return {{"epoch", std::to_string(p.first)}, {"batch", std::to_string(p.second)}};
}

}  // namespace

TEST_CASE("checkpoint: resuming from a checkpoint continues bit-identically") {
  TempDir dir;
  const std::uint64_t seed = 31;
  // 3 epochs of 4 batches: 12 steps straight.
  {
    Dae m;
    Session s(m.g, {.seed = seed});
    auto end = train_dae(m, s, 0, 0, ~0ull);
    CHECK(s.step() == 12);
    save_checkpoint(s, dir / "straight.safetensors", position(end));
  }
  // 6 steps, a checkpoint in the middle of epoch 1, then a new process'
  // worth of objects resumes from the file.
  {
    Dae m;
    Session s(m.g, {.seed = seed});
    auto mid = train_dae(m, s, 0, 0, 6);
    CHECK(mid == std::pair<std::uint32_t, std::int64_t>{1, 2});
    save_checkpoint(s, dir / "half.safetensors", position(mid));
  }
  for (bool restore_step : {true, false}) {
    Dae m;
    CheckpointInfo info = read_checkpoint_info(dir / "half.safetensors");
    Session s(m.g, {.seed = info.seed});
    load_checkpoint(s, dir / "half.safetensors", {.restore_step = restore_step});
    auto epoch = static_cast<std::uint32_t>(std::stoul(info.extra.at("epoch")));
    std::int64_t batch = std::stoll(info.extra.at("batch"));
    std::uint64_t stop = restore_step ? ~0ull : 6;  // without the step counter: 6 more steps
    auto end = train_dae(m, s, epoch, batch, stop);
    if (!restore_step) s.set_step(12);  // same counter, different noise along the way
    save_checkpoint(s, dir / "resumed.safetensors", position(end));
    const bool same = read_file(dir / "resumed.safetensors") == read_file(dir / "straight.safetensors");
    // With the step restored the bytes are identical; without it the masking
    // noise differs, which shows the comparison can tell.
    CHECK_MESSAGE(same == restore_step, "restore_step=" << restore_step);
  }
}
