#include "runtime/fused_elementwise.hpp"

#include <omp.h>

#include <algorithm>
#include <array>
#include <atomic>

#include "backend/cache.hpp"
#include "backend/finite.hpp"
#include "backend/parallel.hpp"
#include "ops/elementwise.hpp"
#include "ops/registry.hpp"

namespace anneal {
namespace {

void prefetch_l2(const std::vector<const Tensor*>& tensors, std::int64_t begin, std::int64_t len) {
  constexpr std::int64_t kLine = 64 / sizeof(float);
  for (const Tensor* t : tensors) {
    const float* p = t->data<float>() + begin;  // checked once, not per line
    for (std::int64_t i = 0; i < len; i += kLine) __builtin_prefetch(p + i, 0, 2);
  }
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

namespace {

bool same_operand(const FusedElementwise::Operand& x, const FusedElementwise::Operand& y) {
  return x.kind == y.kind && x.tensor == y.tensor && x.member == y.member && x.block == y.block;
}

}  // namespace

int FusedElementwise::find_compounds() {
  int found = 0;
  for (std::size_t i = 0; i < members.size(); ++i) {
    for (const ChunkCompound& c : chunk_compounds()) {
      const std::size_t size = c.ops.size();
      if (i + size > members.size() || size > kMaxCompoundMembers) continue;
      std::array<const Operand*, 26> letter{};
      bool match = true;
      for (std::size_t k = 0; match && k < size; ++k) {
        const Member& m = members[i + k];
        match = !m.compound && !m.in_compound && m.node->op->name == c.ops[k] && m.operands.size() == c.inputs[k].size();
        for (std::size_t j = 0; match && j < m.operands.size(); ++j) {
          const Operand& o = m.operands[j];
          const char x = c.inputs[k][j];
          const bool inside = o.kind == Operand::Kind::member && o.member >= static_cast<int>(i) &&
                              o.member < static_cast<int>(i + size);
          if (x >= '0' && x <= '9') {
            match = inside && o.member == static_cast<int>(i) + (x - '0');
            continue;
          }
          const bool scalar = c.scalars.find(x) != std::string::npos;
          const Operand*& seen = letter[static_cast<std::size_t>(x - 'a')];
          match = !inside && (scalar ? o.kind == Operand::Kind::scalar
                                     : o.kind == Operand::Kind::full || o.kind == Operand::Kind::member) &&
                  (!seen || same_operand(*seen, o));
          if (match && !seen) seen = &o;
        }
      }
      if (!match) continue;
      Member& first = members[i];
      first.compound = c.fn;
      first.compound_size = static_cast<int>(size);
      for (const Operand* o : letter)
        if (o) first.compound_operands.push_back(*o);  // a, b, c, ...: none skipped (tests/test_op_registry.cpp)
      // A value scanned as one member's operand is scanned once as the compound's.
      for (std::size_t k = 0; k < size; ++k)
        for (const Operand& o : members[i + k].operands)
          for (Operand& co : first.compound_operands)
            if (same_operand(co, o)) co.scan = co.scan || o.scan;
      for (std::size_t k = 1; k < size; ++k) members[i + k].in_compound = true;
      ++found;
      break;
    }
  }
  return found;
}

bool FusedElementwise::run_range(std::int64_t b, std::int64_t e, float* regs, std::uint64_t seed, std::uint32_t step,
                                 bool check_finite, const float* panel) const {
  bool finite = true;
  float* dst = out->data<float>();
  auto reg = [&](int r) { return regs + static_cast<std::size_t>(r) * kChunk; };
  std::array<const float*, kMaxCompoundInputs> in{};
  std::array<std::uint8_t, kMaxCompoundInputs> scalar{};
  std::array<float*, kMaxCompoundMembers> outs{};
  for (std::int64_t c = b; c < e; c += kChunk) {
    std::int64_t len = std::min(kChunk, e - c);
    if (c + kChunk < e) prefetch_l2(streams, c + kChunk, std::min(kChunk, e - c - kChunk));
    // Points in[k] at operand o's chunk (gathering a block into its register).
    auto operand = [&](const Operand& o, std::size_t k) {
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
        case Operand::Kind::shape: in[k] = nullptr; break;
        case Operand::Kind::leading: {
          // A per-row value: this chunk's runs of it.
          const float* src = o.tensor->data<float>();
          float* g = reg(o.reg);
          for_each_row_run(c, c + len, o.block, [&](std::int64_t row, std::int64_t i, std::int64_t end) {
            std::fill(g + (i - c), g + (end - c), src[row]);
          });
          in[k] = g;
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
    };
    auto is_root = [](const Member& m) { return !m.out && m.reg < 0; };
    auto destination = [&](const Member& m) {
      return m.out ? m.out->data<float>() + c : !is_root(m) ? reg(m.reg) : stream_reg >= 0 ? reg(stream_reg) : dst + c;
    };
    // After a member's chunk is written: its scan, and the root's streamed store.
    auto written = [&](const Member& m, const float* o) {
      if (check_finite && (m.out || is_root(m)) && !all_finite(o, len)) finite = false;
      if (is_root(m) && stream_reg >= 0) stream_store(dst + c, o, len);
    };
    for (std::size_t mi = 0; mi < members.size(); ++mi) {
      const Member& m = members[mi];
      if (m.in_compound) continue;  // written by its run's compound kernel
      if (m.compound) {
        for (std::size_t k = 0; k < m.compound_operands.size(); ++k) operand(m.compound_operands[k], k);
        for (int k = 0; k < m.compound_size; ++k) outs[static_cast<std::size_t>(k)] = destination(members[mi + static_cast<std::size_t>(k)]);
        m.compound(in.data(), outs.data(), len);
        for (int k = 0; k < m.compound_size; ++k) written(members[mi + static_cast<std::size_t>(k)], outs[static_cast<std::size_t>(k)]);
        continue;
      }
      for (std::size_t k = 0; k < m.operands.size(); ++k) operand(m.operands[k], k);
      float* o = destination(m);
      m.fn(ChunkArgs{*m.node, in.data(), scalar.data(), o, len, c,
                     RandomStream{seed, static_cast<std::uint32_t>(m.node->id), step}});
      written(m, o);
    }
  }
  if (stream_reg >= 0) stream_fence();
  return finite;
}

}  // namespace anneal
