// IDX files (LeCun's MNIST format), raw or gzipped: a 4-byte magic
// {0, 0, type, ndims}, ndims big-endian u32 dimensions, then the elements,
// big-endian and row-major.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "backend/tensor.hpp"

namespace anneal {

// The element type codes of the IDX spec.
enum class IdxType : std::uint8_t { u8 = 0x08, i8 = 0x09, i16 = 0x0B, i32 = 0x0C, f32 = 0x0D, f64 = 0x0E };

const char* idx_type_name(IdxType t);
std::size_t idx_type_size(IdxType t);

// What read_idx accepts: 1 to 4 dimensions, none zero, at most 2^31 elements.
constexpr std::size_t kIdxMaxRank = 4;
constexpr std::int64_t kIdxMaxElements = std::int64_t{1} << 31;

struct IdxArray {
  std::string path;  // where it came from, so later errors can name it
  IdxType type = IdxType::u8;
  Dims dims;
  // The elements in host byte order, kept in their file type: an image file
  // costs one byte per pixel until it is converted.
  std::vector<std::uint8_t> bytes;

  std::int64_t numel() const { return anneal::numel(dims); }
  bool is_integer() const { return type != IdxType::f32 && type != IdxType::f64; }
  // The elements converted to `t`, with shape `dims`. To i32 only from the
  // integer types (labels); throws InvalidInput naming `path` otherwise.
  Tensor to_tensor(DType t) const;
};

// Reads an IDX file, gzipped or raw (zlib reads both). Throws InvalidInput
// naming the path for a missing file, a bad header, truncated data or
// trailing bytes.
IdxArray read_idx(const std::string& path);

// Writes u8 elements with shape `dims` as an IDX file, gzipped when the path
// ends in ".gz". Used for fixtures and for exporting binarized data.
void write_idx(const std::string& path, const Dims& dims, std::span<const std::uint8_t> data);

}  // namespace anneal
