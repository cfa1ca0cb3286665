#include "models/rbm_sample.hpp"

#include "backend/error.hpp"
#include "ops/ops.hpp"
#include "runtime/session.hpp"

namespace anneal::rbm {

Chains make_chains(const Rbm& rbm, std::int64_t count, std::int64_t doc_length) {
  const std::string who = "sampling rbm '" + rbm.name + "'";
  if (count < 1) throw InvalidInput(who + ": needs at least one chain");
  Graph& g = *rbm.W.graph;
  Value len;
  if (rbm.spec.visible_type == UnitType::replicated_softmax) {
    if (doc_length < 1 || doc_length > rbm.spec.max_doc_length)
      throw InvalidInput(who + ": doc_length must be in [1, max_doc_length = " +
                         std::to_string(rbm.spec.max_doc_length) + "], got " + std::to_string(doc_length));
    len = g.constant(Tensor::full(DType::f32, {count, 1}, static_cast<double>(doc_length)));
  }
  Chains c;
  c.state = g.state(rbm.name + ".sample.chains", {count, rbm.spec.visible_units()});
  {
    Graph::Scope scope(g, rbm.name + ".sample.init/");  // a second assign to the chains needs a name of its own
    c.init = assign(c.state, rbm.visible->sample(c.state * 0.0, len));
  }
  c.step = assign(c.state, rbm.gibbs(c.state, true));
  c.mean = rbm.mean_v(rbm.sample_h(c.state), rbm.length(c.state));
  return c;
}

void run_chains(Session& s, const Chains& c, int steps) {
  if (steps < 0) throw InvalidInput("run_chains: the number of Gibbs steps must be >= 0");
  s.run({}, {}, {c.init});
  for (int i = 0; i < steps; ++i) s.run_views({}, {}, {c.step});
}

Samples sample(Session& trained, const Rbm& rbm, const SampleOptions& o) {
  Replica rep = replicate(rbm, "rbm_sample");
  Chains c = make_chains(rep.rbm, o.count, o.doc_length);
  Session s(*rep.graph, {.seed = o.seed});
  copy_parameters(trained, s, rbm);
  run_chains(s, c, o.gibbs_steps);
  auto out = s.run({}, {c.state, c.mean});
  return {out[0], out[1]};
}

}  // namespace anneal::rbm
