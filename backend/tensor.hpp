// Dense, row-major, 64-byte aligned tensors: the one data structure kernels see.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace anneal {

// float32 for the fast kernels, float64 for the reference kernels and
// gradient checks (oneDNN 2.6 has no f64), int32 for labels and counts.
enum class DType : std::uint8_t { f32, f64, i32 };

std::size_t dtype_size(DType t);
const char* dtype_name(DType t);
DType dtype_from_name(const std::string& s);  // throws on an unknown name

using Dims = std::vector<std::int64_t>;

std::int64_t numel(const Dims& d);
std::string dims_str(const Dims& d);  // "[100, 784]"; the batch dim prints as "B"

constexpr std::size_t kTensorAlignment = 64;

class Tensor {
 public:
  Tensor() = default;
  // Uninitialized storage. Zero-sized tensors are valid and own no memory.
  static Tensor empty(DType t, Dims shape);
  static Tensor zeros(DType t, Dims shape);
  static Tensor full(DType t, Dims shape, double value);
  static Tensor scalar(double value, DType t = DType::f32);
  // From host values (converted to `t`): a convenience for tests and examples.
  static Tensor from(const std::vector<double>& values, Dims shape, DType t = DType::f32);
  // A tensor over memory owned elsewhere (a plan's arena): `keep_alive`, when
  // given, keeps that memory alive as long as the view.
  static Tensor view(DType t, Dims shape, void* data, std::shared_ptr<void> keep_alive = nullptr);

  DType dtype() const { return dtype_; }
  const Dims& shape() const { return shape_; }
  std::int64_t rank() const { return static_cast<std::int64_t>(shape_.size()); }
  std::int64_t dim(std::int64_t i) const { return shape_.at(static_cast<std::size_t>(i)); }
  std::int64_t numel() const { return numel_; }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel_) * dtype_size(dtype_); }
  bool defined() const { return defined_; }

  template <class T> T* data() { check_type<T>(); return static_cast<T*>(ptr_); }
  template <class T> const T* data() const { check_type<T>(); return static_cast<const T*>(ptr_); }
  void* raw() { return ptr_; }
  const void* raw() const { return ptr_; }

  // Element i as a double, whatever the dtype (tests, printing, host logic).
  double at(std::int64_t i) const;
  double item() const;  // the single element of a one-element tensor
  std::vector<double> to_vector() const;

  Tensor to(DType t) const;  // converted copy (same dtype: deep copy)
  Tensor clone() const { return to(dtype_); }
  // Same storage, another shape with the same element count.
  Tensor reshaped(Dims shape) const;
  // Copies `src` (same dtype and element count) into this tensor's storage.
  void copy_from(const Tensor& src);

 private:
  template <class T> void check_type() const;
  DType dtype_ = DType::f32;
  Dims shape_;
  std::int64_t numel_ = 0;
  bool defined_ = false;
  std::shared_ptr<void> storage_;
  void* ptr_ = nullptr;
};

template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::f64; };
template <> struct dtype_of<std::int32_t> { static constexpr DType value = DType::i32; };

}  // namespace anneal
