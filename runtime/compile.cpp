// Program::compile: prune, merge common subexpressions, fuse, order in
// levels, decide in-place updates, plan memory, bind kernels.
#include <algorithm>
#include <cstring>
#include <tuple>
#include <unordered_map>

#include "backend/error.hpp"
#include "graph/shape_rules.hpp"
#include "ops/elementwise.hpp"
#include "runtime/memory_plan.hpp"
#include "runtime/program_impl.hpp"

namespace anneal {
namespace {

bool is_op(const Node& n, const char* name) { return n.op->name == name; }

// The graph as the requests see it: needed nodes, each replaced by its
// canonical (first identical) node, with consumer lists.
struct Analysis {
  const Graph& g;
  std::int64_t batch;
  std::vector<int> canon;
  std::vector<char> needed, fetched;
  std::vector<std::vector<int>> consumers;
  int merged = 0;

  const Node& node(int id) const { return g.node(id); }
  int in(int id, std::size_t k) const { return canon[static_cast<std::size_t>(node(id).inputs[k].id)]; }
  Dims shape(int id) const { return resolve_batch(node(id).type.shape, batch); }
  bool single_consumer(int id, int c) const {
    const auto& cs = consumers[static_cast<std::size_t>(id)];
    return !fetched[static_cast<std::size_t>(id)] && cs.size() == 1 && cs[0] == c;
  }
};

bool cse_able(const Node& n) {
  return !n.op->stochastic && (n.op->role == OpRole::compute || n.op->role == OpRole::constant);
}

Analysis analyze(const Graph& g, const std::vector<int>& roots_fetch, const std::vector<int>& roots_target,
                 std::int64_t batch, bool cse) {
  const std::size_t n = g.size();
  Analysis a{g, batch, std::vector<int>(n, -1), std::vector<char>(n, 0), std::vector<char>(n, 0), {}};
  std::vector<char> reach(n, 0);
  for (int r : roots_fetch) reach[static_cast<std::size_t>(r)] = 1;
  for (int r : roots_target) reach[static_cast<std::size_t>(r)] = 1;
  for (std::size_t i = n; i-- > 0;)
    if (reach[i])
      for (const Value& v : g.node(static_cast<int>(i)).inputs) reach[static_cast<std::size_t>(v.id)] = 1;

  // Hash-consing in topological order: a node equal to an earlier one in
  // op, canonical inputs and attributes is replaced by it.
  std::unordered_multimap<std::size_t, int> seen;
  for (std::size_t i = 0; i < n; ++i) {
    if (!reach[i]) continue;
    const Node& nd = g.node(static_cast<int>(i));
    a.canon[i] = static_cast<int>(i);
    // stop_gradient only matters to autodiff: running, it is its input.
    if (is_op(nd, "stop_gradient")) {
      a.canon[i] = a.canon[static_cast<std::size_t>(nd.inputs[0].id)];
      continue;
    }
    if (!cse || !cse_able(nd)) continue;
    std::size_t h = std::hash<const void*>()(nd.op);
    for (const Value& v : nd.inputs) h = h * 1000003u ^ static_cast<std::size_t>(a.canon[static_cast<std::size_t>(v.id)]);
    bool found = false;
    auto range = seen.equal_range(h);
    for (auto it = range.first; it != range.second && !found; ++it) {
      const Node& o = g.node(it->second);
      if (o.op != nd.op || o.attrs != nd.attrs || o.type.shape != nd.type.shape || o.type.dtype != nd.type.dtype ||
          o.inputs.size() != nd.inputs.size())
        continue;
      bool same = true;
      for (std::size_t k = 0; k < nd.inputs.size() && same; ++k)
        same = a.canon[static_cast<std::size_t>(o.inputs[k].id)] == a.canon[static_cast<std::size_t>(nd.inputs[k].id)];
      if (same) a.canon[i] = it->second, found = true;
    }
    if (found) ++a.merged;
    else seen.emplace(h, static_cast<int>(i));
  }

  a.consumers.assign(n, {});
  std::vector<int> stack;
  for (int r : roots_fetch) a.fetched[static_cast<std::size_t>(a.canon[static_cast<std::size_t>(r)])] = 1;
  for (const auto* roots : {&roots_fetch, &roots_target})
    for (int r : *roots) a.needed[static_cast<std::size_t>(a.canon[static_cast<std::size_t>(r)])] = 1;
  for (std::size_t i = n; i-- > 0;) {
    if (!a.needed[i]) continue;
    for (std::size_t k = 0; k < g.node(static_cast<int>(i)).inputs.size(); ++k) {
      int p = a.in(static_cast<int>(i), k);
      a.needed[static_cast<std::size_t>(p)] = 1;
      auto& cs = a.consumers[static_cast<std::size_t>(p)];
      if (std::find(cs.begin(), cs.end(), static_cast<int>(i)) == cs.end()) cs.push_back(static_cast<int>(i));
    }
  }
  return a;
}

struct MatmulFusion {
  int matmul = -1, bias = -1, out = -1;
  int second = -1;  // a plain matmul whose product the GEMM adds onto the first's (C += A2 B2)
  int onto = -1;    // a state the products are added onto, scaled: out = scale * onto + products
  int scale = -1;   // that scalar
  std::vector<int> nodes;
  GemmActivation act = GemmActivation::none;
  float alpha = 0;
};

GemmActivation gemm_activation(PostOp p) {
  switch (p) {
    case PostOp::relu: return GemmActivation::relu;
    case PostOp::leaky_relu: return GemmActivation::leaky_relu;
    case PostOp::sigmoid: return GemmActivation::sigmoid;
    case PostOp::tanh: return GemmActivation::tanh;
    case PostOp::none: break;
  }
  return GemmActivation::none;
}

// matmul -> add(bias row) -> activation, each intermediate used only by the next.
MatmulFusion fuse_matmul(const Analysis& a, int m, bool enabled) {
  MatmulFusion f;
  f.matmul = f.out = m;
  f.nodes = {m};
  if (!enabled) return f;
  Dims mshape = a.shape(m);
  const auto& cs = a.consumers[static_cast<std::size_t>(m)];
  if (cs.size() == 1 && a.single_consumer(m, cs[0]) && is_op(a.node(cs[0]), "add")) {
    int add = cs[0];
    int other = a.in(add, 0) == m ? a.in(add, 1) : a.in(add, 0);
    Dims bs = a.shape(other);
    bool row = (bs.size() == 1 && bs[0] == mshape[1]) || (bs.size() == 2 && bs[0] == 1 && bs[1] == mshape[1]);
    if (other != m && row && a.shape(add) == mshape) {
      f.bias = other;
      f.out = add;
      f.nodes.push_back(add);
    }
  }
  const auto& cs2 = a.consumers[static_cast<std::size_t>(f.out)];
  if (cs2.size() == 1 && a.single_consumer(f.out, cs2[0])) {
    const Node& x = a.node(cs2[0]);
    if (x.op->post_op != PostOp::none && a.shape(cs2[0]) == mshape) {
      f.act = gemm_activation(x.op->post_op);
      if (x.op->post_op == PostOp::leaky_relu) f.alpha = static_cast<float>(x.attrs.f("slope"));
      f.out = cs2[0];
      f.nodes.push_back(cs2[0]);
    }
  }
  return f;
}

bool plain_matmul(const Analysis& a, int id) { return is_op(a.node(id), "matmul") && a.node(id).type.dtype == DType::f32; }

// add(matmul, matmul) of one shape, each product used only by the add (how
// autodiff sums a weight's gradient over its uses): one step where the second
// GEMM accumulates into the first's output (oneDNN's sum post-op), so the two
// products never exist apart and no pass adds them.
MatmulFusion pair_matmuls(const Analysis& a, int m) {
  MatmulFusion f;
  const auto& cs = a.consumers[static_cast<std::size_t>(m)];
  if (cs.size() != 1 || !a.single_consumer(m, cs[0]) || !is_op(a.node(cs[0]), "add")) return f;
  int add = cs[0];
  int other = a.in(add, 0) == m ? a.in(add, 1) : a.in(add, 0);
  if (other == m || !plain_matmul(a, other) || !a.single_consumer(other, add) || a.shape(other) != a.shape(m) ||
      a.shape(add) != a.shape(m))
    return f;
  f.matmul = m;
  f.second = other;
  f.out = add;
  f.nodes = {m, other, add};
  return f;
}

// An optimizer's momentum, v_new = mu * v + g, assigned back to v, where g is
// a fusion's plain product(s): the GEMM adds onto v in place (sum post-op
// with scale mu), so the gradient never exists apart from the velocity and
// the update pass reads one array less.
void accumulate_onto_state(const Analysis& a, MatmulFusion& f) {
  if (f.bias >= 0 || f.act != GemmActivation::none) return;
  const auto& cs = a.consumers[static_cast<std::size_t>(f.out)];
  if (cs.size() != 1 || !a.single_consumer(f.out, cs[0]) || !is_op(a.node(cs[0]), "add")) return;
  int add = cs[0];
  int scaled = a.in(add, 0) == f.out ? a.in(add, 1) : a.in(add, 0);
  if (scaled == f.out || !is_op(a.node(scaled), "mul") || !a.single_consumer(scaled, add) ||
      a.shape(add) != a.shape(f.out))
    return;
  for (int k = 0; k < 2; ++k) {
    int v = a.in(scaled, static_cast<std::size_t>(k)), mu = a.in(scaled, static_cast<std::size_t>(1 - k));
    const Node& vn = a.node(v);
    const Node& mn = a.node(mu);
    if (vn.op->role != OpRole::state || a.shape(v) != a.shape(add) || numel(a.shape(mu)) != 1 ||
        mn.type.dtype != DType::f32 || (mn.op->role != OpRole::state && mn.op->role != OpRole::constant &&
                                        mn.op->role != OpRole::param))
      continue;
    bool assigned_back = false;  // the sum is v's next value
    for (int c : a.consumers[static_cast<std::size_t>(add)])
      assigned_back |= a.node(c).op->role == OpRole::assign && a.in(c, 0) == v && a.in(c, 1) == add;
    if (!assigned_back) continue;
    f.onto = v;
    f.scale = mu;
    f.out = add;
    f.nodes.push_back(scaled);
    f.nodes.push_back(add);
    return;
  }
}

// An elementwise op the fused pass can run: f32, a chunk kernel, and every
// input the output's shape, a scalar, or a repeated trailing block.
bool chunkable(const Analysis& a, int id) {
  const Node& n = a.node(id);
  if (!n.op->chunk || n.type.dtype != DType::f32 || n.inputs.size() > 4) return false;
  Dims s = a.shape(id);
  for (std::size_t k = 0; k < n.inputs.size(); ++k) {
    int p = a.in(id, k);
    if (a.node(p).type.dtype != DType::f32) return false;
    Dims ps = a.shape(p);
    if (ps != s && numel(ps) != 1 && !is_trailing_block(s, ps)) return false;
  }
  return true;
}

std::string gemm_label(const MatmulFusion& f) {
  std::string s = f.second >= 0 ? "gemm+gemm" : "gemm";
  if (f.onto >= 0) s += "+onto_state";
  if (f.bias >= 0) s += "+bias";
  switch (f.act) {
    case GemmActivation::relu: s += "+relu"; break;
    case GemmActivation::leaky_relu: s += "+leaky_relu"; break;
    case GemmActivation::sigmoid: s += "+sigmoid"; break;
    case GemmActivation::tanh: s += "+tanh"; break;
    case GemmActivation::none: break;
  }
  return s;
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
    if (opt.fuse_matmul && opt.in_place_updates) accumulate_onto_state(a, f);
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
  auto in_multi_group = [&](std::size_t i) { return group_of[i] >= 0 && group_size[static_cast<std::size_t>(group_of[i])] > 1; };

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
    bool interior = in_multi_group(i) && group_root[static_cast<std::size_t>(group_of[i])] != static_cast<int>(i);
    if (interior && !side_output[i]) continue;
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
    if (in_multi_group(i) && group_root[static_cast<std::size_t>(group_of[i])] != id) continue;
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
      if (f.onto >= 0) read(f.onto), read(f.scale), s.accumulates = slot_of[static_cast<std::size_t>(f.onto)];
      s.label = gemm_label(f);
      s.heavy = true;
      for (int mm : {f.matmul, f.second}) {
        if (mm < 0) continue;
        Dims as = a.shape(a.in(mm, 0));
        s.cost += static_cast<double>(numel(a.shape(mm))) * static_cast<double>(as[a.node(mm).attrs.i("trans_a") ? 0 : 1]);
      }
      st.gemms += f.second >= 0 ? 2 : 1;
      st.fused_matmuls += f.nodes.size() > 1;
    } else if (in_multi_group(i)) {
      for (std::size_t k = 0; k < n; ++k)
        if (group_of[k] == group_of[i]) s.nodes.push_back(&a.node(static_cast<int>(k)));
      for (const Node* m : s.nodes)
        for (std::size_t k = 0; k < m->inputs.size(); ++k) {
          int p = a.in(m->id, k);
          if (group_of[static_cast<std::size_t>(p)] != group_of[i]) read(p);
        }
      s.label = "fused";
      for (const Node* m : s.nodes) s.label += (m == s.nodes.front() ? " " : "+") + m->op->name;
      s.elementwise = true;
      ++st.fused_groups;
      st.fused_group_ops += static_cast<int>(s.nodes.size());
    } else {
      s.nodes.push_back(&nd);
      for (std::size_t k = 0; k < nd.inputs.size(); ++k) read(a.in(id, k));
      s.label = nd.op->name;
      s.elementwise = nd.op->chunk != nullptr;
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
      ok = static_cast<int>(k) == w ? r.elementwise || r.accumulates == tslot
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

  // --- kernels --------------------------------------------------------------------
  std::size_t max_registers = 0;
  for (Step& s : steps) {
    Tensor* out = &P.slots[static_cast<std::size_t>(s.write)].tensor;
    const Node* node = s.node;
    if (gemm_of[static_cast<std::size_t>(node->id)] >= 0) {
      const MatmulFusion& f = fusions[static_cast<std::size_t>(gemm_of[static_cast<std::size_t>(node->id)])];
      // One GemmPlan per product; a pair's second accumulates onto the first.
      auto plan = [&](int mm, bool accumulate) {
        const Node& m = a.node(mm);
        bool ta = m.attrs.i("trans_a") != 0, tb = m.attrs.i("trans_b") != 0;
        Dims as = a.shape(a.in(mm, 0)), bs = a.shape(a.in(mm, 1));
        GemmShape gs{.trans_a = ta, .trans_b = tb, .m = ta ? as[1] : as[0], .n = tb ? bs[0] : bs[1],
                     .k = ta ? as[0] : as[1], .bias = f.bias >= 0 && !accumulate, .act = f.act, .alpha = f.alpha,
                     .accumulate = accumulate};
        P.gemms.emplace_back(gs, s.share);
        return std::make_tuple(&P.gemms.back(), &P.slots[static_cast<std::size_t>(slot(m.inputs[0].id))].tensor,
                               &P.slots[static_cast<std::size_t>(slot(m.inputs[1].id))].tensor);
      };
      const Tensor* bias = f.bias >= 0 ? &P.slots[static_cast<std::size_t>(slot_of[static_cast<std::size_t>(f.bias)])].tensor : nullptr;
      if (f.onto >= 0) {
        // out = mu * v + products: v's storage itself when the assign is in
        // place, else a copy of v first.
        auto [gp, A, B] = plan(f.matmul, true);
        GemmPlan* gp2 = nullptr;
        const Tensor *A2 = nullptr, *B2 = nullptr;
        if (f.second >= 0) std::tie(gp2, A2, B2) = plan(f.second, true);
        const Tensor* V = &P.slots[static_cast<std::size_t>(slot_of[static_cast<std::size_t>(f.onto)])].tensor;
        const Tensor* mu = &P.slots[static_cast<std::size_t>(slot_of[static_cast<std::size_t>(f.scale)])].tensor;
        s.exec = [gp, A, B, gp2, A2, B2, V, mu, out](const RunContext&) {
          if (out->data<float>() != V->data<float>()) out->copy_from(*V);
          gp->set_sum_scale(mu->data<float>()[0]);
          gp->run(A->data<float>(), B->data<float>(), out->data<float>());
          if (gp2) gp2->run(A2->data<float>(), B2->data<float>(), out->data<float>());
        };
      } else if (f.second < 0) {
        auto [gp, A, B] = plan(f.matmul, false);
        s.exec = [gp, A, B, bias, out](const RunContext&) {
          gp->run(A->data<float>(), B->data<float>(), out->data<float>(), bias ? bias->data<float>() : nullptr);
        };
      } else {
        auto [gp, A, B] = plan(f.matmul, false);
        auto [gp2, A2, B2] = plan(f.second, true);
        s.exec = [gp, A, B, gp2, A2, B2, out](const RunContext&) {
          gp->run(A->data<float>(), B->data<float>(), out->data<float>());
          gp2->run(A2->data<float>(), B2->data<float>(), out->data<float>());
        };
      }
    } else if (s.nodes.size() > 1) {
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
          if (group_of[static_cast<std::size_t>(p)] == gid) {
            o.kind = FusedElementwise::Operand::Kind::member;
            o.member = member_index[static_cast<std::size_t>(p)];
          } else {
            o.tensor = &P.slots[static_cast<std::size_t>(slot_of[static_cast<std::size_t>(p)])].tensor;
            Dims ps = a.shape(p);
            if (ps == a.shape(node->id)) o.kind = FusedElementwise::Operand::Kind::full;
            else if (numel(ps) == 1) o.kind = FusedElementwise::Operand::Kind::scalar;
            else {
              o.kind = FusedElementwise::Operand::Kind::block;
              o.block = numel(ps);
              o.reg = fe.registers++;
            }
          }
          mem.operands.push_back(o);
        }
        member_index[static_cast<std::size_t>(m->id)] = static_cast<int>(fe.members.size());
        fe.members.push_back(std::move(mem));
      }
      max_registers = std::max(max_registers, static_cast<std::size_t>(fe.registers));
      P.groups.push_back(std::move(fe));
      FusedElementwise* gp = &P.groups.back();
      Impl* impl = &P;
      s.exec = [gp, impl](const RunContext& c) { gp->run(c.seed, c.step, impl->scratch.data()); };
    } else {
      KernelArgs args{*node, {}, *out, RandomStream{}};
      for (const Value& v : node->inputs) args.in.push_back(&P.slots[static_cast<std::size_t>(slot(v.id))].tensor);
      P.kernel_args.push_back(std::move(args));
      KernelArgs* ka = &P.kernel_args.back();
      KernelFn fn = node->op->fast;
      if (!fn) throw RunError(node->describe() + " has no fast kernel");
      s.exec = [ka, fn](const RunContext& c) {
        ka->rng = RandomStream{c.seed, static_cast<std::uint32_t>(ka->node.id), c.step};
        fn(*ka);
      };
    }
  }
  P.scratch.assign(static_cast<std::size_t>(threads) * max_registers * FusedElementwise::kChunk, 0.f);
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
