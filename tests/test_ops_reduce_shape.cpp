// Op cases for reductions, shape ops and losses, plus the properties the
// harness cannot see: a symbolic batch, stability, determinism across thread
// counts and the errors bad shapes raise.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "tests/op_check.hpp"

using namespace anneal;
using anneal::test::InputSpec;
using anneal::test::OpCase;

namespace {

// Dimensions all distinct, so a transposed or misplaced axis cannot pass.
const Dims k357{3, 5, 7};

using Build = std::function<Value(Graph&, const std::vector<Value>&)>;

OpCase on_x(const std::string& name, std::vector<std::string> ops, Build f, InputSpec in = {k357},
            bool second = true) {
  return OpCase{.name = name, .ops = std::move(ops), .inputs = {in}, .build = std::move(f), .second_order = second};
}

}  // namespace

ANNEAL_OP_CASES("ops: sum and max over each axis, several axes and all axes", {
    on_x("sum all", {"sum"}, [](Graph&, const std::vector<Value>& x) { return sum(x[0]); }),
    on_x("sum axis 0", {"sum"}, [](Graph&, const std::vector<Value>& x) { return sum(x[0], {0}); }),
    on_x("sum axis 1 keepdims", {"sum"}, [](Graph&, const std::vector<Value>& x) { return sum(x[0], {1}, true); }),
    on_x("sum axis -1", {"sum"}, [](Graph&, const std::vector<Value>& x) { return sum(x[0], {-1}); }),
    on_x("sum axes 0,2", {"sum"}, [](Graph&, const std::vector<Value>& x) { return sum(x[0], {0, 2}); }),
    on_x("sum axes 2,0 keepdims", {"sum"}, [](Graph&, const std::vector<Value>& x) { return sum(x[0], {2, 0}, true); }),
    on_x("sum axes 0,1 keepdims", {"sum"}, [](Graph&, const std::vector<Value>& x) { return sum(x[0], {0, 1}, true); }),
    on_x("sum of a square (second order is not zero)", {"sum", "square"},
         [](Graph&, const std::vector<Value>& x) { return sum(square(x[0]), {1}); }),
    on_x("max all", {"max"}, [](Graph&, const std::vector<Value>& x) { return max(x[0]); }),
    on_x("max axis 0", {"max"}, [](Graph&, const std::vector<Value>& x) { return max(x[0], {0}); }),
    on_x("max axis 1 keepdims", {"max"}, [](Graph&, const std::vector<Value>& x) { return max(x[0], {1}, true); }),
    on_x("max axis 2", {"max"}, [](Graph&, const std::vector<Value>& x) { return max(x[0], {2}); }),
    on_x("max axes 0,2 keepdims", {"max"}, [](Graph&, const std::vector<Value>& x) { return max(x[0], {0, 2}, true); }),
    on_x("mean all", {"sum", "size_of", "div"}, [](Graph&, const std::vector<Value>& x) { return mean(x[0]); }),
    on_x("mean axis 1", {"sum", "size_of"}, [](Graph&, const std::vector<Value>& x) { return mean(x[0], {1}); }),
    on_x("mean axes 0,2 keepdims", {"sum", "size_of"},
         [](Graph&, const std::vector<Value>& x) { return mean(square(x[0]), {0, 2}, true); }),
    OpCase{.name = "size_of", .ops = {"size_of"}, .inputs = {{k357}},
           .build = [](Graph&, const std::vector<Value>& x) { return size_of(x[0], {0, 2}) + size_of(x[0]); },
           .check_grad = false},
});

ANNEAL_OP_CASES("ops: reductions large enough for the tiled and blocked kernels", {
    // Many reduced elements per output: several fixed-size blocks each.
    on_x("sum rows of [3, 40000]", {"sum"}, [](Graph&, const std::vector<Value>& x) { return sum(x[0], {1}); },
         {{3, 40000}}, false),
    // One output: blocks split across threads.
    on_x("sum all of [200, 300]", {"sum"}, [](Graph&, const std::vector<Value>& x) { return sum(x[0]); },
         {{200, 300}}, false),
    // Contiguous outputs wider than a tile.
    on_x("sum axis 0 of [300, 600]", {"sum"}, [](Graph&, const std::vector<Value>& x) { return sum(x[0], {0}); },
         {{300, 600}}, false),
    on_x("max axes 0,2 of [40, 30, 50]", {"max"},
         [](Graph&, const std::vector<Value>& x) { return max(x[0], {0, 2}); }, {{40, 30, 50}}, false),
    // The loss is large here, so finite differences lose digits: kernels only.
    OpCase{.name = "logsumexp axis 0 of [300, 600]", .ops = {"logsumexp"}, .inputs = {{{300, 600}, -20, 20}},
           .build = [](Graph&, const std::vector<Value>& x) { return logsumexp(x[0], 0); }, .check_grad = false},
});

ANNEAL_OP_CASES("ops: logsumexp, softmax and log_softmax", {
    on_x("logsumexp axis 0", {"logsumexp"}, [](Graph&, const std::vector<Value>& x) { return logsumexp(x[0], 0); },
         {k357, -3, 3}),
    on_x("logsumexp axis 1 keepdims", {"logsumexp"},
         [](Graph&, const std::vector<Value>& x) { return logsumexp(x[0], 1, true); }, {k357, -3, 3}),
    on_x("logsumexp axis -1", {"logsumexp"}, [](Graph&, const std::vector<Value>& x) { return logsumexp(x[0]); },
         {k357, -3, 3}),
    on_x("logsumexp of large logits", {"logsumexp"},
         [](Graph&, const std::vector<Value>& x) { return logsumexp(x[0] * 100.0, 2) / 100.0; }, {k357, -3, 3}),
    on_x("softmax axis 1", {"logsumexp", "exp", "sub"},
         [](Graph&, const std::vector<Value>& x) { return softmax(x[0], 1); }, {k357, -3, 3}),
    on_x("softmax axis -1", {"logsumexp"}, [](Graph&, const std::vector<Value>& x) { return softmax(x[0]); },
         {k357, -3, 3}),
    on_x("log_softmax axis 0", {"logsumexp"}, [](Graph&, const std::vector<Value>& x) { return log_softmax(x[0], 0); },
         {k357, -3, 3}),
});

ANNEAL_OP_CASES("ops: reshape, transpose, concat, slice, pad and one_hot", {
    on_x("reshape [3,5,7] -> [15,7]", {"reshape"},
         [](Graph&, const std::vector<Value>& x) { return square(reshape(x[0], {15, 7})); }),
    on_x("reshape [3,5,7] -> [7,1,15]", {"reshape"},
         [](Graph&, const std::vector<Value>& x) { return reshape(x[0], {7, 1, 15}); }),
    on_x("transpose reversed", {"transpose"},
         [](Graph&, const std::vector<Value>& x) { return square(transpose(x[0])); }),
    on_x("transpose 1,0,2", {"transpose"},
         [](Graph&, const std::vector<Value>& x) { return transpose(x[0], {1, 0, 2}); }),
    on_x("transpose 2,0,-2", {"transpose"},
         [](Graph&, const std::vector<Value>& x) { return square(transpose(x[0], {2, 0, -2})); }),
    on_x("transpose [67,129] (parallel rows)", {"transpose"},
         [](Graph&, const std::vector<Value>& x) { return transpose(x[0]); }, {{67, 129}}, false),
    OpCase{.name = "concat axis 1 of three", .ops = {"concat"}, .inputs = {{k357}, {{3, 2, 7}}, {{3, 1, 7}}},
           .build = [](Graph&, const std::vector<Value>& x) { return square(concat({x[0], x[1], x[2]}, 1)); },
           .second_order = true},
    OpCase{.name = "concat axis 0", .ops = {"concat"}, .inputs = {{k357}, {{2, 5, 7}}},
           .build = [](Graph&, const std::vector<Value>& x) { return concat({x[0], x[1]}, 0); }},
    OpCase{.name = "concat axis -1", .ops = {"concat"}, .inputs = {{k357}, {{3, 5, 4}}},
           .build = [](Graph&, const std::vector<Value>& x) { return concat({x[0], x[1]}, -1); }},
    OpCase{.name = "concat of i32", .ops = {"concat"}, .inputs = {{{3, 5}, 0, 9, true}, {{3, 2}, 0, 9, true}},
           .build = [](Graph&, const std::vector<Value>& x) { return cast(concat({x[0], x[1]}, 1), DType::f32); },
           .check_grad = false},
    on_x("slice axis 1 [1, 4)", {"slice"},
         [](Graph&, const std::vector<Value>& x) { return square(slice(x[0], 1, 1, 4)); }),
    on_x("slice axis 0 [2, 3)", {"slice"}, [](Graph&, const std::vector<Value>& x) { return slice(x[0], 0, 2, 3); }),
    on_x("slice axis -1 [0, 7)", {"slice"}, [](Graph&, const std::vector<Value>& x) { return slice(x[0], -1, 0, 7); }),
    on_x("pad axis 2 by 2 and 1", {"pad"},
         [](Graph&, const std::vector<Value>& x) { return square(pad(x[0], 2, 2, 1)); }),
    on_x("pad axis 0 by 0 and 3", {"pad"}, [](Graph&, const std::vector<Value>& x) { return pad(x[0], 0, 0, 3); }),
    OpCase{.name = "one_hot", .ops = {"one_hot"}, .inputs = {{{3, 5}, 0, 7, true}},
           .build = [](Graph&, const std::vector<Value>& x) { return one_hot(x[0], 7); }, .check_grad = false},
});

ANNEAL_OP_CASES("ops: losses", {
    OpCase{.name = "bce_with_logits", .ops = {"softplus", "mul", "sub"}, .inputs = {{k357, -4, 4}, {k357, 0, 1}},
           .build = [](Graph&, const std::vector<Value>& x) { return bce_with_logits(x[0], x[1]); },
           .second_order = true},
    OpCase{.name = "mse", .ops = {"sum", "size_of", "square"}, .inputs = {{k357}, {k357}},
           .build = [](Graph&, const std::vector<Value>& x) { return mse(x[0], x[1]); }, .second_order = true},
    OpCase{.name = "cross_entropy", .ops = {"logsumexp", "one_hot", "sum"},
           .inputs = {{{5, 7}, -3, 3}, {{5}, 0, 7, true}},
           .build = [](Graph&, const std::vector<Value>& x) { return cross_entropy(x[0], x[1]); },
           .second_order = true},
    OpCase{.name = "kl_normal_std", .ops = {"exp", "square"}, .inputs = {{k357}, {k357, -2, 2}},
           .build = [](Graph&, const std::vector<Value>& x) { return kl_normal_std(x[0], x[1]); },
           .second_order = true},
});

TEST_CASE("mean over a symbolic batch: one graph - batch 3 then batch 5") {
  Graph g("batch");
  Value x = g.input("x", {Dim::batch(), 4});
  Value w = g.param("w", {4}, Init::constant(1.0));
  Value all = mean(x), rows = mean(x, {1}), cols = mean(x, {0});
  // d/dw mean_b(sum_j x_bj w_j) = the column means: size_of in a gradient.
  Value dw = grad(mean(sum(x * w, {1})), {w})[0];
  Session s(g);
  for (std::int64_t batch : {3, 5}) {
    INFO("batch ", batch);
    std::vector<double> v;
    for (std::int64_t i = 0; i < batch * 4; ++i) v.push_back(static_cast<double>(i % 7) - 2.5);
    auto out = s.run({{"x", Tensor::from(v, {batch, 4})}}, {all, rows, cols, dw});
    double total = 0;
    for (double e : v) total += e;
    CHECK(out[0].item() == doctest::Approx(total / static_cast<double>(batch * 4)));
    REQUIRE(out[1].shape() == Dims{batch});
    for (std::int64_t b = 0; b < batch; ++b) {
      double r = 0;
      for (std::int64_t j = 0; j < 4; ++j) r += v[static_cast<std::size_t>(b * 4 + j)];
      CHECK(out[1].at(b) == doctest::Approx(r / 4));
    }
    REQUIRE(out[2].shape() == Dims{4});
    for (std::int64_t j = 0; j < 4; ++j) {
      double c = 0;
      for (std::int64_t b = 0; b < batch; ++b) c += v[static_cast<std::size_t>(b * 4 + j)];
      CHECK(out[2].at(j) == doctest::Approx(c / static_cast<double>(batch)));
      CHECK(out[3].at(j) == doctest::Approx(c / static_cast<double>(batch)));
    }
  }
}

TEST_CASE("cross_entropy matches a hand computation") {
  Graph g("ce");
  Value logits = g.input("logits", {Dim::batch(), 3});
  Value labels = g.input("labels", {Dim::batch()}, DType::i32);
  Value ce = cross_entropy(logits, labels);
  std::vector<double> z = {1.0, 2.0, 0.5, -1.0, 0.0, 3.0};
  std::vector<double> y = {1, 0};
  Session s(g);
  Tensor out = s.run({{"logits", Tensor::from(z, {2, 3})}, {"labels", Tensor::from(y, {2}, DType::i32)}}, ce);
  REQUIRE(out.shape() == Dims{2});
  for (int b = 0; b < 2; ++b) {
    double norm = 0;
    for (int k = 0; k < 3; ++k) norm += std::exp(z[static_cast<std::size_t>(b * 3 + k)]);
    double expect = -(z[static_cast<std::size_t>(b * 3) + static_cast<std::size_t>(y[static_cast<std::size_t>(b)])] -
                      std::log(norm));
    CHECK(out.at(b) == doctest::Approx(expect).epsilon(1e-6));
  }
}

TEST_CASE("bce_with_logits and softmax stay finite for logits of +-100") {
  Graph g("bce");
  Value x = g.param("x", {4}, Init::zeros());
  Value t = g.constant(Tensor::from({1, 0, 0, 1}, {4}));
  Value loss = bce_with_logits(x, t);
  Value dx = grad(sum(loss), {x})[0];
  Value sm = softmax(x);
  Session s(g);  // check_finite: any NaN or Inf throws
  s.set("x", Tensor::from({100, -100, 100, -100}, {4}));
  auto out = s.run({}, {loss, dx, sm});
  std::vector<double> want_loss = {0, 0, 100, 100}, want_dx = {0, 0, 1, -1};  // sigmoid(x) - t
  for (int i = 0; i < 4; ++i) {
    CHECK(out[0].at(i) == doctest::Approx(want_loss[static_cast<std::size_t>(i)]));
    CHECK(out[1].at(i) == doctest::Approx(want_dx[static_cast<std::size_t>(i)]));
  }
  CHECK(out[2].at(0) == doctest::Approx(0.5));
  CHECK(out[2].at(1) == doctest::Approx(0.0));
}

TEST_CASE("reductions are bitwise identical for 1 - 2 and 3 threads") {
  const std::int64_t rows = 1024, cols = 1031;  // > 1M elements, odd widths
  Graph g("det");
  Value x = g.input("x", {rows, cols});
  std::vector<Value> outs = {sum(x),           sum(x, {0}),          sum(x, {1}),          max(x),
                             max(x, {0}),      logsumexp(x, 0),      logsumexp(x, 1),      mean(x),
                             sum(reshape(x, {rows * cols})), sum(transpose(x), {1})};
  RandomStream rng{42, 0, 0};
  std::vector<double> v(static_cast<std::size_t>(rows * cols));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = rng.normal_at(i) * 3.0 + 1.0;
  Feeds feeds{{"x", Tensor::from(v, {rows, cols})}};

  const int saved = num_threads();
  std::vector<std::vector<Tensor>> results;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    Session s(g);
    results.push_back(s.run(feeds, outs));
  }
  set_num_threads(saved);
  for (std::size_t k = 0; k < outs.size(); ++k) {
    INFO("output ", k, " (", outs[k].node().describe(), ")");
    for (std::size_t r = 1; r < results.size(); ++r) {
      const Tensor &a = results[0][k], &b = results[r][k];
      REQUIRE(a.shape() == b.shape());
      CHECK(std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
    }
  }
  // And the f32 sums agree with the f64 reference.
  Session ref(g, {.precision = Precision::reference});
  Tensor r = ref.run(feeds, outs[0]);
  CHECK(results[0][0].item() == doctest::Approx(r.item()).epsilon(1e-6));
}

TEST_CASE("shape ops keep the batch dim whole and work at run time") {
  Graph g("batched");
  Value x = g.input("x", {Dim::batch(), 6});
  Value r = reshape(x, {Dim::batch(), 2, 3});
  CHECK(r.shape() == Dims{Dim::batch(), 2, 3});
  CHECK(reshape(x, {1, Dim::batch(), 6, 1}).shape() == Dims{1, Dim::batch(), 6, 1});
  Value t = transpose(r, {1, 0, 2});
  CHECK(t.shape() == Dims{2, Dim::batch(), 3});
  Value sl = slice(x, 1, 2, 5);
  Value cat = concat({sl, x}, 1);
  Value padded = pad(sl, 1, 1, 0);
  Session s(g);
  std::vector<double> v;
  for (int i = 0; i < 18; ++i) v.push_back(i);
  auto out = s.run({{"x", Tensor::from(v, {3, 6})}}, {t, sl, cat, padded});
  CHECK(out[0].shape() == Dims{2, 3, 3});
  CHECK(out[0].at(1 * 9 + 2 * 3 + 0) == 6 * 2 + 3);  // t[1, 2, 0] = x[2, 3]
  CHECK(out[1].shape() == Dims{3, 3});
  CHECK(out[1].at(3) == 8);  // x[1, 2]
  CHECK(out[2].shape() == Dims{3, 9});
  CHECK(out[2].at(9 + 3) == 6);  // x[1, 0]
  CHECK(out[3].shape() == Dims{3, 4});
  CHECK(out[3].at(4) == 0);
  CHECK(out[3].at(5) == 8);
}

namespace {
// The message of the InvalidInput that f throws ("" if none).
template <class F> std::string invalid_input(F&& f) {
  try {
    f();
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "";
}
void check_names(const std::string& msg, const std::string& op) {
  INFO(msg);
  CHECK(msg.find("node '" + op + "_") != std::string::npos);
  CHECK(msg.find("(op " + op) != std::string::npos);
}
}  // namespace

TEST_CASE("bad shapes throw InvalidInput naming the node and op") {
  Graph g("bad");
  Value x = g.param("x", k357, Init::zeros());
  Value b = g.input("b", {Dim::batch(), 4});
  check_names(invalid_input([&] { reshape(x, {4, 5, 5}); }), "reshape");
  check_names(invalid_input([&] { reshape(b, {Dim::batch(), 3}); }), "reshape");
  std::string split = invalid_input([&] { reshape(b, {2, Dim::batch(), 2}); });
  check_names(split, "reshape");
  CHECK(split.find("batch") != std::string::npos);
  check_names(invalid_input([&] { reshape(b, {4, 1}); }), "reshape");
  check_names(invalid_input([&] { reshape(x, {3, 5, -7}); }), "reshape");
  check_names(invalid_input([&] { sum(x, {3}); }), "sum");
  check_names(invalid_input([&] { sum(x, {1, -2}); }), "sum");
  check_names(invalid_input([&] { max(x, {-4}); }), "max");
  check_names(invalid_input([&] { size_of(x, {5}); }), "size_of");
  check_names(invalid_input([&] { logsumexp(x, 3); }), "logsumexp");
  check_names(invalid_input([&] { transpose(x, {0, 1}); }), "transpose");
  check_names(invalid_input([&] { transpose(x, {0, 1, 1}); }), "transpose");
  check_names(invalid_input([&] { concat({x, g.param("y", {3, 4, 6}, Init::zeros())}, 1); }), "concat");
  check_names(invalid_input([&] { concat({x, x}, 3); }), "concat");
  check_names(invalid_input([&] { concat({b, b}, 0); }), "concat");
  check_names(invalid_input([&] { slice(x, 1, 2, 6); }), "slice");
  check_names(invalid_input([&] { slice(b, 0, 0, 1); }), "slice");
  check_names(invalid_input([&] { pad(b, 0, 1, 1); }), "pad");
  check_names(invalid_input([&] { pad(x, 0, -1, 1); }), "pad");
  check_names(invalid_input([&] { one_hot(x, 3); }), "one_hot");
  CHECK_THROWS_AS(cross_entropy(x, b), InvalidInput);
}

TEST_CASE("one_hot rejects an out-of-range index at run time - naming the node") {
  Graph g("labels");
  Value y = g.input("y", {Dim::batch()}, DType::i32);
  Value h = one_hot(y, 3);
  Session s(g);
  CHECK(s.run({{"y", Tensor::from({0, 2, 1}, {3}, DType::i32)}}, h).at(5) == 1);
  std::string msg = invalid_input([&] { s.run({{"y", Tensor::from({0, 3}, {2}, DType::i32)}}, h); });
  check_names(msg, "one_hot");
  CHECK(msg.find("index 3") != std::string::npos);
}
