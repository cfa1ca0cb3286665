#include "graph/sources.hpp"

#include <cmath>

#include "graph/graph.hpp"

namespace anneal {
namespace {

TypeInfo declared_type(const Node& n) {
  const auto& shape = n.attrs.ints("shape");
  for (auto d : shape)
    if (d < 0 && d != Dim::batch()) throw ShapeError("negative dimension in " + dims_str(shape));
  DType t = DType::f32;
  try {
    t = dtype_from_name(n.attrs.s("dtype"));
  } catch (const std::exception& e) {
    throw ShapeError(e.what());
  }
  if (t == DType::f64) throw ShapeError("graph values are f32 or i32 (f64 is the reference kernels' type)");
  return {t, shape};
}

TypeInfo fixed_type(const Node& n) {
  TypeInfo t = declared_type(n);
  for (auto d : t.shape)
    if (d == Dim::batch()) throw ShapeError("parameters, state and constants have no batch dimension");
  return t;
}

template <class T> void fill_constant(KernelArgs& a) {
  const auto& v = a.node.attrs.floats("value");
  T* out = a.out.data<T>();
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = static_cast<T>(v[i]);
}
void constant_fast(KernelArgs& a) {
  if (a.out.dtype() == DType::i32) fill_constant<std::int32_t>(a); else fill_constant<float>(a);
}
void constant_ref(KernelArgs& a) {
  if (a.out.dtype() == DType::i32) fill_constant<std::int32_t>(a); else fill_constant<double>(a);
}
TypeInfo constant_type(const Node& n) {
  TypeInfo t = fixed_type(n);
  if (static_cast<std::int64_t>(n.attrs.floats("value").size()) != numel(t.shape))
    throw ShapeError("constant has " + std::to_string(n.attrs.floats("value").size()) + " values for shape " +
                     dims_str(t.shape));
  return t;
}

// A function, not a global: the op records below are function-local statics
// and may be built before this file's globals are.
std::vector<AttrSpec> init_attrs() {
  return {{"shape", AttrKind::i64s, std::nullopt},
          {"dtype", AttrKind::str, AttrValue{std::string("f32")}},
          {"init", AttrKind::str, AttrValue{std::string("zeros")}},
          {"init_args", AttrKind::f64s, AttrValue{std::vector<double>{}}}};
}

TypeInfo init_type(const Node& n) {
  TypeInfo t = fixed_type(n);
  try {
    init_kind_from_name(n.attrs.s("init"));
  } catch (const std::exception& e) {
    throw ShapeError(e.what());
  }
  const auto& args = n.attrs.floats("init_args");
  if (args.size() > 2) throw ShapeError("init_args holds at most 2 numbers");
  for (double a : args)
    if (!std::isfinite(a)) throw ShapeError("init_args must be finite numbers");
  return t;
}

}  // namespace

const OpDef& input_op() {
  static const OpDef op{.name = "input",
                        .attrs = {{"shape", AttrKind::i64s, std::nullopt},
                                  {"dtype", AttrKind::str, AttrValue{std::string("f32")}}},
                        .infer = declared_type,
                        .not_differentiable = "a fed input (its gradient is requested through grad(loss, {x}))",
                        .role = OpRole::input};
  return op;
}

const OpDef& param_op() {
  static const OpDef op{.name = "param",
                        .attrs = init_attrs(),
                        .infer = init_type,
                        .not_differentiable = "a leaf: gradients stop here",
                        .role = OpRole::param};
  return op;
}

const OpDef& state_op() {
  static const OpDef op{.name = "state",
                        .attrs = init_attrs(),
                        .infer = init_type,
                        .not_differentiable = "persistent state is not trained",
                        .role = OpRole::state};
  return op;
}

const OpDef& constant_op() {
  static const OpDef op{.name = "constant",
                        .attrs = {{"shape", AttrKind::i64s, std::nullopt},
                                  {"dtype", AttrKind::str, AttrValue{std::string("f32")}},
                                  {"value", AttrKind::f64s, std::nullopt}},
                        .infer = constant_type,
                        .fast = constant_fast,
                        .ref = constant_ref,
                        .not_differentiable = "a constant",
                        .role = OpRole::constant};
  return op;
}

}  // namespace anneal
