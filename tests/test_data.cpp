#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <vector>

#include "tests/temp_dir.hpp"
#include "backend/error.hpp"
#include "data/batches.hpp"
#include "data/dataset.hpp"
#include "data/idx.hpp"

using namespace anneal;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<std::uint8_t>;

// A fresh directory under the system temp dir, removed with its contents.
using anneal::testing::TempDir;

void write_raw(const std::string& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

void write_gz(const std::string& path, const Bytes& b) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  if (!b.empty()) gzwrite(f, b.data(), static_cast<unsigned>(b.size()));
  gzclose(f);
}

Bytes header(std::uint8_t type, const std::vector<std::uint32_t>& dims) {
  Bytes h = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) h.push_back(static_cast<std::uint8_t>(d >> s));
  return h;
}

Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The message of the InvalidInput `f` throws ("" when it throws nothing).
template <class F>
std::string invalid_input_message(F f) {
  try {
    f();
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// `bytes` written raw and gzipped must both fail with the path and `what`.
void check_rejected(const TempDir& dir, const std::string& name, const Bytes& bytes, const std::string& what) {
  for (bool gz : {false, true}) {
    std::string path = dir / (name + (gz ? ".gz" : ""));
    if (gz) write_gz(path, bytes); else write_raw(path, bytes);
    std::string msg = invalid_input_message([&] { read_idx(path); });
    INFO(path, ": ", msg);
    CHECK(contains(msg, path));
    CHECK(contains(msg, what));
  }
}

Dataset small_dataset(std::int64_t n, std::int64_t dim) {
  Dataset d;
  d.x = Tensor::empty(DType::f32, {n, dim});
  d.y = Tensor::empty(DType::i32, {n});
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < dim; ++j) d.x.data<float>()[i * dim + j] = static_cast<float>(i * 100 + j);
    d.y.data<std::int32_t>()[i] = static_cast<std::int32_t>(i);
  }
  d.item_shape = {dim};
  return d;
}

}  // namespace

TEST_CASE("idx: u8 arrays written raw and gzipped read back") {
  TempDir dir;
  Bytes pixels(2 * 3 * 4);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 10);
  for (std::string name : {"a.idx", "a.idx.gz"}) {
    write_idx(dir / name, {2, 3, 4}, pixels);
    IdxArray a = read_idx(dir / name);
    CHECK(a.type == IdxType::u8);
    CHECK(a.dims == Dims{2, 3, 4});
    CHECK(a.bytes == pixels);
    Tensor t = a.to_tensor(DType::f32);
    CHECK(t.shape() == Dims{2, 3, 4});
    CHECK(t.at(23) == 230.0);
  }
  // The gzipped file really is compressed: it starts with gzip's magic.
  std::ifstream f(dir / "a.idx.gz", std::ios::binary);
  CHECK(f.get() == 0x1f);
  CHECK(f.get() == 0x8b);
}

TEST_CASE("idx: multi-byte types are big-endian in the file") {
  TempDir dir;
  SUBCASE("i16") {
    write_raw(dir / "a", header(0x0B, {2}) + Bytes{0xFF, 0xFE, 0x01, 0x02});
    IdxArray a = read_idx(dir / "a");
    CHECK(a.to_tensor(DType::i32).to_vector() == std::vector<double>{-2, 258});
  }
  SUBCASE("i8 and i32") {
    write_raw(dir / "a", header(0x09, {1}) + Bytes{0x80});
    CHECK(read_idx(dir / "a").to_tensor(DType::i32).at(0) == -128);
    write_gz(dir / "b.gz", header(0x0C, {1}) + Bytes{0x00, 0x01, 0x00, 0x00});
    CHECK(read_idx(dir / "b.gz").to_tensor(DType::i32).at(0) == 65536);
  }
  SUBCASE("f32 and f64") {
    write_raw(dir / "a", header(0x0D, {1}) + Bytes{0x3F, 0xC0, 0x00, 0x00});  // 1.5f
    CHECK(read_idx(dir / "a").to_tensor(DType::f32).at(0) == 1.5);
    write_raw(dir / "b", header(0x0E, {1}) + Bytes{0xC0, 0x04, 0, 0, 0, 0, 0, 0});  // -2.5
    CHECK(read_idx(dir / "b").to_tensor(DType::f64).at(0) == -2.5);
    // Float data cannot become labels.
    CHECK(contains(invalid_input_message([&] { read_idx(dir / "b").to_tensor(DType::i32); }), dir / "b"));
  }
}

TEST_CASE("idx: malformed files throw InvalidInput naming the path") {
  TempDir dir;
  std::string missing = dir / "no-such-file.idx.gz";
  std::string msg = invalid_input_message([&] { read_idx(missing); });
  CHECK(contains(msg, missing));
  CHECK(contains(msg, "No such file"));

  check_rejected(dir, "empty", {}, "truncated header");
  check_rejected(dir, "short-header", Bytes{0, 0, 8, 2, 0, 0}, "truncated header");
  check_rejected(dir, "magic", Bytes{1, 0, 8, 1, 0, 0, 0, 1, 7}, "bad magic");
  check_rejected(dir, "type", header(0x0A, {1}) + Bytes{7}, "unsupported element type code 10");
  check_rejected(dir, "rank0", header(0x08, {}), "number of dimensions 0");
  check_rejected(dir, "rank5", header(0x08, {1, 1, 1, 1, 1}) + Bytes{7}, "number of dimensions 5");
  check_rejected(dir, "zero", header(0x08, {3, 0}), "hold no elements");
  check_rejected(dir, "huge", header(0x08, {65536, 65536, 2}), "2^31");
  check_rejected(dir, "huge4", header(0x0E, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}), "2^31");
  check_rejected(dir, "truncated", header(0x08, {2, 5}) + Bytes{1, 2, 3, 4, 5, 6, 7},
                 "expected 10 bytes for u8 [2, 5], got 7");
  check_rejected(dir, "truncated16", header(0x0B, {3}) + Bytes{1, 2, 3}, "expected 6 bytes");
  check_rejected(dir, "trailing", header(0x08, {2}) + Bytes{1, 2, 3}, "trailing bytes");

  {  // a gzip stream cut short
    Bytes payload = header(0x08, {1000});
    for (int i = 0; i < 1000; ++i) payload.push_back(static_cast<std::uint8_t>(i * 7919 % 251));
    write_gz(dir / "cut.gz", payload);
    std::ifstream in(dir / "cut.gz", std::ios::binary);
    Bytes gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    gz.resize(gz.size() / 2);
    write_raw(dir / "cut.gz", gz);
    std::string m = invalid_input_message([&] { read_idx(dir / "cut.gz"); });
    CHECK(contains(m, dir / "cut.gz"));
    CHECK(contains(m, "truncated data"));
  }
}

TEST_CASE("idx: write_idx rejects sizes that do not match") {
  TempDir dir;
  Bytes three{1, 2, 3};
  CHECK(contains(invalid_input_message([&] { write_idx(dir / "a", {2, 2}, three); }), dir / "a"));
  CHECK(contains(invalid_input_message([&] { write_idx(dir / "a", {}, three); }), dir / "a"));
  CHECK(contains(invalid_input_message([&] { write_idx(dir / "no/such/dir/a", {3}, three); }), "no/such/dir"));
}

TEST_CASE("dataset: images and labels load together and counts must agree") {
  TempDir dir;
  Bytes pixels(3 * 2 * 2);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i);
  write_idx(dir / "img.gz", {3, 2, 2}, pixels);
  write_idx(dir / "lab", {3}, Bytes{7, 8, 9});
  write_idx(dir / "lab2.gz", {2}, Bytes{7, 8});
  write_idx(dir / "lab2d", {3, 1}, Bytes{7, 8, 9});

  Dataset d = load_idx_dataset(dir / "img.gz", dir / "lab");
  CHECK(d.x.shape() == Dims{3, 4});
  CHECK(d.x.dtype() == DType::f32);
  CHECK(d.item_shape == Dims{2, 2});
  CHECK(d.x.at(5) == 5.0);
  CHECK(d.y.dtype() == DType::i32);
  CHECK(d.y.to_vector() == std::vector<double>{7, 8, 9});

  Dataset unlabeled = load_idx_dataset(dir / "img.gz");
  CHECK_FALSE(unlabeled.labeled());
  CHECK(unlabeled.size() == 3);

  std::string msg = invalid_input_message([&] { load_idx_dataset(dir / "img.gz", dir / "lab2.gz"); });
  CHECK(contains(msg, dir / "lab2.gz"));
  CHECK(contains(msg, dir / "img.gz"));
  CHECK(contains(msg, "2 labels"));
  CHECK(contains(invalid_input_message([&] { load_idx_dataset(dir / "img.gz", dir / "lab2d"); }), dir / "lab2d"));
  CHECK(contains(invalid_input_message([&] { fashion_mnist("valid"); }), "valid"));
  CHECK(contains(invalid_input_message([&] { fashion_mnist("train", dir / "none"); }), dir / "none"));
}

TEST_CASE("dataset: fashion_mnist falls back to unzipped files") {
  TempDir dir;
  write_idx(dir / "t10k-images-idx3-ubyte", {2, 1, 3}, Bytes{0, 1, 2, 3, 4, 5});
  write_idx(dir / "t10k-labels-idx1-ubyte", {2}, Bytes{4, 5});
  Dataset d = fashion_mnist("test", dir.path.string());
  CHECK(d.x.shape() == Dims{2, 3});
  CHECK(d.y.to_vector() == std::vector<double>{4, 5});
}

TEST_CASE("dataset: scale - binarize and standardize") {
  Dataset d;
  d.x = Tensor::from({0, 51, 255, 255, 102, 255}, {2, 3});
  Dataset s = scale(d, 1.0f / 255);
  CHECK(s.x.to_vector()[1] == doctest::Approx(0.2));
  CHECK(d.x.at(1) == 51.0);  // the input is untouched
  CHECK(binarize(s).x.to_vector() == std::vector<double>{0, 0, 1, 1, 0, 1});
  CHECK(binarize(s, 0.1f).x.to_vector() == std::vector<double>{0, 1, 1, 1, 1, 1});

  FeatureStats st = feature_stats(s);
  CHECK(st.mean.at(0) == doctest::Approx(0.5));
  CHECK(st.std.at(0) == doctest::Approx(0.5));
  CHECK(st.mean.at(1) == doctest::Approx(0.3));
  CHECK(st.std.at(1) == doctest::Approx(0.1));
  CHECK(st.std.at(2) == 1.0);  // constant feature
  Dataset z = standardize(s, st);
  CHECK(z.x.to_vector()[0] == doctest::Approx(-1));
  CHECK(z.x.to_vector()[4] == doctest::Approx(1));
  CHECK(z.x.to_vector()[2] == doctest::Approx(0));
  // Stats from one dataset apply to another of the same width only.
  CHECK(contains(invalid_input_message([&] { standardize(small_dataset(2, 4), st); }), "standardize"));
}

TEST_CASE("dataset: stochastic binarization is Bernoulli(p) and reproducible") {
  Dataset d;
  std::int64_t n = 20000;
  d.x = Tensor::empty(DType::f32, {n, 3});
  for (std::int64_t i = 0; i < n; ++i) {
    d.x.data<float>()[3 * i] = 0.0f;
    d.x.data<float>()[3 * i + 1] = 0.3f;
    d.x.data<float>()[3 * i + 2] = 1.0f;
  }
  Dataset a = binarize_stochastic(d, 42), b = binarize_stochastic(d, 42), c = binarize_stochastic(d, 42, 1);
  CHECK(a.x.to_vector() == b.x.to_vector());
  CHECK(a.x.to_vector() != c.x.to_vector());
  double ones[3] = {0, 0, 0};
  bool binary = true;
  for (std::int64_t i = 0; i < 3 * n; ++i) {
    double v = a.x.at(i);
    binary = binary && (v == 0.0 || v == 1.0);
    ones[i % 3] += v;
  }
  CHECK(binary);
  CHECK(ones[0] == 0);
  CHECK(ones[1] / n == doctest::Approx(0.3).epsilon(0.05));
  CHECK(ones[2] == n);
  Dataset bad;
  bad.x = Tensor::from({0.5, 2.0}, {1, 2});
  CHECK(contains(invalid_input_message([&] { binarize_stochastic(bad, 1); }), "outside [0, 1]"));
}

TEST_CASE("dataset: take - subset and the validation split") {
  Dataset d = small_dataset(10, 2);
  Dataset t = take(d, 3);
  CHECK(t.size() == 3);
  CHECK(t.y.to_vector() == std::vector<double>{0, 1, 2});
  CHECK(take(d, 100).size() == 10);

  std::vector<std::int64_t> idx{4, 1, 4};
  Dataset s = subset(d, idx);
  CHECK(s.x.to_vector() == std::vector<double>{400, 401, 100, 101, 400, 401});
  CHECK(s.y.to_vector() == std::vector<double>{4, 1, 4});
  std::vector<std::int64_t> out{3, 10};
  CHECK(contains(invalid_input_message([&] { subset(d, out); }), "index 10"));

  Dataset big = small_dataset(1000, 1);
  TrainValidation sp = split_validation(big, 0.15, 7);
  CHECK(sp.train.size() == 850);
  CHECK(sp.validation.size() == 150);
  std::set<double> seen;
  for (double v : sp.train.y.to_vector()) seen.insert(v);
  for (double v : sp.validation.y.to_vector()) seen.insert(v);
  CHECK(seen.size() == 1000);  // disjoint and complete
  // Rows travel with their labels.
  CHECK(sp.validation.x.at(0) == sp.validation.y.at(0) * 100);
  // Deterministic per seed, different across seeds.
  CHECK(split_validation(big, 0.15, 7).validation.y.to_vector() == sp.validation.y.to_vector());
  CHECK(split_validation(big, 0.15, 8).validation.y.to_vector() != sp.validation.y.to_vector());
  // Not just the first rows: the held-out examples come from everywhere.
  CHECK(sp.validation.y.at(149) > 500);
  CHECK(split_validation(big, 0.0, 1).validation.size() == 0);
  CHECK(contains(invalid_input_message([&] { split_validation(big, 1.0, 1); }), "fraction"));
}

TEST_CASE("batch: an epoch is a seeded permutation") {
  Dataset d = small_dataset(103, 2);
  Batches b(d, 10, 123, 0);
  CHECK(b.size() == 11);
  std::vector<std::int64_t> seen;
  std::int64_t batches = 0;
  for (const Batch& batch : b) {
    CHECK(batch.x.dim(1) == 2);
    CHECK(batch.x.dim(0) == (batches == 10 ? 3 : 10));  // partial last batch
    CHECK(batch.y.dim(0) == batch.x.dim(0));
    for (std::int64_t k = 0; k < batch.x.dim(0); ++k) {
      auto label = static_cast<std::int64_t>(batch.y.at(k));
      CHECK(batch.x.at(2 * k) == label * 100);  // rows and labels stay paired
      CHECK(batch.x.at(2 * k + 1) == label * 100 + 1);
      seen.push_back(label);
    }
    ++batches;
  }
  CHECK(batches == 11);
  std::vector<std::int64_t> sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  for (std::int64_t i = 0; i < 103; ++i) REQUIRE(sorted[static_cast<std::size_t>(i)] == i);
  CHECK(seen == b.order());

  std::vector<std::int64_t> identity(103);
  for (std::int64_t i = 0; i < 103; ++i) identity[static_cast<std::size_t>(i)] = i;
  CHECK(b.order() != identity);

  // Same (seed, epoch), same order; another epoch or seed, another order.
  CHECK(Batches(d, 10, 123, 0).order() == b.order());
  std::vector<std::int64_t> epoch0 = b.order();
  b.set_epoch(1);
  CHECK(b.order() != epoch0);
  CHECK(Batches(d, 10, 123, 1).order() == b.order());
  CHECK(Batches(d, 10, 124, 0).order() != epoch0);
  // The order is pinned across platforms: a change here changes every run.
  std::vector<std::int64_t> small = Batches(small_dataset(8, 1), 8, 1, 0).order();
  CHECK(small == std::vector<std::int64_t>{0, 3, 4, 5, 7, 2, 6, 1});
}

TEST_CASE("batch: drop_last - no shuffle and bad sizes") {
  Dataset d = small_dataset(25, 1);
  CHECK(num_batches(25, 10, false) == 3);
  CHECK(num_batches(25, 10, true) == 2);
  CHECK(num_batches(20, 10, false) == 2);
  CHECK(num_batches(0, 10, false) == 0);

  Batches dropped(d, 10, 5, 0, /*drop_last=*/true);
  CHECK(dropped.size() == 2);
  for (const Batch& b : dropped) CHECK(b.x.dim(0) == 10);
  CHECK(contains(invalid_input_message([&] { dropped[2]; }), "out of range"));

  Batches ordered(d, 10, 5, 0, false, /*shuffle=*/false);
  CHECK(ordered[2].y.to_vector() == std::vector<double>{20, 21, 22, 23, 24});
  CHECK(ordered[0].y.at(9) == 9);

  Dataset unlabeled = d;
  unlabeled.y = Tensor();
  CHECK_FALSE(Batches(unlabeled, 4, 0)[0].y.defined());

  CHECK(contains(invalid_input_message([&] { Batches(d, 0, 1); }), "batch size 0"));
  Dataset wrong = d;
  wrong.y = Tensor::zeros(DType::i32, {3});
  CHECK(contains(invalid_input_message([&] { Batches(wrong, 4, 1); }), "i32 [25]"));
}

TEST_CASE("dataset: real Fashion-MNIST loads") {
  if (!fs::exists(kFashionMnistDir)) {
    MESSAGE("skipped: ", kFashionMnistDir, " is not installed (Debian package dataset-fashion-mnist)");
    return;
  }
  Dataset train = fashion_mnist("train");
  Dataset test = fashion_mnist("test");
  CHECK(train.x.shape() == Dims{60000, 784});
  CHECK(train.y.shape() == Dims{60000});
  CHECK(test.x.shape() == Dims{10000, 784});
  CHECK(test.y.shape() == Dims{10000});
  CHECK(train.item_shape == Dims{28, 28});
  for (const Dataset* d : {&train, &test}) {
    const std::int32_t* y = d->y.data<std::int32_t>();
    CHECK(std::all_of(y, y + d->size(), [](std::int32_t v) { return v >= 0 && v <= 9; }));
    CHECK(*std::max_element(y, y + d->size()) == 9);
    Dataset s = scale(*d, 1.0f / 255);
    const float* x = s.x.data<float>();
    auto [lo, hi] = std::minmax_element(x, x + s.x.numel());
    CHECK(*lo == 0.0f);
    CHECK(*hi == 1.0f);
  }
}
