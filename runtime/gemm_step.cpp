#include "runtime/gemm_step.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <exception>

#include "backend/cache.hpp"
#include "backend/threads.hpp"
#include "runtime/program_impl.hpp"

namespace anneal {
namespace {

GemmShape rows_of(GemmShape s, std::int64_t rows) {
  // A panel of a transposed A is a column range of its storage: keep the
  // full row length as the leading dimension.
  if (rows < s.m && s.trans_a) s.lda = s.m;
  s.m = rows;
  return s;
}

const float* row_offset(const GemmShape& s, const Tensor& a, std::int64_t r0) {
  return a.data<float>() + (s.trans_a ? r0 : r0 * s.k);
}

}  // namespace

GemmRowsPlan::GemmRowsPlan(const GemmOperands& g, std::int64_t r, int threads)
    : rows(r), first(rows_of(g.shape, r), threads) {
  if (g.a2) second = std::make_unique<GemmPlan>(rows_of(g.second_shape, r), threads);
}

void run_gemm_rows(const GemmOperands& g, std::int64_t r0, GemmRowsPlan& plan, float* panel) {
  const std::int64_t n = g.shape.n;
  float* c = panel ? panel : g.out->data<float>() + r0 * n;
  plan.first.run(row_offset(g.shape, *g.a, r0), g.b->data<float>(), c, g.bias ? g.bias->data<float>() : nullptr);
  if (plan.second) plan.second->run(row_offset(g.second_shape, *g.a2, r0), g.b2->data<float>(), c);
}

std::int64_t panel_rows(std::int64_t m, std::int64_t n, int threads) {
  const std::int64_t bytes = m * n * static_cast<std::int64_t>(sizeof(float));
  // Below about 1.5x L2 the one-thread panel GEMMs, less efficient than one
  // GEMM over all rows, cost more than the traffic saved (W1-W3's 1.3-1.6 MB
  // products on a 1 MB L2 ran 2-8 % slower panelled; W5's 2-3 MB, 10-25 % faster).
  if (bytes * 2 <= l2_cache_bytes() * 3) return 0;
  // Panels of about 3/4 of L2 (the rest holds the GEMM's other operand as it
  // streams), as many on every thread.
  std::int64_t panels = (bytes + l2_cache_bytes() * 3 / 4 - 1) / (l2_cache_bytes() * 3 / 4);
  panels = (panels + threads - 1) / threads * threads;
  // Equal panels where up to twice as many allow it: a shorter last panel
  // needs a oneDNN primitive (and its code) of its own.
  for (std::int64_t p = panels; p <= 2 * panels; p += threads)
    if (m % p == 0 && m / p >= 8) return m / p;
  std::int64_t rows = (m + panels - 1) / panels;
  return rows >= 8 ? rows : 0;
}

namespace {

// Does step x write the storage of slot r (itself, or the param/state r
// holds through an in-place assign)?
bool writes_storage(const Step& x, int r, const std::vector<Slot>& slots) {
  auto hits = [&](int w) {
    if (w == r) return true;
    const Slot& ws = slots[static_cast<std::size_t>(w)];
    return ws.kind == Slot::Kind::alias && slots[static_cast<std::size_t>(r)].kind == Slot::Kind::persistent &&
           ws.target == slots[static_cast<std::size_t>(r)].node;
  };
  if (hits(x.write)) return true;
  return std::any_of(x.side_writes.begin(), x.side_writes.end(), hits);
}

bool reads(const Step& x, int slot) { return std::find(x.reads.begin(), x.reads.end(), slot) != x.reads.end(); }

}  // namespace

int fold_gemms_into_passes(std::vector<Step>& steps, const std::vector<Slot>& slots, int threads) {
  int folded = 0;
  for (std::size_t gi = 0; gi < steps.size(); ++gi) {
    const Step& g = steps[gi];
    const Slot& out = slots[static_cast<std::size_t>(g.write)];
    if (g.gemm < 0 || g.elementwise || out.shape.size() != 2 || out.dtype != DType::f32) continue;
    const std::int64_t rows = panel_rows(out.shape[0], out.shape[1], threads);
    if (rows == 0) continue;
    // The earliest reader must be a fused pass over the whole product, alone at its level.
    int first = -1;
    bool tie = false;
    for (std::size_t k = 0; k < steps.size(); ++k) {
      if (k == gi || !reads(steps[k], g.write)) continue;
      if (first < 0 || steps[k].level < steps[static_cast<std::size_t>(first)].level) {
        first = static_cast<int>(k);
        tie = false;
      } else if (steps[k].level == steps[static_cast<std::size_t>(first)].level) {
        tie = true;
      }
    }
    if (first < 0 || tie) continue;
    Step& f = steps[static_cast<std::size_t>(first)];
    if (!(f.pass || f.lone_chunkable) || f.gemm >= 0 || slots[static_cast<std::size_t>(f.write)].shape != out.shape)
      continue;
    // Moving the GEMM to f's level must not let it see a value overwritten in between.
    bool safe = true;
    for (const Step& x : steps)
      if (&x != &g && x.level > g.level && x.level <= f.level)
        for (int r : g.reads) safe = safe && !writes_storage(x, r, slots);
    if (!safe) continue;
    for (int r : g.reads)
      if (!reads(f, r)) f.reads.push_back(r);
    f.side_writes.push_back(g.write);
    f.gemm = g.gemm;
    f.pass = true;
    f.heavy = false;  // passes share their scratch and panels: never side by side
    f.panel_rows = rows;
    f.label = g.label + ">" + f.label;
    f.cost += g.cost;
    steps.erase(steps.begin() + static_cast<std::ptrdiff_t>(gi--));
    ++folded;
  }
  return folded;
}

PanelledGemmPass::PanelledGemmPass(const GemmOperands& g, const FusedElementwise& pass, std::int64_t rows,
                                   int threads)
    : g_(g), pass_(pass), rows_(rows) {
  for (int t = 0; t < threads; ++t) {
    full_.emplace_back(g_, rows_, 1);
    if (g_.shape.m % rows_) tail_.emplace_back(g_, g_.shape.m % rows_, 1);
  }
}

std::int64_t PanelledGemmPass::panel_floats() const { return pass_.panel_product ? rows_ * g_.shape.n : 0; }

void PanelledGemmPass::use_panels(float* base, std::int64_t stride) {
  panels_ = base;
  panel_stride_ = stride;
}

bool PanelledGemmPass::run(std::uint64_t seed, std::uint32_t step, float* scratch, bool check_finite) {
  const std::int64_t m = g_.shape.m, n = g_.shape.n, panels = (m + rows_ - 1) / rows_;
  std::atomic<bool> finite{true};
  std::exception_ptr error;
  const int threads = static_cast<int>(full_.size());
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), team = omp_get_num_threads();
    ThreadShare one(1);  // the GEMMs run on this thread alone
    try {
      for (std::int64_t p = t; p < panels; p += team) {
        const std::int64_t r0 = p * rows_, r1 = std::min(m, r0 + rows_);
        GemmRowsPlan& plan = r1 - r0 == rows_ ? full_[static_cast<std::size_t>(t)] : tail_[static_cast<std::size_t>(t)];
        float* panel = panel_floats() > 0 ? panels_ + t * panel_stride_ : nullptr;
        run_gemm_rows(g_, r0, plan, panel);
        if (!pass_.run_range(r0 * n, r1 * n, pass_.thread_scratch(scratch), seed, step, check_finite, panel))
          finite.store(false, std::memory_order_relaxed);
      }
    } catch (...) {
#pragma omp critical
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  return finite.load(std::memory_order_relaxed);
}

}  // namespace anneal
