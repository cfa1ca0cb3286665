// stop_gradient and assign: identity kernels whose meaning is in the
// autodiff (no gradient) and in the session (state written after the step).
#include "ops/families.hpp"
#include "ops/ops.hpp"

namespace anneal {
namespace {

void copy_kernel(KernelArgs& a) { a.out.copy_from(*a.in[0]); }

TypeInfo identity_type(const Node& n) { return n.input_type(0); }

TypeInfo assign_type(const Node& n) {
  const Node& target = n.inputs[0].node();
  if (target.op->role != OpRole::state && target.op->role != OpRole::param)
    throw ShapeError("the target '" + target.name + "' is not a param or state");
  if (n.input_type(1).shape != target.type.shape || n.input_type(1).dtype != target.type.dtype)
    throw ShapeError("the new value " + dims_str(n.input_type(1).shape) + " does not match the target's " +
                     dims_str(target.type.shape));
  return target.type;
}

void assign_kernel(KernelArgs& a) { a.out.copy_from(*a.in[1]); }

const OpDef kStopGradient{.name = "stop_gradient", .min_inputs = 1, .max_inputs = 1, .infer = identity_type,
                          .fast = copy_kernel, .ref = copy_kernel,
                          .not_differentiable = "by definition: it blocks the gradient"};
const OpDef kAssign{.name = "assign", .min_inputs = 2, .max_inputs = 2, .infer = assign_type,
                    .fast = assign_kernel, .ref = assign_kernel,
                    .not_differentiable = "a state update, not a function of its inputs",
                    .role = OpRole::assign};

}  // namespace

Value stop_gradient(Value x) { return x.graph->add(kStopGradient, {x}); }
Value assign(Value target, Value value) {
  return target.graph->add(kAssign, {target, value}, {}, target.graph->scoped("assign(" + target.name() + ")"));
}

void detail::register_control_ops(OpList& ops) { ops.insert(ops.end(), {&kStopGradient, &kAssign}); }

}  // namespace anneal
