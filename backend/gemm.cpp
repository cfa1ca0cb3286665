#include "backend/gemm.hpp"

#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <tuple>
#include <vector>

#include "backend/error.hpp"
#include "backend/threads.hpp"

namespace anneal {
namespace {

using dt = dnnl::memory::data_type;

struct Engine {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
};

Engine& cpu() {
  static Engine e;
  return e;
}

// (trans_a, trans_b, m, n, k, accumulate, threads)
using GemmKey = std::tuple<bool, bool, std::int64_t, std::int64_t, std::int64_t, bool, int>;

struct GemmPrimitive {
  dnnl::matmul prim;
  dnnl::memory::desc a, b, c;
  // scratchpad_mode::user: the primitive owns no hidden per-thread buffer,
  // so it may run on whichever thread the scheduler picks.
  std::vector<std::uint8_t> scratch;
  dnnl::memory::desc scratch_desc;
};

dnnl::memory::desc matrix_desc(std::int64_t rows, std::int64_t cols, bool transposed) {
  // Logical [rows, cols]; a transposed operand is stored [cols, rows].
  dnnl::memory::dims strides = transposed ? dnnl::memory::dims{1, rows} : dnnl::memory::dims{cols, 1};
  return dnnl::memory::desc({rows, cols}, dt::f32, strides);
}

GemmPrimitive make_gemm(const GemmKey& key) {
  auto [ta, tb, m, n, k, acc, threads] = key;
  (void)threads;
  GemmPrimitive g;
  g.a = matrix_desc(m, k, ta);
  g.b = matrix_desc(k, n, tb);
  g.c = matrix_desc(m, n, false);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (acc) {
    dnnl::post_ops po;
    po.append_sum(1.0f);
    attr.set_post_ops(po);
  }
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(g.a, g.b, g.c), attr, cpu().engine);
  g.prim = dnnl::matmul(pd);
  g.scratch_desc = pd.scratchpad_desc();
  g.scratch.resize(g.scratch_desc.get_size());
  return g;
}

std::mutex cache_mutex;
std::map<GemmKey, GemmPrimitive>& cache() {
  static std::map<GemmKey, GemmPrimitive> c;
  return c;
}

}  // namespace

void gemm_f32(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
              const float* b, float* c, bool accumulate) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate)
      for (std::int64_t i = 0; i < m * n; ++i) c[i] = 0.f;
    return;
  }
  try {
    GemmKey key{trans_a, trans_b, m, n, k, accumulate, num_threads()};
    GemmPrimitive* g;
    {
      std::lock_guard<std::mutex> lock(cache_mutex);
      auto it = cache().find(key);
      if (it == cache().end()) it = cache().emplace(key, make_gemm(key)).first;
      g = &it->second;
    }
    auto& e = cpu();
    dnnl::memory am(g->a, e.engine, const_cast<float*>(a));
    dnnl::memory bm(g->b, e.engine, const_cast<float*>(b));
    dnnl::memory cm(g->c, e.engine, c);
    dnnl::memory sm(g->scratch_desc, e.engine, g->scratch.data());
    g->prim.execute(e.stream, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm},
                               {DNNL_ARG_SCRATCHPAD, sm}});
    e.stream.wait();
  } catch (const dnnl::error& err) {
    throw RunError("oneDNN matmul " + std::to_string(m) + "x" + std::to_string(k) + " * " + std::to_string(k) +
                   "x" + std::to_string(n) + " failed: " + err.what());
  }
}

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
