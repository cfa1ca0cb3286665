#include "io/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <tuple>
#include <nlohmann/json.hpp>
#include <utility>

#include "backend/error.hpp"
#include "io/atomic_file.hpp"

namespace anneal {

namespace {

using json = nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";

struct DTypeInfo {
  const char* name;
  std::size_t size;
};
// Every dtype of the format with a whole number of bytes per element.
constexpr DTypeInfo kDTypes[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"F8_E8M0", 1},
    {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},     {"U32", 4},
    {"F32", 4},  {"F64", 8}, {"I64", 8}, {"U64", 8},     {"C64", 8},
};

// Copies `n` elements of `size` bytes, byte-swapping each on a big-endian
// host: the format is little-endian.
void copy_le(void* dst, const void* src, std::size_t n, std::size_t size) {
  if (n == 0) return;
  std::memcpy(dst, src, n * size);
  if constexpr (std::endian::native == std::endian::big) {
    auto* p = static_cast<unsigned char*>(dst);
    for (std::size_t i = 0; i < n; ++i) std::reverse(p + i * size, p + (i + 1) * size);
  }
}

std::uint64_t read_u64_le(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void append_u64_le(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string shape_str(const Dims& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

std::string tick(const std::string& name) { return "'" + name + "'"; }

}  // namespace

std::size_t safetensors_dtype_size(std::string_view dtype) {
  for (const auto& d : kDTypes)
    if (dtype == d.name) return d.size;
  return 0;
}

const char* safetensors_dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::i32: return "I32";
  }
  return "?";
}

// --- writing -------------------------------------------------------------------

std::string safetensors_bytes(const std::map<std::string, Tensor>& tensors,
                              const std::map<std::string, std::string>& metadata) {
  // Data layout: decreasing element size, then name, so each tensor is
  // aligned to its element size (the data section starts 8-byte aligned).
  std::vector<std::pair<std::string, const Tensor*>> order;
  for (const auto& [name, t] : tensors) {
    if (name == kMetadataKey) throw InvalidInput("safetensors: '__metadata__' cannot name a tensor");
    if (!t.defined()) throw InvalidInput("safetensors: tensor " + tick(name) + " is undefined");
    order.emplace_back(name, &t);
  }
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return dtype_size(a.second->dtype()) > dtype_size(b.second->dtype());
  });

  json header = json::object();
  std::uint64_t offset = 0;
  for (const auto& [name, t] : order) {
    json shape = json::array();
    for (auto d : t->shape()) shape.push_back(static_cast<std::uint64_t>(d));
    std::uint64_t end = offset + t->nbytes();
    header[name] = json{{"dtype", safetensors_dtype_name(t->dtype())},
                        {"shape", std::move(shape)},
                        {"data_offsets", json::array({offset, end})}};
    offset = end;
  }
  if (!metadata.empty()) {
    json meta = json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header[kMetadataKey] = std::move(meta);
  }

  std::string text;
  try {
    // Keys come out sorted (json objects are ordered maps): deterministic.
    text = header.dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const json::exception& e) {
    throw InvalidInput(std::string("safetensors: a tensor name or metadata string is not valid UTF-8 (") +
                       e.what() + ")");
  }
  // Pad with spaces so the data section starts at a multiple of 8.
  text.append((8 - text.size() % 8) % 8, ' ');

  std::string out;
  out.reserve(8 + text.size() + offset);
  append_u64_le(out, text.size());
  out += text;
  for (const auto& [name, t] : order) {
    std::size_t at = out.size();
    out.resize(at + t->nbytes());
    copy_le(out.data() + at, t->raw(), static_cast<std::size_t>(t->numel()), dtype_size(t->dtype()));
  }
  return out;
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, safetensors_bytes(tensors, metadata));
}

// --- reading -------------------------------------------------------------------

SafetensorsHeader parse_safetensors_header(std::string_view bytes, const std::string& what) {
  const std::string file = what + ": ";
  auto fail = [&](const std::string& msg) -> void { throw InvalidInput(file + msg); };
  auto fail_tensor = [&](const std::string& name, const std::string& msg) -> void {
    throw InvalidInput(file + "tensor " + tick(name) + ": " + msg);
  };

  if (bytes.size() < 8)
    fail("not a safetensors file: " + std::to_string(bytes.size()) +
         " bytes, shorter than the 8-byte header length");
  const std::uint64_t n = read_u64_le(bytes.data());
  if (n > kSafetensorsMaxHeader)
    fail("header length " + std::to_string(n) + " exceeds the limit of " + std::to_string(kSafetensorsMaxHeader) +
         " bytes");
  if (n > bytes.size() - 8)
    fail("header length " + std::to_string(n) + " goes beyond the end of the file (" +
         std::to_string(bytes.size()) + " bytes)");
  const std::string_view text = bytes.substr(8, n);
  if (text.empty() || text.front() != '{') fail("the header does not start with a JSON object ('{')");

  // Parse, rejecting duplicate keys (the format disallows them; a plain parse
  // would keep the last) and nesting deeper than the format has.
  json header;
  {
    std::vector<std::vector<std::string>> keys;  // one key list per open object
    auto cb = [&](int depth, json::parse_event_t event, json& parsed) {
      switch (event) {
        case json::parse_event_t::object_start:
        case json::parse_event_t::array_start:
          if (depth > 2) fail("the header nests deeper than the format allows");
          if (event == json::parse_event_t::object_start) keys.emplace_back();
          break;
        case json::parse_event_t::object_end:
          if (!keys.empty()) keys.pop_back();
          break;
        case json::parse_event_t::key: {
          const std::string& k = parsed.get_ref<const std::string&>();
          auto& seen = keys.back();
          if (std::find(seen.begin(), seen.end(), k) != seen.end())
            fail("duplicate key " + tick(k) + " in the header");
          seen.push_back(k);
          break;
        }
        default: break;
      }
      return true;
    };
    try {
      header = json::parse(text.begin(), text.end(), cb);
    } catch (const json::parse_error& e) {
      fail(std::string("the header is not valid JSON: ") + e.what());
    }
  }
  if (!header.is_object()) fail("the header is not a JSON object");

  const std::uint64_t data_size = bytes.size() - 8 - n;
  SafetensorsHeader h;
  h.data_start = 8 + n;
  for (const auto& [name, value] : header.items()) {
    if (name == kMetadataKey) {
      if (!value.is_object()) fail("__metadata__ must be an object of strings");
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) fail("__metadata__." + k + " must be a string, got " + v.type_name());
        h.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    if (!value.is_object()) fail_tensor(name, std::string("expected an object, got ") + value.type_name());
    for (const auto& [k, v] : value.items())
      if (k != "dtype" && k != "shape" && k != "data_offsets")
        fail_tensor(name, "unknown field " + tick(k) + " (expected dtype, shape, data_offsets)");
    for (const char* k : {"dtype", "shape", "data_offsets"})
      if (!value.contains(k)) fail_tensor(name, std::string("missing field '") + k + "'");

    SafetensorsEntry e;
    e.name = name;
    const json& dt = value["dtype"];
    if (!dt.is_string()) fail_tensor(name, "dtype must be a string");
    e.dtype = dt.get<std::string>();
    const std::size_t esize = safetensors_dtype_size(e.dtype);
    if (esize == 0) fail_tensor(name, "unknown dtype " + tick(e.dtype));

    const json& shape = value["shape"];
    if (!shape.is_array()) fail_tensor(name, "shape must be an array of integers");
    std::uint64_t count = 1;
    bool overflow = false;
    for (const json& d : shape) {
      if (d.is_number_integer() && !d.is_number_unsigned() && d.get<std::int64_t>() < 0)
        fail_tensor(name, "shape " + shape.dump() + " has a negative dimension");
      if (!d.is_number_unsigned()) fail_tensor(name, "shape " + shape.dump() + " must hold integers");
      const std::uint64_t x = d.get<std::uint64_t>();
      if (x > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        fail_tensor(name, "shape " + shape.dump() + " has a dimension too large");
      e.shape.push_back(static_cast<std::int64_t>(x));
      overflow |= __builtin_mul_overflow(count, x, &count);
    }
    std::uint64_t nbytes = 0;
    overflow |= __builtin_mul_overflow(count, static_cast<std::uint64_t>(esize), &nbytes);
    if (overflow) fail_tensor(name, "shape " + shape.dump() + " is too large");

    const json& off = value["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      fail_tensor(name, "data_offsets must be two non-negative integers [begin, end], got " + off.dump());
    e.begin = off[0].get<std::uint64_t>();
    e.end = off[1].get<std::uint64_t>();
    if (e.begin > e.end) fail_tensor(name, "data_offsets " + off.dump() + " end before they begin");
    if (e.end > data_size)
      fail_tensor(name, "data_offsets " + off.dump() + " go beyond the data section (" + std::to_string(data_size) +
                            " bytes)");
    if (e.end - e.begin != nbytes)
      fail_tensor(name, "data_offsets " + off.dump() + " hold " + std::to_string(e.end - e.begin) +
                            " bytes, but shape " + shape_str(e.shape) + " of " + e.dtype + " needs " +
                            std::to_string(nbytes));
    h.entries.push_back(std::move(e));
  }

  // The ranges must tile the data section exactly.
  std::sort(h.entries.begin(), h.entries.end(), [](const auto& a, const auto& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  std::uint64_t pos = 0;
  const SafetensorsEntry* prev = nullptr;
  for (const auto& e : h.entries) {
    if (e.begin > pos)
      fail_tensor(e.name, "a hole of " + std::to_string(e.begin - pos) + " bytes precedes its data (at offset " +
                              std::to_string(pos) + ")");
    if (e.begin < pos)
      fail_tensor(e.name, "its data [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                              ") overlaps tensor " + tick(prev ? prev->name : "") + "'s");
    pos = e.end;
    prev = &e;
  }
  if (pos != data_size)
    fail(std::to_string(data_size - pos) + " trailing bytes after the last tensor's data (the data section is " +
         std::to_string(data_size) + " bytes, the tensors cover " + std::to_string(pos) + ")");
  return h;
}

SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& what) {
  SafetensorsHeader h = parse_safetensors_header(bytes, what);
  SafetensorsFile f;
  f.metadata = std::move(h.metadata);
  for (const auto& e : h.entries) {
    DType t;
    if (e.dtype == "F32") t = DType::f32;
    else if (e.dtype == "F64") t = DType::f64;
    else if (e.dtype == "I32") t = DType::i32;
    else
      throw InvalidInput(what + ": tensor " + tick(e.name) + " has dtype " + e.dtype +
                         ", which Anneal cannot hold (F32, F64 or I32)");
    Tensor x = Tensor::empty(t, e.shape);
    copy_le(x.raw(), bytes.data() + h.data_start + e.begin, static_cast<std::size_t>(x.numel()), dtype_size(t));
    f.tensors.emplace(e.name, std::move(x));
  }
  return f;
}

SafetensorsFile load_safetensors(const std::string& path) { return parse_safetensors(read_file(path), path); }

}  // namespace anneal
