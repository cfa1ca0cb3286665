#include "runtime/program.hpp"

#include <oneapi/tbb/parallel_for.h>

#include <chrono>
#include <cstdio>
#include <sstream>

#include "backend/error.hpp"
#include "backend/finite.hpp"
#include "backend/threads.hpp"
#include "runtime/program_impl.hpp"

namespace anneal {

Program::Program() : impl_(std::make_unique<Impl>()) {}
Program::~Program() = default;

bool Program::matches(const std::vector<Value>& fetches, const std::vector<Value>& targets, std::int64_t batch,
                      int threads) const {
  const Impl& P = *impl_;
  if (P.batch != batch || P.threads != threads || P.fetch_ids.size() != fetches.size() ||
      P.target_ids.size() != targets.size())
    return false;
  for (std::size_t i = 0; i < fetches.size(); ++i)
    if (P.fetch_ids[i] != fetches[i].id) return false;
  for (std::size_t i = 0; i < targets.size(); ++i)
    if (P.target_ids[i] != targets[i].id) return false;
  return true;
}

namespace {

void bind_feed(Slot& s, const std::map<std::string, Tensor>& feeds) {
  auto it = feeds.find(s.node->name);
  if (it == feeds.end()) throw InvalidInput("input '" + s.node->name + "' is needed but was not fed");
  const Tensor& t = it->second;
  if (t.shape() != s.shape || t.dtype() != s.dtype)
    throw InvalidInput("input '" + s.node->name + "' expects " + dims_str(s.node->type.shape) + " " +
                       dtype_name(s.dtype) + " (batch " + std::to_string(s.shape.empty() ? 0 : s.shape[0]) +
                       "), got " + dims_str(t.shape()) + " " + dtype_name(t.dtype()));
  s.tensor = t;
}

// False when the step checked itself and found a NaN/Inf.
bool run_step(const Step& s, const RunContext& ctx) {
  try {
    return s.exec(ctx);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw RunError(s.node->describe() + ": " + e.what());
  }
}

}  // namespace

const std::vector<Tensor>& Program::run(const std::map<std::string, Tensor>& feeds, StateStore& store,
                                        std::uint64_t seed, std::uint64_t step, bool check_finite) {
  Impl& P = *impl_;
  for (Slot& s : P.slots) {
    switch (s.kind) {
      case Slot::Kind::feed: bind_feed(s, feeds); break;
      case Slot::Kind::persistent: s.tensor = store.persistent(*s.node); break;
      case Slot::Kind::alias: {
        Tensor& t = store.persistent(*s.target);
        s.tensor = t;  // same shape as the value, checked when compiled
        break;
      }
      default: break;
    }
  }
  for (auto& [k, buf] : P.fetch_copies) buf.copy_from(P.slots[static_cast<std::size_t>(P.fetch_slots[k])].tensor);

  RunContext ctx{seed, static_cast<std::uint32_t>(step), check_finite};
  ThreadShare whole(P.threads);
  for (const auto& level : P.levels) {
    const int b = level.first, e = level.second;  // plain locals: lambdas capture them on every compiler
    auto run_checked = [&](const Step& s) {
      bool ok;
      if (P.profiling) {
        auto t0 = std::chrono::steady_clock::now();
        ok = run_step(s, ctx);
        s.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      } else {
        ok = run_step(s, ctx);
      }
      auto finite = [&](int slot) {
        const Tensor& t = P.slots[static_cast<std::size_t>(slot)].tensor;
        return t.dtype() != DType::f32 || all_finite(t.data<float>(), t.numel());
      };
      if (check_finite && !s.scanned_in_step) {
        ok = ok && finite(s.write);
        for (int w : s.side_writes) ok = ok && finite(w);
      }
      if (!ok) {
        std::string what = "non-finite value (NaN or Inf) produced by " + s.node->describe();
        if (s.nodes.size() > 1) {
          what += " (computed in one fused step with";
          for (const Node* m : s.nodes)
            if (m != s.node) what += " '" + m->name + "'";
          what += ")";
        }
        for (const Node* m : s.scans_for) what += ", or by " + m->describe() + ", which it reads";
        throw RunError(what);
      }
    };
    bool concurrent = false;
    for (int k = b; k < e; ++k) concurrent |= P.steps[static_cast<std::size_t>(k)].heavy;
    if (concurrent) {
      // The heavy steps of this level side by side, each with its fixed share
      // of the budget (fixed at compile time, so results do not depend on the
      // schedule); then the light ones in order.
      P.task_arena->execute([&] {
        tbb::parallel_for(b, e, [&](int k) {
          const Step& s = P.steps[static_cast<std::size_t>(k)];
          if (!s.heavy) return;
          ThreadShare share(s.share);
          run_checked(s);
        });
      });
      for (int k = b; k < e; ++k)
        if (!P.steps[static_cast<std::size_t>(k)].heavy) run_checked(P.steps[static_cast<std::size_t>(k)]);
    } else {
      for (int k = b; k < e; ++k) run_checked(P.steps[static_cast<std::size_t>(k)]);
    }
  }
  for (const auto& [target, vslot] : P.commits) store.persistent(*target).copy_from(P.slots[static_cast<std::size_t>(vslot)].tensor);
  for (std::size_t k = 0; k < P.fetch_slots.size(); ++k) P.results[k] = P.slots[static_cast<std::size_t>(P.fetch_slots[k])].tensor;
  for (auto& [k, buf] : P.fetch_copies) P.results[k] = buf;
  if (P.profiling) ++P.profiled_runs;
  return P.results;
}

void Program::set_profiling(bool on) {
  impl_->profiling = on;
  impl_->profiled_runs = 0;
  for (const Step& s : impl_->steps) s.seconds = 0;
}

std::string Program::describe() const {
  const Impl& P = *impl_;
  std::ostringstream os;
  for (const Step& s : P.steps) {
    if (P.profiled_runs > 0) {
      char t[32];
      std::snprintf(t, sizeof t, "%9.1f us  ", 1e6 * s.seconds / static_cast<double>(P.profiled_runs));
      os << t;
    }
    os << 'L' << s.level << ' ' << s.label << ' ' << s.node->name << " -> "
       << dims_str(P.slots[static_cast<std::size_t>(s.write)].shape);
    if (s.heavy) os << " (side by side, " << s.share << " threads)";
    os << '\n';
  }
  for (const auto& [t, v] : P.commits) os << "commit " << t->name << '\n';
  return os.str();
}

}  // namespace anneal
