// What an op is: its shape rule, its kernels and its gradient rule, in one
// record. Each op file in ops/ defines one OpDef (or a small family).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "backend/philox.hpp"
#include "backend/tensor.hpp"
#include "graph/attrs.hpp"

namespace anneal {

struct Node;
struct Value;

// What makes a node's value: ordinary ops compute it from their inputs; the
// others are supplied by the session (inputs are fed, params and state are
// held across steps) or committed by it (assign writes state after the step).
enum class OpRole { compute, input, param, state, constant, assign };

// The node's output type, as the shape rule computes it. A dimension equal to
// Dim::batch() is the symbolic batch size.
struct TypeInfo {
  DType dtype = DType::f32;
  Dims shape;
};

// Everything a kernel sees. `out` is allocated by the executor with the
// node's shape (batch resolved); float values are f32 for fast kernels and f64
// for reference kernels, i32 values stay i32.
struct KernelArgs {
  const Node& node;
  std::vector<const Tensor*> in;
  Tensor& out;
  RandomStream rng;  // keyed by (seed, node id, step)
};
using KernelFn = void (*)(KernelArgs&);

// A gradient rule: given the node, its output and the gradient flowing into
// the output (dout), build graph ops for the gradient of each input. An
// invalid Value means "no gradient" (e.g. an integer input).
struct GradArgs {
  const Node& node;
  const Value& out;
  const Value& dout;
};
using GradFn = std::vector<Value> (*)(const GradArgs&);

// A fusable elementwise kernel on f32 chunks: out[i] = f(in_0[i], in_1[i], ...)
// for i < n, where an input with scalar[k] != 0 is one value for all i. The
// runtime chains these over cache-sized chunks, so a run of elementwise ops
// makes one pass over memory. `offset` is the chunk's first element in the
// whole output (random ops key their stream by it).
struct ChunkArgs {
  const Node& node;
  const float* const* in;
  const std::uint8_t* scalar;
  float* out;
  std::int64_t n;
  std::int64_t offset;
  RandomStream rng;
};
using ChunkFn = void (*)(const ChunkArgs&);
// The most inputs a fusable op may have (adam_update has 5).
constexpr std::size_t kMaxChunkInputs = 6;

// Several chunkable ops in one loop. Where a fused pass has `ops` as
// consecutive members, wired as `inputs` says, the runtime calls `fn` once
// per chunk in place of their chunk kernels: Adam's four ops as four loops
// load and store every moment from L1 four times (a 314k-parameter update:
// 216 against 175 us from memory). `fn` computes exactly what the ops do,
// element by element, and writes every member's chunk.
struct ChunkCompound {
  std::vector<std::string> ops;
  // One string per member, one character per input: a letter is an operand
  // from outside the run (the same letter, the same operand; a, b, c, ...
  // with none skipped), a digit k the run's earlier member k. `fn` gets the
  // outside operands in letter order.
  std::vector<std::string> inputs;
  std::string scalars;  // the letters that must be 0-d values (hyper-parameters)
  void (*fn)(const float* const* in, float* const* out, std::int64_t n) = nullptr;
};
// The most outside operands and members of a compound.
constexpr std::size_t kMaxCompoundInputs = 12, kMaxCompoundMembers = 6;

// An activation the matmul kernel can apply itself (a oneDNN post-op).
enum class PostOp { none, relu, leaky_relu, sigmoid, tanh };

// Which forward values a gradient rule reads, so the memory planner keeps
// exactly those alive.
enum GradReads : unsigned { kReadsDoutOnly = 0, kReadsInputs = 1, kReadsOutput = 2 };

// Throw ShapeError from a shape rule; the graph adds the node, op and shapes.
struct ShapeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct OpDef {
  std::string name;
  int min_inputs = 0;
  int max_inputs = 0;  // -1: any number
  std::vector<AttrSpec> attrs;
  TypeInfo (*infer)(const Node&) = nullptr;
  KernelFn fast = nullptr;  // f32 (and i32) kernel
  KernelFn ref = nullptr;   // f64 scalar reference kernel, no oneDNN
  GradFn grad = nullptr;
  unsigned grad_reads = kReadsInputs;
  // Set (with the reason) for ops declared not differentiable; such ops pass
  // no gradient to their inputs.
  const char* not_differentiable = nullptr;
  bool stochastic = false;
  OpRole role = OpRole::compute;
  ChunkFn chunk = nullptr;        // set by elementwise ops: the runtime may fuse them
  PostOp post_op = PostOp::none;  // set by activations a matmul can apply
  // Bit k set: the kernels read input k for its shape only, so a compiled
  // program need not compute it (broadcast_like's `like`, size_of's input:
  // a gradient graph's references to forward values whose data it never reads).
  unsigned shape_only_inputs = 0;
};

}  // namespace anneal
