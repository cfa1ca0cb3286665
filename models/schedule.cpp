#include "models/schedule.hpp"

#include <algorithm>
#include <cmath>

namespace anneal {

double Schedule::at(double epoch) const {
  auto progress = [&] { return end > start ? std::clamp((epoch - start) / (end - start), 0.0, 1.0) : 1.0; };
  switch (kind) {
    case Kind::constant: return from;
    case Kind::linear: return from + (to - from) * progress();
    case Kind::step: return from * std::pow(factor, std::floor(epoch / every));
    case Kind::exponential: return from * std::pow(factor, epoch);
    case Kind::cosine: return to + (from - to) * 0.5 * (1 + std::cos(3.141592653589793 * progress()));
  }
  return from;
}

}  // namespace anneal
