// A fixed-capacity vector on the stack: kernels describe shapes with it so a
// call allocates nothing. Throws past its capacity (ranks are small).
#pragma once
#include <array>
#include <cstddef>

#include "backend/error.hpp"

namespace anneal {

template <class T, std::size_t N>
class SmallVector {
 public:
  void push_back(const T& x) {
    if (n_ == N) throw Error("SmallVector: more than " + std::to_string(N) + " elements");
    v_[n_++] = x;
  }
  std::size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  T& operator[](std::size_t i) { return v_[i]; }
  const T& operator[](std::size_t i) const { return v_[i]; }
  T& back() { return v_[n_ - 1]; }
  const T* begin() const { return v_.data(); }
  const T* end() const { return v_.data() + n_; }

 private:
  std::array<T, N> v_{};
  std::size_t n_ = 0;
};

}  // namespace anneal
