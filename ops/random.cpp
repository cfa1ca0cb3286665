// Random ops: uniform, randn, bernoulli, categorical (primitives: they own a
// kernel) and uniform_like, randn_like, normal, gaussian_rsample,
// masking_noise (composites: their gradients come from the ops they use).
//
// Every kernel reads the node's stream (KernelArgs::rng, keyed by seed, node
// and step) at the element's own index, so neither the thread count nor the
// partition can change a sample. The reference kernels use the stream's
// definition (uniform_at, normal_at) element by element; the fast kernels
// compute one Philox block per four elements and must give the same numbers
// (randn: the same Box-Muller in float, box_muller_f32, within a few ulps),
// which the fast-vs-reference op cases check.
#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/error.hpp"
#include "graph/shape_rules.hpp"
#include "ops/elementwise.hpp"
#include "ops/families.hpp"
#include "ops/ops.hpp"

namespace anneal {
namespace {

constexpr const char* kNoiseHasNoGradient =
    "random noise has no gradient (a reparameterized sample gets one through its composite)";
constexpr const char* kDiscreteSample = "a discrete sample: zero gradient almost everywhere";

// Blocks of four stream elements per chunk of a parallel loop.
constexpr std::int64_t kBlockGrain = kElementwiseGrain / 4;

// Words generated at once: 256 Philox blocks, 4 KiB.
constexpr std::int64_t kWordRun = 4 * 256;

// Calls f(i0, w, len) for runs of stream elements [i0, i0 + len), len <=
// kWordRun, w[j] being element i0 + j's word; w holds whole blocks, so the
// words up to the next multiple of 4 past len exist too. One Philox block
// per four elements, in parallel over blocks.
template <class F>
void for_each_word_run(const RandomStream& rng, std::int64_t n, F&& f) {
  constexpr std::int64_t kBatch = kWordRun / 4;
  std::int64_t blocks = (n + 3) / 4;
  parallel_for(blocks, kBlockGrain, [&](std::int64_t b0, std::int64_t b1) {
    std::uint32_t w[kWordRun];
    for (std::int64_t b = b0; b < b1; b += kBatch) {
      const std::int64_t count = std::min(kBatch, b1 - b);
      rng.words(static_cast<std::uint64_t>(b), count, w);
      const std::int64_t i0 = 4 * b;
      f(i0, static_cast<const std::uint32_t*>(w), std::min(4 * count, n - i0));
    }
  });
}

// Calls f(i, word) for every stream element i in [0, n).
template <class F>
void for_each_word(const RandomStream& rng, std::int64_t n, F&& f) {
  for_each_word_run(rng, n, [&](std::int64_t i0, const std::uint32_t* w, std::int64_t len) {
    for (std::int64_t j = 0; j < len; ++j) f(i0 + j, w[j]);
  });
}

// --- uniform and randn: sources whose shape is an attribute -----------------

TypeInfo sampled_shape(const Node& n) {
  const Dims& shape = n.attrs.ints("shape");
  for (auto d : shape)
    if (d < 0 && d != Dim::batch()) throw ShapeError("negative dimension in " + dims_str(shape));
  return {DType::f32, shape};
}

TypeInfo uniform_type(const Node& n) {
  double lo = n.attrs.f("lo"), hi = n.attrs.f("hi");
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo <= hi))
    throw ShapeError("uniform needs finite lo <= hi, got lo=" + std::to_string(lo) + ", hi=" + std::to_string(hi));
  return sampled_shape(n);
}

void uniform_fast(KernelArgs& a) {
  const double lo = a.node.attrs.f("lo"), width = a.node.attrs.f("hi") - lo;
  float* out = a.out.data<float>();
  for_each_word(a.rng, a.out.numel(), [&](std::int64_t i, std::uint32_t w) {
    out[i] = static_cast<float>(lo + width * uniform_open01(w));
  });
}
void uniform_ref(KernelArgs& a) {
  const double lo = a.node.attrs.f("lo"), width = a.node.attrs.f("hi") - lo;
  double* out = a.out.data<double>();
  for (std::int64_t i = 0; i < a.out.numel(); ++i) out[i] = lo + width * a.rng.uniform_at(static_cast<std::uint64_t>(i));
}

// Word pairs (w[2k], w[2k + 1]) to normals z[2k], z[2k + 1]: one loop the
// compiler vectorizes, cloned per instruction set.
ANNEAL_SIMD_CLONES void normals_from_words(const std::uint32_t* w, float* z, std::int64_t pairs) {
  for (std::int64_t k = 0; k < pairs; ++k) box_muller_f32(w[2 * k], w[2 * k + 1], z[2 * k], z[2 * k + 1]);
}

void randn_fast(KernelArgs& a) {
  float* out = a.out.data<float>();
  for_each_word_run(a.rng, a.out.numel(), [&](std::int64_t i0, const std::uint32_t* w, std::int64_t len) {
    // An odd run (the last, partial block) still draws its last pair whole:
    // computed aside, only its elements copied, so the stream stays the same.
    if (len % 2 == 0) {
      normals_from_words(w, out + i0, len / 2);
      return;
    }
    float z[kWordRun];
    normals_from_words(w, z, (len + 1) / 2);
    std::copy(z, z + len, out + i0);
  });
}
void randn_ref(KernelArgs& a) {
  double* out = a.out.data<double>();
  for (std::int64_t i = 0; i < a.out.numel(); ++i) out[i] = a.rng.normal_at(static_cast<std::uint64_t>(i));
}

const std::vector<AttrSpec> kShapeAttr = {{"shape", AttrKind::i64s, std::nullopt}};

const OpDef kUniform{.name = "uniform",
                     .attrs = {{"shape", AttrKind::i64s, std::nullopt},
                               {"lo", AttrKind::f64, AttrValue{0.0}},
                               {"hi", AttrKind::f64, AttrValue{1.0}}},
                     .infer = uniform_type, .fast = uniform_fast, .ref = uniform_ref, .grad_reads = kReadsDoutOnly,
                     .not_differentiable = kNoiseHasNoGradient, .stochastic = true};
const OpDef kRandn{.name = "randn", .attrs = kShapeAttr, .infer = sampled_shape, .fast = randn_fast,
                   .ref = randn_ref, .grad_reads = kReadsDoutOnly, .not_differentiable = kNoiseHasNoGradient,
                   .stochastic = true};

// --- bernoulli: out_i = (u_i < p_i) ------------------------------------------

TypeInfo bernoulli_type(const Node& n) {
  if (n.input_type(0).dtype != DType::f32) throw ShapeError("bernoulli takes f32 probabilities");
  return n.input_type(0);
}

// Both kernels compare in f64: graph values are f32, so p is the same
// number in either precision and the two kernels draw the same bits.
// out[i] = uniform_open01(w[i]) < p[i], exactly as the definition compares
// (in double), in one loop the compiler vectorizes per instruction set:
// through for_each_word's per-element callback it stayed scalar (W2's two
// samples, 130k elements, took 170 us a step).
ANNEAL_SIMD_CLONES void bernoulli_from_words(const std::uint32_t* w, const float* p, float* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i)
    out[i] = uniform_open01(w[i]) < static_cast<double>(p[i]) ? 1.0f : 0.0f;
}

void bernoulli_fast(KernelArgs& a) {
  const float* p = a.in[0]->data<float>();
  float* out = a.out.data<float>();
  for_each_word_run(a.rng, a.out.numel(), [&](std::int64_t i0, const std::uint32_t* w, std::int64_t len) {
    bernoulli_from_words(w, p + i0, out + i0, len);
  });
}
void bernoulli_ref(KernelArgs& a) {
  const double* p = a.in[0]->data<double>();
  double* out = a.out.data<double>();
  for (std::int64_t i = 0; i < a.out.numel(); ++i)
    out[i] = a.rng.uniform_at(static_cast<std::uint64_t>(i)) < p[i] ? 1.0 : 0.0;
}

const OpDef kBernoulli{.name = "bernoulli", .min_inputs = 1, .max_inputs = 1, .infer = bernoulli_type,
                       .fast = bernoulli_fast, .ref = bernoulli_ref, .grad_reads = kReadsDoutOnly,
                       .not_differentiable = kDiscreteSample, .stochastic = true};

// --- categorical: Gumbel-max over the last axis --------------------------------
// argmax_k (logit_k + g_k) with g_k = -log(-log u_{row*K + k}) is an exact
// draw from softmax(logits) (Gumbel 1954; Maddison et al. 2014), and each
// g_k depends only on its own stream element, so rows split freely.

TypeInfo categorical_type(const Node& n) {
  const TypeInfo& t = n.input_type(0);
  if (t.dtype != DType::f32) throw ShapeError("categorical takes f32 logits");
  if (t.shape.empty()) throw ShapeError("categorical needs logits with a category axis (rank >= 1)");
  std::int64_t k = t.shape.back();
  if (k == Dim::batch()) throw ShapeError("the category axis (last) cannot be the batch dimension");
  if (k < 1) throw ShapeError("the category axis (last) is empty");
  return {DType::i32, Dims(t.shape.begin(), t.shape.end() - 1)};
}

double gumbel(double u) { return -std::log(-std::log(u)); }

// Per-row running argmax. Ties keep the first index; both kernels add in f64
// in the same order, so they agree exactly.
struct RowArgmax {
  double best = -std::numeric_limits<double>::infinity();
  std::int32_t index = 0;
  void see(std::int64_t k, double score) {
    if (score > best || k == 0) { best = score; index = static_cast<std::int32_t>(k); }
  }
};

void categorical_fast(KernelArgs& a) {
  const float* logits = a.in[0]->data<float>();
  std::int32_t* out = a.out.data<std::int32_t>();
  const std::int64_t k_count = a.in[0]->shape().back();
  const std::int64_t rows = a.out.numel();
  std::int64_t grain = kElementwiseGrain / k_count;
  parallel_for(rows, grain > 0 ? grain : 1, [&](std::int64_t r0, std::int64_t r1) {
    // Walk the stream elements [r0*K, r1*K) block by block, tracking the row.
    const std::int64_t e0 = r0 * k_count, e1 = r1 * k_count;
    std::int64_t row = r0, k = 0;
    RowArgmax acc;
    for (std::int64_t b = e0 / 4; 4 * b < e1; ++b) {
      PhiloxCounter w = a.rng.block(static_cast<std::uint64_t>(b));
      for (std::int64_t j = 0; j < 4; ++j) {
        std::int64_t e = 4 * b + j;
        if (e < e0 || e >= e1) continue;
        acc.see(k, static_cast<double>(logits[e]) + gumbel(uniform_open01(w[static_cast<std::size_t>(j)])));
        if (++k == k_count) {
          out[row++] = acc.index;
          k = 0;
          acc = RowArgmax{};
        }
      }
    }
  });
}
void categorical_ref(KernelArgs& a) {
  const double* logits = a.in[0]->data<double>();
  std::int32_t* out = a.out.data<std::int32_t>();
  const std::int64_t k_count = a.in[0]->shape().back();
  for (std::int64_t row = 0; row < a.out.numel(); ++row) {
    RowArgmax acc;
    for (std::int64_t k = 0; k < k_count; ++k) {
      std::int64_t e = row * k_count + k;
      acc.see(k, logits[e] + gumbel(a.rng.uniform_at(static_cast<std::uint64_t>(e))));
    }
    out[row] = acc.index;
  }
}

const OpDef kCategorical{.name = "categorical", .min_inputs = 1, .max_inputs = 1, .infer = categorical_type,
                         .fast = categorical_fast, .ref = categorical_ref, .grad_reads = kReadsDoutOnly,
                         .not_differentiable = kDiscreteSample, .stochastic = true};

}  // namespace

Value uniform(Graph& g, Dims shape, double lo, double hi) {
  return g.add(kUniform, {}, Attrs{{"shape", std::move(shape)}, {"lo", lo}, {"hi", hi}});
}
Value randn(Graph& g, Dims shape) { return g.add(kRandn, {}, Attrs{{"shape", std::move(shape)}}); }
Value bernoulli(Value p) { return p.graph->add(kBernoulli, {p}); }
Value categorical(Value logits) { return logits.graph->add(kCategorical, {logits}); }

Value uniform_like(Value x) { return uniform(*x.graph, x.shape()); }
Value randn_like(Value x) { return randn(*x.graph, x.shape()); }

Value normal(Value mu, Value sigma) {
  Dims shape;
  try {
    shape = broadcast_shapes(mu.shape(), sigma.shape());
  } catch (const ShapeError& e) {
    throw InvalidInput("normal(mu '" + mu.name() + "', sigma '" + sigma.name() + "'): " + e.what());
  }
  return mu + sigma * randn(*mu.graph, shape);
}

Value gaussian_rsample(Value mu, Value logvar) { return mu + exp(0.5 * logvar) * randn_like(mu); }

Value masking_noise(Value x, double p) {
  if (!(p >= 0.0 && p <= 1.0))
    throw InvalidInput("masking_noise('" + x.name() + "'): the drop probability must be in [0, 1], got " +
                       std::to_string(p));
  // u > p holds with probability 1 - p (u is never exactly 0 or 1).
  return x * greater(uniform_like(x), x.graph->scalar(p));
}

void detail::register_random_ops(OpList& ops) {
  ops.insert(ops.end(), {&kUniform, &kRandn, &kBernoulli, &kCategorical});
}

}  // namespace anneal
