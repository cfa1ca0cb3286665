// cast: converts values between f32 and i32 (labels to floats and back).
#include <cmath>

#include "ops/families.hpp"
#include "ops/ops.hpp"

namespace anneal {
namespace {

TypeInfo cast_type(const Node& n) {
  DType to;
  try {
    to = dtype_from_name(n.attrs.s("to"));
  } catch (const std::exception& e) {
    throw ShapeError(e.what());
  }
  if (to == DType::f64) throw ShapeError("cast targets f32 or i32");
  return {to, n.input_type(0).shape};
}

// f32 -> i32 rounds toward zero, like a C cast; the reference kernel's
// floats are f64, so the same loop serves both.
void cast_kernel(KernelArgs& a) {
  const Tensor& x = *a.in[0];
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    double v = x.at(i);
    switch (a.out.dtype()) {
      case DType::f32: a.out.data<float>()[i] = static_cast<float>(v); break;
      case DType::f64: a.out.data<double>()[i] = v; break;
      case DType::i32: a.out.data<std::int32_t>()[i] = static_cast<std::int32_t>(std::trunc(v)); break;
    }
  }
}

const OpDef kCast{.name = "cast", .min_inputs = 1, .max_inputs = 1,
                  .attrs = {{"to", AttrKind::str, std::nullopt}}, .infer = cast_type, .fast = cast_kernel,
                  .ref = cast_kernel,
                  .not_differentiable = "one side is always an integer"};

}  // namespace

Value cast(Value x, DType to) {
  if (x.dtype() == to) return x;
  return x.graph->add(kCast, {x}, Attrs{{"to", std::string(dtype_name(to))}});
}

void detail::register_cast_ops(OpList& ops) { ops.push_back(&kCast); }

}  // namespace anneal
