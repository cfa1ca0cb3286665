#include "backend/gemm.hpp"

#include <map>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <tuple>
#include <vector>

#include "backend/error.hpp"
#include "backend/threads.hpp"

namespace anneal {
namespace {

using dt = dnnl::memory::data_type;

dnnl::engine& cpu_engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::memory::desc matrix_desc(std::int64_t rows, std::int64_t cols, bool transposed, std::int64_t ld = 0) {
  // Logical [rows, cols]; a transposed operand is stored [cols, ld >= rows].
  dnnl::memory::dims strides = transposed ? dnnl::memory::dims{1, ld > 0 ? ld : rows} : dnnl::memory::dims{cols, 1};
  return dnnl::memory::desc({rows, cols}, dt::f32, strides);
}

dnnl::algorithm eltwise_of(GemmActivation a) {
  switch (a) {
    case GemmActivation::relu:
    case GemmActivation::leaky_relu: return dnnl::algorithm::eltwise_relu;
    case GemmActivation::sigmoid: return dnnl::algorithm::eltwise_logistic;
    case GemmActivation::tanh: return dnnl::algorithm::eltwise_tanh;
    case GemmActivation::none: break;
  }
  return dnnl::algorithm::undef;
}

struct CachedPrimitive {
  dnnl::matmul prim;
  dnnl::memory::desc a, b, c, bias, scratch;
};

thread_local bool tls_in_execute = false;

// oneDNN scratchpads come from one grow-only buffer per calling thread rather
// than one per plan: a thread runs its plans one at a time (side-by-side steps
// and per-thread panels run on different threads), so a program needs the
// largest scratchpad once per thread instead of the sum over its GEMMs.
void* thread_scratchpad(std::size_t bytes) {
  thread_local std::vector<std::uint8_t> buffer;
  if (buffer.size() < bytes) buffer.resize(bytes);
  return buffer.empty() ? nullptr : buffer.data();
}

std::mutex cache_mutex;
std::map<std::pair<GemmShape, int>, CachedPrimitive>& cache() {
  static std::map<std::pair<GemmShape, int>, CachedPrimitive> c;
  return c;
}

const CachedPrimitive& primitive_for(const GemmShape& s, int threads) {
  std::lock_guard<std::mutex> lock(cache_mutex);
  auto key = std::make_pair(s, threads);
  auto it = cache().find(key);
  if (it != cache().end()) return it->second;
  CachedPrimitive p;
  p.a = matrix_desc(s.m, s.k, s.trans_a, s.lda);
  p.b = matrix_desc(s.k, s.n, s.trans_b);
  p.c = matrix_desc(s.m, s.n, false);
  p.bias = dnnl::memory::desc({1, s.n}, dt::f32, dnnl::memory::format_tag::ab);
  dnnl::primitive_attr attr;
  // scratchpad_mode::user: the primitive owns no hidden per-thread buffer,
  // so it may run on whichever thread the scheduler picks.
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::post_ops po;
  if (s.accumulate) po.append_sum(1.0f);
  if (s.act != GemmActivation::none) po.append_eltwise(1.0f, eltwise_of(s.act), s.alpha, 0.0f);
  attr.set_post_ops(po);
  // oneDNN creates the primitive for the calling thread's OpenMP team size.
  ThreadShare share(threads);
  auto d = s.bias ? dnnl::matmul::desc(p.a, p.b, p.bias, p.c) : dnnl::matmul::desc(p.a, p.b, p.c);
  dnnl::matmul::primitive_desc pd(d, attr, cpu_engine());
  p.prim = dnnl::matmul(pd);
  p.scratch = pd.scratchpad_desc();
  return cache().emplace(key, std::move(p)).first->second;
}

}  // namespace

bool GemmShape::operator<(const GemmShape& o) const {
  return std::tie(trans_a, trans_b, m, n, k, bias, act, alpha, accumulate, lda) <
         std::tie(o.trans_a, o.trans_b, o.m, o.n, o.k, o.bias, o.act, o.alpha, o.accumulate, o.lda);
}

struct GemmPlan::Impl {
  GemmShape shape;
  int threads;
  const CachedPrimitive* p;
  dnnl::memory a, b, c, bias, scratch;
  // A plan runs on one thread at a time but not always the same one
  // (concurrent levels run on TBB workers): it owns its stream, so no
  // stream is shared between threads and none is created while running.
  dnnl::stream stream;
  std::vector<dnnl_exec_arg_t> args;
};

GemmPlan::GemmPlan(const GemmShape& shape, int threads) : impl_(std::make_unique<Impl>()) {
  try {
    Impl& i = *impl_;
    i.shape = shape;
    i.threads = threads;
    i.p = &primitive_for(shape, threads);
    auto& e = cpu_engine();
    i.stream = dnnl::stream(e);
    i.a = dnnl::memory(i.p->a, e, DNNL_MEMORY_NONE);
    i.b = dnnl::memory(i.p->b, e, DNNL_MEMORY_NONE);
    i.c = dnnl::memory(i.p->c, e, DNNL_MEMORY_NONE);
    i.scratch = dnnl::memory(i.p->scratch, e, DNNL_MEMORY_NONE);
    i.args = {{DNNL_ARG_SRC, i.a.get()}, {DNNL_ARG_WEIGHTS, i.b.get()}, {DNNL_ARG_DST, i.c.get()},
              {DNNL_ARG_SCRATCHPAD, i.scratch.get()}};
    if (shape.bias) {
      i.bias = dnnl::memory(i.p->bias, e, DNNL_MEMORY_NONE);
      i.args.push_back({DNNL_ARG_BIAS, i.bias.get()});
    }
  } catch (const dnnl::error& err) {
    throw RunError("oneDNN matmul " + std::to_string(shape.m) + "x" + std::to_string(shape.k) + " * " +
                   std::to_string(shape.k) + "x" + std::to_string(shape.n) + ": " + err.what());
  }
}

GemmPlan::~GemmPlan() = default;
GemmPlan::GemmPlan(GemmPlan&&) noexcept = default;
GemmPlan& GemmPlan::operator=(GemmPlan&&) noexcept = default;
const GemmShape& GemmPlan::shape() const { return impl_->shape; }

void GemmPlan::run(const float* a, const float* b, float* c, const float* bias) {
  Impl& i = *impl_;
  if (i.shape.m == 0 || i.shape.n == 0) return;
  ThreadShare share(i.threads);
  // The C API with a prebuilt argument array: the C++ wrapper would build a
  // map and a vector on every call.
  dnnl_memory_set_data_handle(i.a.get(), const_cast<float*>(a));
  dnnl_memory_set_data_handle(i.b.get(), const_cast<float*>(b));
  dnnl_memory_set_data_handle(i.c.get(), c);
  if (i.shape.bias) dnnl_memory_set_data_handle(i.bias.get(), const_cast<float*>(bias));
  dnnl_memory_set_data_handle(i.scratch.get(), thread_scratchpad(i.p->scratch.get_size()));
  tls_in_execute = true;
  dnnl_status_t st =
      dnnl_primitive_execute(i.p->prim.get(), i.stream.get(), static_cast<int>(i.args.size()), i.args.data());
  tls_in_execute = false;
  if (st != dnnl_success)
    throw RunError("oneDNN matmul " + std::to_string(i.shape.m) + "x" + std::to_string(i.shape.k) + " * " +
                   std::to_string(i.shape.k) + "x" + std::to_string(i.shape.n) + " failed with status " +
                   std::to_string(static_cast<int>(st)));
}

void gemm_f32(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
              const float* b, float* c, bool accumulate) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate)
      for (std::int64_t i = 0; i < m * n; ++i) c[i] = 0.f;
    return;
  }
  GemmShape s{.trans_a = trans_a, .trans_b = trans_b, .m = m, .n = n, .k = k, .accumulate = accumulate};
  GemmPlan(s, num_threads()).run(a, b, c);
}

bool inside_onednn_execute() { return tls_in_execute; }

std::int64_t gemm_primitive_count() {
  std::lock_guard<std::mutex> lock(cache_mutex);
  return static_cast<std::int64_t>(cache().size());
}

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) +
         " (cpu: OpenMP)";
}

}  // namespace anneal
