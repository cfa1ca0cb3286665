// The safetensors format (https://github.com/huggingface/safetensors), so
// PyTorch, NumPy and the rest can read Anneal's weights and Anneal theirs:
//
//   8 bytes      N, the header length, an unsigned 64-bit little-endian int
//   N bytes      a UTF-8 JSON object: tensor name -> {"dtype": "F32",
//                "shape": [2, 3], "data_offsets": [begin, end]} (offsets into
//                the data section, end one past the last byte), plus an
//                optional "__metadata__": {string: string}
//   the rest     the data section: raw little-endian, row-major tensors,
//                contiguous, with no holes, no overlaps and no trailing bytes
//
// Writing is deterministic (same tensors and metadata -> same bytes): the
// header lists keys in sorted order and is padded with spaces so the data
// section starts 8-byte aligned; tensors are laid out by decreasing element
// size, then by name (as the reference implementation does), so every tensor
// is aligned to its element size in the file.
//
// Reading validates everything the specification implies and names the file
// and the tensor in each error (InvalidInput): header length beyond the file
// or over 100 MB, bad JSON, duplicate names, unknown dtype or field, negative
// or overflowing shape, offsets out of range or reversed, overlapping ranges,
// holes, a size other than numel * element size, trailing bytes.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "backend/tensor.hpp"

namespace anneal {

// The header limit of the reference implementation.
inline constexpr std::uint64_t kSafetensorsMaxHeader = 100'000'000;

// Bytes per element of a safetensors dtype ("F32", "BF16", "I64", "BOOL",
// ...), or 0 when the name is not one the format defines.
std::size_t safetensors_dtype_size(std::string_view dtype);
// "F32", "F64", "I32" for Anneal's dtypes.
const char* safetensors_dtype_name(DType t);

// One header entry, as the file describes it (any dtype of the format).
struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // "F32", "I64", ...
  Dims shape;
  std::uint64_t begin = 0, end = 0;  // byte offsets into the data section
};

struct SafetensorsHeader {
  std::vector<SafetensorsEntry> entries;  // sorted by begin offset, then name
  std::map<std::string, std::string> metadata;
  std::uint64_t data_start = 0;  // 8 + N: where the data section begins
};

// Validates the whole file image `bytes` (header and data section sizes) and
// returns its header. `what` names the file in errors.
SafetensorsHeader parse_safetensors_header(std::string_view bytes, const std::string& what);

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// The file image of `tensors` (F32, F64 or I32) and `metadata`. Throws
// InvalidInput for an undefined tensor, an empty name or "__metadata__" as a
// name, or a name or metadata string that is not valid UTF-8.
std::string safetensors_bytes(const std::map<std::string, Tensor>& tensors,
                              const std::map<std::string, std::string>& metadata = {});

// Parses and validates a file image into tensors. Tensors of a dtype Anneal
// cannot hold (anything but F32, F64, I32) are an InvalidInput naming them.
SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& what);

// safetensors_bytes written with write_file_atomic (temp file, fsync,
// rename, fsync of the directory).
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
// Reads and validates `path`; errors name it.
SafetensorsFile load_safetensors(const std::string& path);

}  // namespace anneal
