// Op cases for the elementwise, broadcasting, matmul and control ops.
#include <doctest/doctest.h>

#include "tests/op_check.hpp"

using namespace anneal;
using anneal::test::InputSpec;
using anneal::test::OpCase;

namespace {

// Dimensions all distinct, so a transposed or misplaced axis cannot pass.
const Dims k357{3, 5, 7};

OpCase unary_case(const std::string& op, Value (*f)(Value), InputSpec in = {k357}, bool second = true) {
  return OpCase{.name = op, .ops = {op}, .inputs = {in},
                .build = [f](Graph&, const std::vector<Value>& x) { return f(x[0]); }, .second_order = second};
}

Value leaky(Value x) { return leaky_relu(x, 0.2); }

}  // namespace

ANNEAL_OP_CASES("ops: unary math, values and first and second derivatives", {
    unary_case("neg", neg),
    unary_case("exp", exp),
    unary_case("log", log, {k357, 0.2, 3.0}),
    unary_case("log1p", log1p, {k357, -0.5, 3.0}),
    unary_case("sqrt", sqrt, {k357, 0.2, 3.0}),
    unary_case("square", square),
    unary_case("abs", abs, {k357, -1, 1, false, 0.05}),
    unary_case("sigmoid", sigmoid, {k357, -4, 4}),
    unary_case("tanh", tanh, {k357, -3, 3}),
    unary_case("relu", relu, {k357, -1, 1, false, 0.05}),
    unary_case("leaky_relu", leaky, {k357, -1, 1, false, 0.05}),
    unary_case("softplus", softplus, {k357, -30, 30}),
    OpCase{.name = "sigmoid_backward", .ops = {"sigmoid_backward"}, .inputs = {{k357}, {k357, 0.05, 0.95}},
           .build = [](Graph&, const std::vector<Value>& x) { return sigmoid_backward(x[0], x[1]); },
           .second_order = true},
    OpCase{.name = "sigmoid_backward broadcast", .ops = {"sigmoid_backward", "sum_to_like"},
           .inputs = {{k357}, {{3, 5, 1}, 0.05, 0.95}},
           .build = [](Graph&, const std::vector<Value>& x) { return sigmoid_backward(x[0], x[1]); },
           .second_order = true},
    OpCase{.name = "sign", .ops = {"sign"}, .inputs = {{k357, -1, 1, false, 0.05}},
           .build = [](Graph&, const std::vector<Value>& x) { return sign(x[0]); }, .check_grad = false},
});

ANNEAL_OP_CASES("ops: broadcasting arithmetic along each axis", {
    OpCase{.name = "add same shape", .ops = {"add"}, .inputs = {{k357}, {k357}},
           .build = [](Graph&, const std::vector<Value>& x) { return x[0] + x[1]; }, .second_order = true},
    OpCase{.name = "add broadcast axis 0", .ops = {"add", "sum_to_like", "broadcast_like"},
           .inputs = {{k357}, {{1, 5, 7}}},
           .build = [](Graph&, const std::vector<Value>& x) { return x[0] + x[1]; }, .second_order = true},
    OpCase{.name = "sub broadcast axis 1", .ops = {"sub"}, .inputs = {{{3, 1, 7}}, {k357}},
           .build = [](Graph&, const std::vector<Value>& x) { return x[0] - x[1]; }, .second_order = true},
    OpCase{.name = "mul broadcast axis 2 (trailing)", .ops = {"mul"}, .inputs = {{k357}, {{3, 5, 1}}},
           .build = [](Graph&, const std::vector<Value>& x) { return x[0] * x[1]; }, .second_order = true},
    OpCase{.name = "mul by a lower-rank row", .ops = {"mul"}, .inputs = {{k357}, {{7}}},
           .build = [](Graph&, const std::vector<Value>& x) { return x[0] * x[1]; }, .second_order = true},
    OpCase{.name = "div both broadcast", .ops = {"div"}, .inputs = {{{3, 1, 7}}, {{1, 5, 7}, 0.5, 2.0}},
           .build = [](Graph&, const std::vector<Value>& x) { return x[0] / x[1]; }, .second_order = true},
    OpCase{.name = "scalar arithmetic", .ops = {"constant"}, .inputs = {{k357, 0.5, 2}},
           .build = [](Graph&, const std::vector<Value>& x) { return (2.0 - x[0]) * 3.0 / (1.0 + x[0]) - 1.0; },
           .second_order = true},
    OpCase{.name = "select", .ops = {"select", "greater"}, .inputs = {{k357}, {k357}, {{5, 7}}},
           .build = [](Graph& g, const std::vector<Value>& x) {
             return select(greater(x[0], g.scalar(0.0)), x[1], x[2]);
           }, .second_order = true},
    OpCase{.name = "equal", .ops = {"equal", "cast"}, .inputs = {{k357, -2, 2, true}, {{5, 7}, -2, 2, true}},
           .build = [](Graph&, const std::vector<Value>& x) {
             return equal(cast(x[0], DType::f32), cast(x[1], DType::f32));
           }, .check_grad = false},
    OpCase{.name = "broadcast_like and sum_to_like", .ops = {"broadcast_like", "sum_to_like"},
           .inputs = {{{5, 1}}, {k357}},
           .build = [](Graph&, const std::vector<Value>& x) {
             return sum_to_like(broadcast_like(x[0], x[1]) * x[1], x[0]);
           }, .second_order = true},
    OpCase{.name = "row sums of a broadcast product (its bias gradient is a GEMV)", .ops = {"mul", "sum"},
           .inputs = {{k357}, {{7}}},
           .build = [](Graph&, const std::vector<Value>& x) { return sum(x[0] * x[1], {1}); },
           .second_order = true},
});

ANNEAL_OP_CASES("ops: update rules", {
    OpCase{.name = "axpby", .ops = {"axpby"}, .inputs = {{k357}, {k357}, {{}, -2, 2}, {{}, -2, 2}},
           .build = [](Graph&, const std::vector<Value>& x) { return axpby(x[0], x[1], x[2], x[3]); },
           .second_order = true},
    OpCase{.name = "adam_update", .ops = {"adam_update"},
           .inputs = {{k357}, {k357}, {k357, 0.01, 2.0}, {{}, 0.001, 0.1}, {{}, 1e-8, 1e-3}},
           .build = [](Graph&, const std::vector<Value>& x) { return adam_update(x[0], x[1], x[2], x[3], x[4]); },
           .check_grad = false},
});

ANNEAL_OP_CASES("ops: matmul with every transpose combination", {
    OpCase{.name = "matmul NN", .ops = {"matmul"}, .inputs = {{{3, 5}}, {{5, 7}}},
           .build = [](Graph&, const std::vector<Value>& x) { return matmul(x[0], x[1]); }, .second_order = true},
    OpCase{.name = "matmul TN", .ops = {"matmul"}, .inputs = {{{5, 3}}, {{5, 7}}},
           .build = [](Graph&, const std::vector<Value>& x) { return matmul(x[0], x[1], true, false); },
           .second_order = true},
    OpCase{.name = "matmul NT", .ops = {"matmul"}, .inputs = {{{3, 5}}, {{7, 5}}},
           .build = [](Graph&, const std::vector<Value>& x) { return matmul(x[0], x[1], false, true); },
           .second_order = true},
    OpCase{.name = "matmul TT", .ops = {"matmul"}, .inputs = {{{5, 3}}, {{7, 5}}},
           .build = [](Graph&, const std::vector<Value>& x) { return matmul(x[0], x[1], true, true); },
           .second_order = true},
    OpCase{.name = "matmul large (fast kernel on oneDNN)", .ops = {"matmul"}, .inputs = {{{67, 129}}, {{129, 33}}},
           .build = [](Graph&, const std::vector<Value>& x) { return matmul(x[0], x[1]); }},
    OpCase{.name = "composite tanh(matmul + bias)", .ops = {"matmul", "add", "tanh"},
           .inputs = {{{3, 5}}, {{5, 7}}, {{7}}},
           .build = [](Graph&, const std::vector<Value>& x) { return tanh(matmul(x[0], x[1]) + x[2]); },
           .second_order = true},
});

ANNEAL_OP_CASES("ops: stop_gradient and assign", {
    OpCase{.name = "stop_gradient", .ops = {"stop_gradient"}, .inputs = {{k357}},
           .build = [](Graph&, const std::vector<Value>& x) { return x[0] * stop_gradient(x[0]); },
           .check_grad = false},
    OpCase{.name = "assign", .ops = {"assign"}, .inputs = {{k357}},
           .build = [](Graph& g, const std::vector<Value>& x) {
             return assign(g.state("target", k357), x[0] * 2.0);
           }, .check_grad = false},
});

TEST_CASE("stop_gradient blocks exactly its branch") {
  Graph g;
  Value x = g.param("x", {2}, Init::constant(3.0));
  Value loss = sum_to_like(x * stop_gradient(x), g.scalar(0));
  Session s(g);
  Tensor d = s.run({}, grad(loss, {x})[0]);
  CHECK(d.at(0) == doctest::Approx(3.0));  // d(x * c)/dx = c, not 2x
}

TEST_CASE("the gradient of a row sum of v * b for the row b is one GEMV, r^T v") {
  Graph g;
  Value v = g.input("v", {Dim::batch(), 3});
  Value b = g.param("b", {3}, Init::constant(0.5));
  Value r = g.input("r", {Dim::batch()});
  Value db = grad(sum(sum(v * b, {1}) * r), {b})[0];
  REQUIRE(db.node().op->name == "reshape");
  CHECK(db.node().inputs[0].node().op->name == "matmul");
  Session s(g);
  Tensor vt = Tensor::zeros(DType::f32, {2, 3}), rt = Tensor::zeros(DType::f32, {2});
  for (int i = 0; i < 6; ++i) vt.data<float>()[i] = static_cast<float>(i + 1);
  rt.data<float>()[0] = 2, rt.data<float>()[1] = -1;
  Tensor d = s.run({{"v", vt}, {"r", rt}}, db);
  CHECK(d.shape() == Dims{3});
  CHECK(d.at(0) == doctest::Approx(2 * 1 - 4));  // sum over rows of r_i v_ij
  CHECK(d.at(1) == doctest::Approx(2 * 2 - 5));
  CHECK(d.at(2) == doctest::Approx(2 * 3 - 6));
}

TEST_CASE("update rules compute their formulas and reject non-scalar hyper-parameters") {
  Graph g;
  Value x = g.constant(Tensor::from(std::vector<double>{1, 2}, {2}));
  Value y = g.constant(Tensor::from(std::vector<double>{4, 9}, {2}));
  Session s(g);
  Tensor c = s.run({}, axpby(x, y, g.scalar(3.0), g.scalar(-0.5)));
  CHECK(c.at(0) == doctest::Approx(1.0));   // 3*1 - 0.5*4
  CHECK(c.at(1) == doctest::Approx(1.5));   // 3*2 - 0.5*9
  Tensor p = s.run({}, adam_update(x, x, y, g.scalar(0.1), g.scalar(1.0)));
  CHECK(p.at(0) == doctest::Approx(1.0 - 0.1 * 1.0 / (2.0 + 1.0)));
  CHECK(p.at(1) == doctest::Approx(2.0 - 0.1 * 2.0 / (3.0 + 1.0)));
  CHECK_THROWS_WITH_AS(axpby(x, y, x, g.scalar(1.0)), doctest::Contains("must be a scalar"), InvalidInput);
  CHECK_THROWS_WITH_AS(adam_update(x, x, g.scalar(1.0), g.scalar(1.0), g.scalar(1.0)),
                       doctest::Contains("input 2 must have input 0's shape"), InvalidInput);
}
