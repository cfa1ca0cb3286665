// The builder API: functions that record ops on a Value's graph, so model
// code reads like the math:  auto h = sigmoid(matmul(x, W) + b);
// Shapes follow NumPy broadcasting; Dim::batch() is the symbolic batch size.
// Each primitive lives in one file of ops/ (shape rule, kernels, gradient);
// the composites here are written with primitives and get gradients for free.
#pragma once
#include <cstdint>
#include <vector>

#include "graph/graph.hpp"

namespace anneal {

using Axes = std::vector<std::int64_t>;

// --- linear algebra (ops/matmul.cpp) ---------------------------------------
// [M,K] x [K,N] -> [M,N]; trans_a / trans_b use the transposed operand.
Value matmul(Value a, Value b, bool trans_a = false, bool trans_b = false);

// --- broadcasting arithmetic (ops/binary.cpp) --------------------------------
Value add(Value a, Value b);
Value sub(Value a, Value b);
Value mul(Value a, Value b);
Value div(Value a, Value b);
Value operator+(Value a, Value b);
Value operator-(Value a, Value b);
Value operator*(Value a, Value b);
Value operator/(Value a, Value b);
Value operator+(Value a, double b);
Value operator-(Value a, double b);
Value operator*(Value a, double b);
Value operator/(Value a, double b);
Value operator+(double a, Value b);
Value operator-(double a, Value b);
Value operator*(double a, Value b);
Value operator/(double a, Value b);
Value operator-(Value a);
// 1.0 where the predicate holds, else 0.0 (not differentiable).
Value equal(Value a, Value b);
Value greater(Value a, Value b);
// where(cond != 0, a, b), broadcasting all three.
Value select(Value cond, Value a, Value b);

// --- unary math (ops/unary.cpp) ----------------------------------------------
Value neg(Value x);
Value exp(Value x);
Value log(Value x);
Value log1p(Value x);
Value sqrt(Value x);
Value square(Value x);
Value abs(Value x);
Value sign(Value x);  // -1, 0 or 1 (not differentiable)
Value sigmoid(Value x);
Value tanh(Value x);
Value relu(Value x);
Value leaky_relu(Value x, double slope = 0.01);
Value softplus(Value x);  // log(1 + e^x), stable for large |x|
// dy * y * (1 - y): sigmoid's gradient from its output y, in one loop.
Value sigmoid_backward(Value dy, Value y);

// --- update rules optimizers are written with (ops/update_rules.cpp) ----------
// One loop each instead of a chain of primitives. a, b, lr, eps are 0-d.
Value axpby(Value x, Value y, Value a, Value b);  // a*x + b*y, x and y of one shape
// p - lr * m / (sqrt(v) + eps), elementwise; p, m, v of one shape (not differentiable).
Value adam_update(Value p, Value m, Value v, Value lr, Value eps);

// --- broadcasting plumbing (ops/broadcast.cpp) -------------------------------
// x broadcast to the shape of `like` (run-time shape: batch included).
Value broadcast_like(Value x, Value like);
// Sums x down to the shape of `like` (the adjoint of broadcast_like).
Value sum_to_like(Value x, Value like);

// --- reductions (ops/reduce.cpp) ---------------------------------------------
// Empty axes: every axis.
Value sum(Value x, Axes axes = {}, bool keepdims = false);
Value mean(Value x, Axes axes = {}, bool keepdims = false);
Value max(Value x, Axes axes = {}, bool keepdims = false);
// Number of elements along `axes` at run time, as an f32 scalar.
Value size_of(Value x, Axes axes = {});
Value logsumexp(Value x, std::int64_t axis = -1, bool keepdims = false);
Value softmax(Value x, std::int64_t axis = -1);
Value log_softmax(Value x, std::int64_t axis = -1);

// --- losses (composites, ops/losses.cpp) -------------------------------------
// Elementwise binary cross-entropy of sigmoid(logits) against targets in [0,1].
Value bce_with_logits(Value logits, Value targets);
// Mean over every element of (a - b)^2.
Value mse(Value a, Value b);
// Per-example cross-entropy of logits [B,K] against i32 labels [B] -> [B].
Value cross_entropy(Value logits, Value labels);
// KL(N(mu, exp(logvar)) || N(0, 1)), elementwise.
Value kl_normal_std(Value mu, Value logvar);

// --- shapes (ops/shape.cpp) --------------------------------------------------
// New shape with the same element count; the batch dim may only move whole.
Value reshape(Value x, Dims shape);
Value transpose(Value x, Axes perm = {});  // empty perm: reverse the axes
Value concat(const std::vector<Value>& xs, std::int64_t axis);
Value slice(Value x, std::int64_t axis, std::int64_t begin, std::int64_t end);
// Zeros before/after along axis (the adjoint of slice).
Value pad(Value x, std::int64_t axis, std::int64_t before, std::int64_t after);
// i32 indices [..] -> f32 one-hot [.., depth].
Value one_hot(Value indices, std::int64_t depth);

// --- conversion (ops/cast.cpp) ---------------------------------------------------
// i32 -> f32 and back (values are converted; f32 -> i32 truncates).
Value cast(Value x, DType to);

// --- gradient and state control (ops/control.cpp) ----------------------------
// Identity forward, no gradient backward.
Value stop_gradient(Value x);
// Writes `value` into the param/state `target` once the step has run; every
// read of `target` in that step sees the old value. Returns the new value.
Value assign(Value target, Value value);

// --- random (ops/random.cpp); keyed by (seed, node, step, element) -----------
Value uniform(Graph& g, Dims shape, double lo = 0.0, double hi = 1.0);
Value randn(Graph& g, Dims shape);
Value uniform_like(Value x);
Value randn_like(Value x);
// 1.0 with probability p, elementwise.
Value bernoulli(Value p);
// mu + sigma * eps, eps ~ N(0, 1): differentiable in mu and sigma.
Value normal(Value mu, Value sigma);
// mu + exp(logvar / 2) * eps: the VAE's reparameterized sample.
Value gaussian_rsample(Value mu, Value logvar);
// One index per row, drawn from softmax(logits) along the last axis -> i32.
Value categorical(Value logits);
// Each element kept with probability 1 - p, else zeroed (denoising AEs).
Value masking_noise(Value x, double p);

}  // namespace anneal
