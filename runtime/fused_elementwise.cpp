#include "runtime/fused_elementwise.hpp"

#include <omp.h>

#include <algorithm>
#include <array>
#include <atomic>

#include "backend/cache.hpp"
#include "backend/finite.hpp"
#include "backend/parallel.hpp"

namespace anneal {
namespace {

void prefetch_l2(const std::vector<const Tensor*>& tensors, std::int64_t begin, std::int64_t len) {
  constexpr std::int64_t kLine = 64 / sizeof(float);
  for (const Tensor* t : tensors)
    for (std::int64_t i = 0; i < len; i += kLine) __builtin_prefetch(t->data<float>() + begin + i, 0, 2);
}

}  // namespace

bool FusedElementwise::run(std::uint64_t seed, std::uint32_t step, float* scratch, bool check_finite) const {
  std::atomic<bool> finite{true};
  parallel_for(out->numel(), 4 * kChunk, [&](std::int64_t b, std::int64_t e) {
    if (!run_range(b, e, thread_scratch(scratch), seed, step, check_finite))
      finite.store(false, std::memory_order_relaxed);
  });
  return finite.load(std::memory_order_relaxed);
}

void FusedElementwise::find_streams() {
  streams.clear();
  for (const Member& m : members)
    for (const Operand& o : m.operands)
      if (o.kind == Operand::Kind::full && o.tensor != panel_product &&
          std::find(streams.begin(), streams.end(), o.tensor) == streams.end())
        streams.push_back(o.tensor);
}

float* FusedElementwise::thread_scratch(float* scratch) const {
  return scratch + static_cast<std::size_t>(registers) * kChunk * static_cast<std::size_t>(omp_get_thread_num());
}

bool FusedElementwise::run_range(std::int64_t b, std::int64_t e, float* regs, std::uint64_t seed, std::uint32_t step,
                                 bool check_finite, const float* panel) const {
  bool finite = true;
  float* dst = out->data<float>();
  auto reg = [&](int r) { return regs + static_cast<std::size_t>(r) * kChunk; };
  std::array<const float*, kMaxChunkInputs> in{};
  std::array<std::uint8_t, kMaxChunkInputs> scalar{};
  for (std::int64_t c = b; c < e; c += kChunk) {
    std::int64_t len = std::min(kChunk, e - c);
    if (c + kChunk < e) prefetch_l2(streams, c + kChunk, std::min(kChunk, e - c - kChunk));
    for (const Member& m : members) {
      for (std::size_t k = 0; k < m.operands.size(); ++k) {
        const Operand& o = m.operands[k];
        scalar[k] = o.kind == Operand::Kind::scalar;
        switch (o.kind) {
          case Operand::Kind::full:
            in[k] = o.tensor == panel_product ? panel + (c - b) : o.tensor->data<float>() + c;
            if (check_finite && o.scan && !all_finite(in[k], len)) finite = false;
            break;
          case Operand::Kind::scalar: in[k] = o.tensor->data<float>(); break;
          case Operand::Kind::member: {
            const Member& src = members[static_cast<std::size_t>(o.member)];
            in[k] = src.out ? src.out->data<float>() + c : reg(src.reg);
            break;
          }
          case Operand::Kind::block: {
            // A repeated trailing block (a bias row): gather this chunk's part.
            const float* src = o.tensor->data<float>();
            float* g = reg(o.reg);
            std::int64_t j = c % o.block;
            for (std::int64_t i = 0; i < len; ++i) {
              g[i] = src[j];
              if (++j == o.block) j = 0;
            }
            in[k] = g;
            break;
          }
        }
      }
      const bool root = !m.out && m.reg < 0;
      float* o = m.out ? m.out->data<float>() + c : !root ? reg(m.reg) : stream_reg >= 0 ? reg(stream_reg) : dst + c;
      m.fn(ChunkArgs{*m.node, in.data(), scalar.data(), o, len, c,
                     RandomStream{seed, static_cast<std::uint32_t>(m.node->id), step}});
      if (check_finite && (m.out || root) && !all_finite(o, len)) finite = false;
      if (root && stream_reg >= 0) stream_store(dst + c, o, len);
    }
  }
  if (stream_reg >= 0) stream_fence();
  return finite;
}

}  // namespace anneal
