// Schedules for any hyper-parameter, as a function of training progress in
// epochs (fractional: epoch 2.5 is half-way through the third epoch).
#pragma once
#include <string>

namespace anneal {

struct Schedule {
  enum class Kind { constant, linear, step, exponential, cosine };
  Kind kind = Kind::constant;
  double from = 0, to = 0;   // linear / cosine: value at `start` and at `end`
  double start = 0, end = 0;  // epochs
  double factor = 1;          // step: multiply by `factor` every `every` epochs; exponential: per epoch
  double every = 1;

  static Schedule constant(double v) { return {Kind::constant, v, v}; }
  // from -> to linearly between epochs start and end, flat outside
  // (e.g. momentum 0.5 -> 0.9 over the first 5 epochs).
  static Schedule linear(double from, double to, double start, double end) {
    return {Kind::linear, from, to, start, end};
  }
  // v * factor^floor(epoch / every)
  static Schedule step(double v, double factor, double every) { return {Kind::step, v, v, 0, 0, factor, every}; }
  // v * factor^epoch
  static Schedule exponential(double v, double factor) { return {Kind::exponential, v, v, 0, 0, factor}; }
  // from -> to along a half cosine between start and end.
  static Schedule cosine(double from, double to, double start, double end) {
    return {Kind::cosine, from, to, start, end};
  }

  double at(double epoch) const;
};

}  // namespace anneal
