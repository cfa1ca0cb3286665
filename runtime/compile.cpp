// Program::compile: prune, merge common subexpressions, fuse, order in
// levels, decide in-place updates, plan memory, bind kernels.
#include <algorithm>
#include <cstring>
#include <tuple>
#include <unordered_map>

#include "backend/cache.hpp"
#include "backend/error.hpp"
#include "graph/shape_rules.hpp"
#include "ops/elementwise.hpp"
#include "runtime/analysis.hpp"
#include "runtime/gemm_fusion.hpp"
#include "runtime/memory_plan.hpp"
#include "runtime/program_impl.hpp"

namespace anneal {
namespace {

// An elementwise op the fused pass can run: f32, a chunk kernel, and every
// input (but those read for their shape only) the output's shape, a scalar,
// a repeated trailing block or a per-row leading block.
bool chunkable(const Analysis& a, int id) {
  const Node& n = a.node(id);
  if (!n.op->chunk || n.type.dtype != DType::f32 || n.inputs.size() > kMaxChunkInputs) return false;
  Dims s = a.shape(id);
  for (std::size_t k = 0; k < n.inputs.size(); ++k) {
    if (a.shape_only(id, k)) continue;
    int p = a.in(id, k);
    if (a.node(p).type.dtype != DType::f32) return false;
    Dims ps = a.shape(p);
    if (ps != s && numel(ps) != 1 && !is_trailing_block(s, ps) && !is_leading_block(s, ps)) return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<Program> Program::compile(const Graph& g, const std::vector<Value>& fetches,
                                          const std::vector<Value>& targets, std::int64_t batch, int threads,
                                          const CompileOptions& opt) {
  std::unique_ptr<Program> prog(new Program());
  Impl& P = *prog->impl_;
  ProgramStats& st = prog->stats_;
  P.graph = &g;
  P.batch = batch;
  P.threads = threads;
  for (const Value& v : fetches) P.fetch_ids.push_back(v.id);
  for (const Value& v : targets) P.target_ids.push_back(v.id);

  Analysis a = analyze(g, P.fetch_ids, P.target_ids, batch, opt.cse);
  st.cse_merged = a.merged;
  const std::size_t n = g.size();
  for (std::size_t i = 0; i < n; ++i) st.nodes += a.needed[i];

  // --- fusion decisions ------------------------------------------------------
  std::vector<char> absorbed(n, 0);  // computed inside another node's step
  std::vector<int> gemm_of(n, -1);   // output node -> index into fusions
  std::vector<MatmulFusion> fusions;
  for (std::size_t i = 0; i < n; ++i) {
    if (!a.needed[i] || absorbed[i] || !is_op(a.node(static_cast<int>(i)), "matmul")) continue;
    MatmulFusion f = opt.fuse_matmul ? pair_matmuls(a, static_cast<int>(i)) : MatmulFusion{};
    if (f.second < 0) f = fuse_matmul(a, static_cast<int>(i), opt.fuse_matmul);
    for (int id : f.nodes)
      if (id != f.out) absorbed[static_cast<std::size_t>(id)] = 1;
    gemm_of[static_cast<std::size_t>(f.out)] = static_cast<int>(fusions.size());
    fusions.push_back(f);
  }
  std::vector<int> group_of(n, -1), group_root;
  std::vector<char> side_output(n, 0);
  // p feeds c and otherwise only assigns (so the fused pass may also write p out).
  auto feeds_only = [&](int p, int c) {
    if (a.fetched[static_cast<std::size_t>(p)]) return false;
    bool has_c = false;
    for (int k : a.consumers[static_cast<std::size_t>(p)]) {
      if (k == c) has_c = true;
      else if (a.node(k).op->role != OpRole::assign || a.in(k, 1) != p) return false;
    }
    return has_c;
  };
  if (opt.fuse_elementwise) {
    for (std::size_t i = n; i-- > 0;) {
      int id = static_cast<int>(i);
      if (!a.needed[i] || absorbed[i] || gemm_of[i] >= 0 || !chunkable(a, id)) continue;
      if (group_of[i] < 0) {
        group_of[i] = static_cast<int>(group_root.size());
        group_root.push_back(id);
      }
      int root = group_root[static_cast<std::size_t>(group_of[i])];
      for (std::size_t k = 0; k < a.node(id).inputs.size(); ++k) {
        int p = a.in(id, k);
        auto up = static_cast<std::size_t>(p);
        if (group_of[up] < 0 && !absorbed[up] && gemm_of[up] < 0 && feeds_only(p, id) &&
            a.shape(p) == a.shape(root) && chunkable(a, p)) {
          group_of[up] = group_of[i];
          // Also read by assigns (an optimizer's new moment): computed in the
          // pass and written out as a side output.
          side_output[up] = a.consumers[up].size() > 1;
        }
      }
    }
  }
  std::vector<int> group_size(group_root.size(), 0);
  for (std::size_t i = 0; i < n; ++i)
    if (group_of[i] >= 0) ++group_size[static_cast<std::size_t>(group_of[i])];
  // Computed inside its group's pass, by the root's step.
  auto interior = [&](std::size_t i) {
    return group_of[i] >= 0 && group_root[static_cast<std::size_t>(group_of[i])] != static_cast<int>(i);
  };

  // --- slots -------------------------------------------------------------------
  std::vector<int> slot_of(n, -1);
  auto new_slot = [&](int id, Slot::Kind kind) {
    Slot s;
    s.kind = kind;
    s.node = &a.node(id);
    s.shape = a.shape(id);
    s.dtype = a.node(id).type.dtype;
    P.slots.push_back(std::move(s));
    return slot_of[static_cast<std::size_t>(id)] = static_cast<int>(P.slots.size()) - 1;
  };
  for (std::size_t i = 0; i < n; ++i) {
    if (!a.needed[i] || absorbed[i]) continue;
    const Node& nd = a.node(static_cast<int>(i));
    if (interior(i) && !side_output[i]) continue;
    switch (nd.op->role) {
      case OpRole::input: new_slot(static_cast<int>(i), Slot::Kind::feed); break;
      case OpRole::param:
      case OpRole::state: new_slot(static_cast<int>(i), Slot::Kind::persistent); break;
      case OpRole::constant: new_slot(static_cast<int>(i), Slot::Kind::constant); break;
      case OpRole::assign: slot_of[i] = slot_of[static_cast<std::size_t>(a.in(static_cast<int>(i), 1))]; break;
      case OpRole::compute: new_slot(static_cast<int>(i), Slot::Kind::arena); break;
    }
  }
  for (const Slot& sl : P.slots)
    for (auto d : sl.shape)
      if (d < 0) throw InvalidInput(sl.node->describe() + " has a batch dimension but no batched input was fed");
  auto slot = [&](int id) { return slot_of[static_cast<std::size_t>(a.canon[static_cast<std::size_t>(id)])]; };

  // --- steps, in topological order -------------------------------------------------
  std::vector<Step> steps;
  std::vector<int> producer(P.slots.size(), -1);
  for (std::size_t i = 0; i < n; ++i) {
    int id = static_cast<int>(i);
    if (!a.needed[i] || absorbed[i]) continue;
    const Node& nd = a.node(id);
    if (nd.op->role != OpRole::compute) continue;
    if (interior(i)) continue;
    Step s;
    s.node = &nd;
    s.write = slot_of[i];
    auto read = [&](int p) {
      int sl = slot_of[static_cast<std::size_t>(p)];
      if (std::find(s.reads.begin(), s.reads.end(), sl) == s.reads.end()) s.reads.push_back(sl);
    };
    if (gemm_of[i] >= 0) {
      const MatmulFusion& f = fusions[static_cast<std::size_t>(gemm_of[i])];
      for (int k : f.nodes) s.nodes.push_back(&a.node(k));
      for (int mm : {f.matmul, f.second})
        if (mm >= 0) read(a.in(mm, 0)), read(a.in(mm, 1));
      if (f.bias >= 0) read(f.bias);
      s.label = gemm_label(f);
      s.gemm = gemm_of[i];
      s.heavy = true;
      for (int mm : {f.matmul, f.second}) {
        if (mm < 0) continue;
        Dims as = a.shape(a.in(mm, 0));
        s.cost += static_cast<double>(numel(a.shape(mm))) * static_cast<double>(as[a.node(mm).attrs.i("trans_a") ? 0 : 1]);
      }
      st.gemms += f.second >= 0 ? 2 : 1;
      st.fused_matmuls += f.nodes.size() > 1;
    } else if (group_of[i] >= 0 && group_size[static_cast<std::size_t>(group_of[i])] > 1) {
      for (std::size_t k = 0; k < n; ++k)
        if (group_of[k] == group_of[i]) s.nodes.push_back(&a.node(static_cast<int>(k)));
      for (const Node* m : s.nodes)
        for (std::size_t k = 0; k < m->inputs.size(); ++k) {
          int p = a.in(m->id, k);
          if (group_of[static_cast<std::size_t>(p)] != group_of[i] && !a.skipped_input(m->id, k)) read(p);
        }
      s.label = "fused";
      for (const Node* m : s.nodes) s.label += (m == s.nodes.front() ? " " : "+") + m->op->name;
      s.elementwise = true;
      s.pass = true;
      ++st.fused_groups;
      st.fused_group_ops += static_cast<int>(s.nodes.size());
    } else {
      s.nodes.push_back(&nd);
      for (std::size_t k = 0; k < nd.inputs.size(); ++k)
        if (!a.skipped_input(id, k)) read(a.in(id, k));
      s.label = nd.op->name;
      s.elementwise = nd.op->chunk != nullptr;
      // A lone chunkable op runs its own kernel (faster than a one-member
      // pass: W2's [100, 784] mul took 12 us against 18, its softplus 37
      // against 46), unless a GEMM whose product it reads is folded into it
      // by panels (an SGD step as one axpby): then it becomes a pass.
      s.lone_chunkable = group_of[i] >= 0;
      // A big single kernel may share a level's budget with another.
      s.cost = static_cast<double>(numel(a.shape(id)));
      s.heavy = s.cost >= (1 << 16);
    }
    producer[static_cast<std::size_t>(s.write)] = static_cast<int>(steps.size());
    for (const Node* m : s.nodes)
      if (m != &nd && side_output[static_cast<std::size_t>(m->id)]) {
        s.side_writes.push_back(slot_of[static_cast<std::size_t>(m->id)]);
        producer[static_cast<std::size_t>(s.side_writes.back())] = static_cast<int>(steps.size());
      }
    steps.push_back(std::move(s));
  }

  // --- levels: a step runs one level after the latest step it reads from --------
  for (Step& s : steps) {
    s.level = 0;
    for (int r : s.reads)
      if (producer[static_cast<std::size_t>(r)] >= 0)
        s.level = std::max(s.level, steps[static_cast<std::size_t>(producer[static_cast<std::size_t>(r)])].level + 1);
  }
  // A step whose shape-only input is not computed at all (a gradient's
  // broadcast_like of a loss nobody fetches) may be ready long before its
  // value is used: it runs one level before its first reader, so its output
  // is not held through the whole forward pass.
  for (std::size_t k = steps.size(); k-- > 0;) {
    Step& s = steps[k];
    bool shape_reader = false;
    for (std::size_t i = 0; i < s.node->inputs.size(); ++i) shape_reader |= a.skipped_input(s.node->id, i);
    if (!shape_reader) continue;
    int first_reader = -1;
    for (const Step& r : steps)
      if (std::find(r.reads.begin(), r.reads.end(), s.write) != r.reads.end())
        first_reader = first_reader < 0 ? r.level : std::min(first_reader, r.level);
    if (first_reader > s.level + 1 && !a.fetched[static_cast<std::size_t>(s.node->id)]) s.level = first_reader - 1;
  }
  int n_levels = 0;
  for (const Step& s : steps) n_levels = std::max(n_levels, s.level + 1);

  // --- assigns: in place where every reader of the old value has run before ------
  std::vector<char> fetched_slot(P.slots.size(), 0);
  for (int f : P.fetch_ids) fetched_slot[static_cast<std::size_t>(slot(f))] = 1;
  std::vector<int> value_uses(P.slots.size(), 0);
  for (std::size_t i = 0; i < n; ++i)
    if (a.needed[i] && a.node(static_cast<int>(i)).op->role == OpRole::assign)
      ++value_uses[static_cast<std::size_t>(slot_of[static_cast<std::size_t>(a.in(static_cast<int>(i), 1))])];
  for (std::size_t i = 0; i < n; ++i) {
    int id = static_cast<int>(i);
    if (!a.needed[i] || a.node(id).op->role != OpRole::assign) continue;
    const Node& target = a.node(a.in(id, 0));
    int tslot = slot_of[static_cast<std::size_t>(target.id)];
    int vslot = slot_of[static_cast<std::size_t>(a.in(id, 1))];
    int w = producer[static_cast<std::size_t>(vslot)];
    bool ok = opt.in_place_updates && w >= 0 && P.slots[static_cast<std::size_t>(vslot)].kind == Slot::Kind::arena &&
              value_uses[static_cast<std::size_t>(vslot)] == 1 && !fetched_slot[static_cast<std::size_t>(tslot)] &&
              P.slots[static_cast<std::size_t>(vslot)].shape == P.slots[static_cast<std::size_t>(tslot)].shape;
    for (std::size_t k = 0; ok && k < steps.size(); ++k) {
      const Step& r = steps[k];
      if (std::find(r.reads.begin(), r.reads.end(), tslot) == r.reads.end()) continue;
      ok = static_cast<int>(k) == w ? r.elementwise
                                    : r.level < steps[static_cast<std::size_t>(w)].level;
      if (ok && static_cast<int>(k) == w && r.nodes.size() > 1) {
        // Chunk by chunk, the pass runs its ops in order: every op reading the
        // old value must come before (or be) the op writing the new one.
        const Node* writer = P.slots[static_cast<std::size_t>(vslot)].node;
        bool seen_writer = false;
        for (const Node* m : r.nodes) {
          for (const Value& in : m->inputs)
            if (a.canon[static_cast<std::size_t>(in.id)] == target.id && seen_writer) ok = false;
          if (m == writer) seen_writer = true;
        }
      }
    }
    if (ok) {
      Slot& v = P.slots[static_cast<std::size_t>(vslot)];
      v.kind = Slot::Kind::alias;
      v.target = &target;
      ++st.in_place_assigns;
    } else {
      P.commits.emplace_back(&target, vslot);
    }
  }

  // --- a GEMM whose product outgrows L2 runs inside the pass that reads it --------
  if (opt.panel_gemms) st.panelled_gemms = fold_gemms_into_passes(steps, P.slots, threads);
  // A product that only its panelled pass reads
  // is never stored whole (Slot::Kind::panel): a gradient is used at once.
  for (const Step& s : steps) {
    if (s.gemm < 0 || !s.elementwise) continue;
    const MatmulFusion& f = fusions[static_cast<std::size_t>(s.gemm)];
    const int product = slot(f.out);
    Slot& ps = P.slots[static_cast<std::size_t>(product)];
    bool only_reader = ps.kind == Slot::Kind::arena && !fetched_slot[static_cast<std::size_t>(product)];
    for (const Step& r : steps)
      if (&r != &s && std::find(r.reads.begin(), r.reads.end(), product) != r.reads.end()) only_reader = false;
    for (const auto& c : P.commits) only_reader = only_reader && c.second != product;
    if (only_reader) ps.kind = Slot::Kind::panel;
  }

  // --- order by level; heavy steps of a level may run side by side -------------
  std::stable_sort(steps.begin(), steps.end(), [](const Step& x, const Step& y) { return x.level < y.level; });
  for (int l = 0, b = 0; l < n_levels; ++l) {
    int e = b;
    while (e < static_cast<int>(steps.size()) && steps[static_cast<std::size_t>(e)].level == l) ++e;
    P.levels.emplace_back(b, e);
    // Heavy steps side by side, each on a share of the budget, only when every
    // one keeps >= 2 threads and their costs are within 4x: oneDNN scales one
    // GEMM well over a few threads, while the TBB hand-off and one-thread
    // GEMMs (beside a tiny elementwise step, at worst) made W1-W6 at 2
    // threads 1.1-1.7x slower than running in order.
    int heavy = 0;
    double lo = 0, hi = 0;
    for (int k = b; k < e; ++k) {
      const Step& s = steps[static_cast<std::size_t>(k)];
      if (!s.heavy) continue;
      lo = heavy == 0 ? s.cost : std::min(lo, s.cost);
      hi = std::max(hi, s.cost);
      ++heavy;
    }
    bool side_by_side = opt.concurrent && heavy >= 2 && threads / heavy >= 2 && hi <= 4 * lo;
    st.concurrent_levels += side_by_side;
    for (int k = b; k < e; ++k) {
      Step& s = steps[static_cast<std::size_t>(k)];
      s.share = side_by_side && s.heavy ? std::max(1, threads / heavy) : threads;
      if (!side_by_side) s.heavy = false;  // run in order with the whole budget
    }
    b = e;
  }
  st.levels = n_levels;
  st.steps = static_cast<int>(steps.size());

  // --- memory: arena slots placed by liveness over levels ----------------------
  std::vector<int> last_use(P.slots.size(), -1);
  for (const Step& s : steps)
    for (int r : s.reads) last_use[static_cast<std::size_t>(r)] = std::max(last_use[static_cast<std::size_t>(r)], s.level);
  for (int f : P.fetch_ids) last_use[static_cast<std::size_t>(slot(f))] = n_levels;
  for (const auto& c : P.commits) last_use[static_cast<std::size_t>(c.second)] = n_levels;
  std::vector<BufferRequest> requests;
  std::vector<int> requested;
  for (std::size_t k = 0; k < P.slots.size(); ++k) {
    Slot& sl = P.slots[k];
    if (sl.kind != Slot::Kind::arena) continue;
    int first = 0;
    for (const Step& s : steps)
      if (s.write == static_cast<int>(k) || std::find(s.side_writes.begin(), s.side_writes.end(), static_cast<int>(k)) != s.side_writes.end())
        first = s.level;
    requests.push_back({static_cast<std::size_t>(numel(sl.shape)) * dtype_size(sl.dtype), first,
                        std::max(first, last_use[k])});
    requested.push_back(static_cast<int>(k));
  }
  MemoryPlan mp = plan_memory(requests);
  st.arena_bytes = mp.arena_bytes;
  st.unplanned_bytes = mp.unplanned_bytes;
  Tensor arena = Tensor::empty(DType::f32, {static_cast<std::int64_t>(mp.arena_bytes / 4 + 16)});
  P.arena = std::shared_ptr<void>(std::make_shared<Tensor>(arena), arena.raw());
  auto* base = static_cast<std::uint8_t*>(arena.raw());
  for (std::size_t r = 0; r < requested.size(); ++r) {
    Slot& sl = P.slots[static_cast<std::size_t>(requested[r])];
    sl.tensor = Tensor::view(sl.dtype, sl.shape, base ? base + mp.offsets[r] : nullptr);
  }
  // Constants are computed once, into storage of their own.
  for (Slot& sl : P.slots) {
    if (sl.kind == Slot::Kind::constant) {
      sl.tensor = Tensor::empty(sl.dtype, sl.shape);
      KernelArgs args{*sl.node, {}, sl.tensor, RandomStream{}};
      sl.node->op->fast(args);
    } else if (sl.kind != Slot::Kind::arena) {
      sl.tensor = Tensor::view(sl.dtype, sl.shape, nullptr);  // bound per run
    }
  }

  // --- NaN/Inf scans ---------------------------------------------------------------
  // A GEMM's output is scanned by the first fused pass that reads all of it,
  // chunk by chunk while the chunk is in L1 (an optimizer update reading the
  // gradient or momentum), instead of by a pass over memory of its own.
  std::vector<int> scanned_by(P.slots.size(), -1);  // slot -> step that scans it
  auto gemm_slot = [&](const Step& s) { return slot(fusions[static_cast<std::size_t>(s.gemm)].out); };
  for (std::size_t k = 0; k < steps.size(); ++k)
    if (steps[k].gemm >= 0 && steps[k].elementwise) scanned_by[static_cast<std::size_t>(gemm_slot(steps[k]))] = static_cast<int>(k);
  for (std::size_t k = 0; k < steps.size(); ++k) {
    Step& producer_step = steps[k];
    if (producer_step.gemm < 0 || producer_step.elementwise) continue;
    for (std::size_t j = k + 1; j < steps.size(); ++j) {
      const Step& r = steps[j];
      if (r.pass && r.level > producer_step.level &&
          std::find(r.reads.begin(), r.reads.end(), producer_step.write) != r.reads.end() &&
          P.slots[static_cast<std::size_t>(producer_step.write)].shape == P.slots[static_cast<std::size_t>(r.write)].shape) {
        scanned_by[static_cast<std::size_t>(producer_step.write)] = static_cast<int>(j);
        producer_step.scanned_in_step = true;
        break;
      }
    }
  }

  // --- kernels --------------------------------------------------------------------
  // What a GEMM step reads and writes (runtime/gemm_fusion.hpp decided what it computes).
  auto gemm_operands = [&](const MatmulFusion& f, Tensor* out) {
    auto tensor = [&](int id) { return &P.slots[static_cast<std::size_t>(slot(id))].tensor; };
    auto shape = [&](int mm, bool accumulate) {
      const Node& m = a.node(mm);
      bool ta = m.attrs.i("trans_a") != 0, tb = m.attrs.i("trans_b") != 0;
      Dims as = a.shape(a.in(mm, 0)), bs = a.shape(a.in(mm, 1));
      return GemmShape{.trans_a = ta, .trans_b = tb, .m = ta ? as[1] : as[0], .n = tb ? bs[0] : bs[1],
                       .k = ta ? as[0] : as[1], .bias = f.bias >= 0 && !accumulate, .act = f.act,
                       .alpha = f.alpha, .accumulate = accumulate};
    };
    // A pair's second product accumulates onto the first.
    GemmOperands ops;
    ops.shape = shape(f.matmul, false);
    ops.a = tensor(a.node(f.matmul).inputs[0].id);
    ops.b = tensor(a.node(f.matmul).inputs[1].id);
    if (f.bias >= 0) ops.bias = tensor(f.bias);
    if (f.second >= 0) {
      ops.second_shape = shape(f.second, true);
      ops.a2 = tensor(a.node(f.second).inputs[0].id);
      ops.b2 = tensor(a.node(f.second).inputs[1].id);
    }
    ops.out = out;
    return ops;
  };
  std::size_t max_registers = 0;
  for (std::size_t step_index = 0; step_index < steps.size(); ++step_index) {
    Step& s = steps[step_index];
    Tensor* out = &P.slots[static_cast<std::size_t>(s.write)].tensor;
    const Node* node = s.node;
    if (s.gemm >= 0 && !s.elementwise) {
      GemmOperands ops = gemm_operands(fusions[static_cast<std::size_t>(s.gemm)], out);
      GemmRowsPlan* plan = &P.gemms.emplace_back(ops, ops.shape.m, s.share);
      s.exec = [ops, plan](const RunContext&) {
        run_gemm_rows(ops, 0, *plan);
        return true;
      };
    } else if (s.pass) {
      FusedElementwise fe;
      fe.out = out;
      int gid = group_of[static_cast<std::size_t>(node->id)];
      std::vector<int> member_index(n, -1);
      for (const Node* m : s.nodes) {
        FusedElementwise::Member mem;
        mem.node = m;
        mem.fn = m->op->chunk;
        if (side_output[static_cast<std::size_t>(m->id)] && m != node)
          mem.out = &P.slots[static_cast<std::size_t>(slot_of[static_cast<std::size_t>(m->id)])].tensor;
        else
          mem.reg = m == node ? -1 : fe.registers++;
        for (std::size_t k = 0; k < m->inputs.size(); ++k) {
          int p = a.in(m->id, k);
          FusedElementwise::Operand o;
          if (a.shape_only(m->id, k)) {
            o.kind = FusedElementwise::Operand::Kind::shape;
          } else if (group_of[static_cast<std::size_t>(p)] == gid) {
            o.kind = FusedElementwise::Operand::Kind::member;
            o.member = member_index[static_cast<std::size_t>(p)];
          } else {
            const int ps_slot = slot_of[static_cast<std::size_t>(p)];
            o.tensor = &P.slots[static_cast<std::size_t>(ps_slot)].tensor;
            Dims ps = a.shape(p);
            if (ps == a.shape(node->id)) {
              o.kind = FusedElementwise::Operand::Kind::full;
              if (scanned_by[static_cast<std::size_t>(ps_slot)] == static_cast<int>(step_index)) {
                o.scan = true;
                scanned_by[static_cast<std::size_t>(ps_slot)] = -1;  // one operand scans it
                s.scans_for.push_back(P.slots[static_cast<std::size_t>(ps_slot)].node);
              }
            }
            else if (numel(ps) == 1) o.kind = FusedElementwise::Operand::Kind::scalar;
            else if (is_trailing_block(a.shape(node->id), ps)) {
              o.kind = FusedElementwise::Operand::Kind::block;
              o.block = numel(ps);
              o.reg = fe.registers++;
            } else {
              o.kind = FusedElementwise::Operand::Kind::leading;
              o.block = numel(a.shape(node->id)) / numel(ps);
              o.reg = fe.registers++;
            }
          }
          mem.operands.push_back(o);
        }
        member_index[static_cast<std::size_t>(m->id)] = static_cast<int>(fe.members.size());
        fe.members.push_back(std::move(mem));
      }
      // A parameter/state bigger than L2, updated in place on several threads,
      // may be streamed out (see FusedElementwise::stream_reg). Where the
      // cores sit on different L3s, a cached store first fetches each line
      // from the other cores' caches (a 1M-parameter momentum update at 2
      // threads: 400 us cached, 190 us streamed). Where they share one L3,
      // it keeps the parameter there for the next step's GEMMs, which
      // otherwise read it from memory (Zen 5 VM, one L3: W6/2 5-10 % and
      // W1/2 4 % slower streamed). One thread owns every line already.
      const Slot& out_slot = P.slots[static_cast<std::size_t>(s.write)];
      const std::int64_t out_bytes = numel(out_slot.shape) * static_cast<std::int64_t>(sizeof(float));
      if (opt.stream_updates.value_or(!cpus_share_l3()) && out_slot.kind == Slot::Kind::alias && s.share > 1 &&
          out_bytes > l2_cache_bytes()) {
        fe.stream_reg = fe.registers++;
        ++st.streamed_updates;
      }
      if (opt.compound_kernels) st.compound_kernels += fe.find_compounds();
      max_registers = std::max(max_registers, static_cast<std::size_t>(fe.registers));
      P.groups.push_back(std::move(fe));
      FusedElementwise* gp = &P.groups.back();
      Impl* impl = &P;
      if (s.gemm >= 0) {
        const MatmulFusion& f = fusions[static_cast<std::size_t>(s.gemm)];
        GemmOperands ops = gemm_operands(f, &P.slots[static_cast<std::size_t>(slot(f.out))].tensor);
        if (P.slots[static_cast<std::size_t>(slot(f.out))].kind == Slot::Kind::panel) gp->panel_product = ops.out;
        gp->find_streams();
        PanelledGemmPass* pp = &P.panelled.emplace_back(ops, *gp, s.panel_rows, s.share);
        s.exec = [pp, impl](const RunContext& c) { return pp->run(c.seed, c.step, impl->scratch.data(), c.check_finite); };
      } else {
        gp->find_streams();
        s.exec = [gp, impl](const RunContext& c) { return gp->run(c.seed, c.step, impl->scratch.data(), c.check_finite); };
      }
      s.scanned_in_step = true;
    } else {
      KernelArgs args{*node, {}, *out, RandomStream{}};
      for (std::size_t k = 0; k < node->inputs.size(); ++k) {
        const Value& v = node->inputs[k];
        if (a.skipped_input(node->id, k)) {
          // Only its shape is read, and nothing computes it: a view without data.
          P.shape_stubs.push_back(Tensor::view(v.dtype(), a.shape(v.id), nullptr));
          args.in.push_back(&P.shape_stubs.back());
        } else {
          args.in.push_back(&P.slots[static_cast<std::size_t>(slot(v.id))].tensor);
        }
      }
      P.kernel_args.push_back(std::move(args));
      KernelArgs* ka = &P.kernel_args.back();
      KernelFn fn = node->op->fast;
      if (!fn) throw RunError(node->describe() + " has no fast kernel");
      s.exec = [ka, fn](const RunContext& c) {
        ka->rng = RandomStream{c.seed, static_cast<std::uint32_t>(ka->node.id), c.step};
        fn(*ka);
        return true;
      };
    }
  }
  // A value no reader's operand ended up scanning is scanned after its step.
  for (Step& s : steps)
    if (s.gemm >= 0 && !s.elementwise && scanned_by[static_cast<std::size_t>(s.write)] >= 0)
      s.scanned_in_step = false;
  P.scratch.assign(static_cast<std::size_t>(threads) * max_registers * FusedElementwise::kChunk, 0.f);
  // One panel buffer for all panelled passes (W5 has four: 3 MiB per thread
  // if each had its own).
  std::int64_t panel_floats = 0;
  for (const PanelledGemmPass& pp : P.panelled) panel_floats = std::max(panel_floats, pp.panel_floats());
  P.panels.assign(static_cast<std::size_t>(threads * panel_floats), 0.f);
  for (PanelledGemmPass& pp : P.panelled) pp.use_panels(P.panels.data(), panel_floats);
  P.steps = std::move(steps);
  for (int f : P.fetch_ids) P.fetch_slots.push_back(slot(f));
  P.results.resize(P.fetch_slots.size());
  for (std::size_t k = 0; k < P.fetch_slots.size(); ++k) {
    const Slot& sl = P.slots[static_cast<std::size_t>(P.fetch_slots[k])];
    P.results[k] = sl.tensor;
    // A fetched param/state that a deferred assign overwrites is returned as
    // it was during the step, like the interpreter does.
    for (const auto& c : P.commits)
      if (sl.kind == Slot::Kind::persistent && c.first == sl.node)
        P.fetch_copies.emplace_back(k, Tensor::empty(sl.dtype, sl.shape));
  }
  if (st.concurrent_levels > 0) P.task_arena = std::make_unique<tbb::task_arena>(threads);
  return prog;
}

}  // namespace anneal
