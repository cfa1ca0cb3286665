#include "backend/tensor.hpp"

#include <cstdlib>
#include <cstring>
#include <sstream>

#include "backend/error.hpp"

namespace anneal {

std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i32: return 4;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::i32: return "i32";
  }
  return "?";
}

DType dtype_from_name(const std::string& s) {
  if (s == "f32") return DType::f32;
  if (s == "f64") return DType::f64;
  if (s == "i32") return DType::i32;
  throw InvalidInput("unknown dtype '" + s + "' (expected f32, f64 or i32)");
}

std::int64_t numel(const Dims& d) {
  std::int64_t n = 1;
  for (auto x : d) n *= x;
  return n;
}

std::string dims_str(const Dims& d) {
  std::ostringstream os;
  os << '[';
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (i) os << ", ";
    if (d[i] < 0) os << 'B'; else os << d[i];
  }
  os << ']';
  return os.str();
}

Tensor Tensor::empty(DType t, Dims shape) {
  Tensor r;
  for (auto x : shape)
    if (x < 0) throw InvalidInput("Tensor::empty: negative dimension in " + dims_str(shape));
  r.dtype_ = t;
  r.numel_ = anneal::numel(shape);
  r.shape_ = std::move(shape);
  r.defined_ = true;
  std::size_t bytes = r.nbytes();
  if (bytes > 0) {
    std::size_t rounded = (bytes + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
    void* p = std::aligned_alloc(kTensorAlignment, rounded);
    if (!p) throw RunError("out of memory allocating " + std::to_string(bytes) + " bytes");
    r.storage_ = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
    r.ptr_ = p;
  }
  return r;
}

Tensor Tensor::zeros(DType t, Dims shape) {
  Tensor r = empty(t, std::move(shape));
  if (r.nbytes()) std::memset(r.ptr_, 0, r.nbytes());
  return r;
}

namespace {
template <class T> void fill_as(void* p, std::int64_t n, double v) {
  T* q = static_cast<T*>(p);
  for (std::int64_t i = 0; i < n; ++i) q[i] = static_cast<T>(v);
}
void fill(DType t, void* p, std::int64_t n, double v) {
  switch (t) {
    case DType::f32: fill_as<float>(p, n, v); break;
    case DType::f64: fill_as<double>(p, n, v); break;
    case DType::i32: fill_as<std::int32_t>(p, n, v); break;
  }
}
}  // namespace

Tensor Tensor::full(DType t, Dims shape, double value) {
  Tensor r = empty(t, std::move(shape));
  fill(t, r.ptr_, r.numel_, value);
  return r;
}

Tensor Tensor::scalar(double value, DType t) { return full(t, {}, value); }

Tensor Tensor::from(const std::vector<double>& values, Dims shape, DType t) {
  Tensor r = empty(t, std::move(shape));
  if (static_cast<std::int64_t>(values.size()) != r.numel_)
    throw InvalidInput("Tensor::from: " + std::to_string(values.size()) + " values for shape " +
                       dims_str(r.shape_));
  for (std::int64_t i = 0; i < r.numel_; ++i) {
    switch (t) {
      case DType::f32: r.data<float>()[i] = static_cast<float>(values[i]); break;
      case DType::f64: r.data<double>()[i] = values[i]; break;
      case DType::i32: r.data<std::int32_t>()[i] = static_cast<std::int32_t>(values[i]); break;
    }
  }
  return r;
}

Tensor Tensor::view(DType t, Dims shape, void* data, std::shared_ptr<void> keep_alive) {
  Tensor r;
  r.dtype_ = t;
  r.numel_ = anneal::numel(shape);
  r.shape_ = std::move(shape);
  r.defined_ = true;
  r.storage_ = std::move(keep_alive);
  r.ptr_ = data;
  return r;
}

template <class T> void Tensor::check_type() const {
  if (dtype_ != dtype_of<T>::value)
    throw Error(std::string("tensor of dtype ") + dtype_name(dtype_) + " accessed as " +
                dtype_name(dtype_of<T>::value));
}
template void Tensor::check_type<float>() const;
template void Tensor::check_type<double>() const;
template void Tensor::check_type<std::int32_t>() const;

double Tensor::at(std::int64_t i) const {
  switch (dtype_) {
    case DType::f32: return static_cast<const float*>(ptr_)[i];
    case DType::f64: return static_cast<const double*>(ptr_)[i];
    case DType::i32: return static_cast<const std::int32_t*>(ptr_)[i];
  }
  return 0;
}

double Tensor::item() const {
  if (numel_ != 1) throw Error("Tensor::item on a tensor of shape " + dims_str(shape_));
  return at(0);
}

std::vector<double> Tensor::to_vector() const {
  std::vector<double> v(static_cast<std::size_t>(numel_));
  for (std::int64_t i = 0; i < numel_; ++i) v[static_cast<std::size_t>(i)] = at(i);
  return v;
}

Tensor Tensor::to(DType t) const {
  Tensor r = empty(t, shape_);
  if (t == dtype_) {
    if (nbytes()) std::memcpy(r.ptr_, ptr_, nbytes());
    return r;
  }
  for (std::int64_t i = 0; i < numel_; ++i) {
    double v = at(i);
    switch (t) {
      case DType::f32: r.data<float>()[i] = static_cast<float>(v); break;
      case DType::f64: r.data<double>()[i] = v; break;
      case DType::i32: r.data<std::int32_t>()[i] = static_cast<std::int32_t>(v); break;
    }
  }
  return r;
}

Tensor Tensor::reshaped(Dims shape) const {
  if (anneal::numel(shape) != numel_)
    throw Error("cannot reshape " + dims_str(shape_) + " to " + dims_str(shape));
  Tensor r = *this;
  r.shape_ = std::move(shape);
  return r;
}

void Tensor::copy_from(const Tensor& src) {
  if (src.dtype_ != dtype_ || src.numel_ != numel_)
    throw Error("copy_from: " + std::string(dtype_name(src.dtype_)) + dims_str(src.shape_) + " into " +
                dtype_name(dtype_) + dims_str(shape_));
  if (nbytes()) std::memcpy(ptr_, src.ptr_, nbytes());
}

}  // namespace anneal
