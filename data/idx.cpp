#include "data/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <memory>

#include "backend/error.hpp"

namespace anneal {

const char* idx_type_name(IdxType t) {
  switch (t) {
    case IdxType::u8: return "u8";
    case IdxType::i8: return "i8";
    case IdxType::i16: return "i16";
    case IdxType::i32: return "i32";
    case IdxType::f32: return "f32";
    case IdxType::f64: return "f64";
  }
  return "?";
}

std::size_t idx_type_size(IdxType t) {
  switch (t) {
    case IdxType::u8: case IdxType::i8: return 1;
    case IdxType::i16: return 2;
    case IdxType::i32: case IdxType::f32: return 4;
    case IdxType::f64: return 8;
  }
  return 0;
}

namespace {

bool valid_type_code(std::uint8_t c) {
  return c == 0x08 || c == 0x09 || c == 0x0B || c == 0x0C || c == 0x0D || c == 0x0E;
}

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzHandle = std::unique_ptr<gzFile_s, GzCloser>;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw InvalidInput(path + ": " + what);
}

GzHandle open_gz(const std::string& path, const char* mode) {
  errno = 0;
  gzFile f = gzopen(path.c_str(), mode);
  if (!f) fail(path, std::string("cannot open: ") + (errno ? std::strerror(errno) : "out of memory"));
  return GzHandle(f);
}

// Reads up to n bytes; fewer only at the end of the data. gzread takes an
// unsigned length, so large reads go in chunks.
std::size_t read_some(gzFile f, const std::string& path, std::uint8_t* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    unsigned want = static_cast<unsigned>(std::min<std::size_t>(n - got, std::size_t{1} << 24));
    int r = gzread(f, out + got, want);
    if (r < 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      fail(path, std::string("read error: ") + (code == Z_ERRNO ? std::strerror(errno) : msg));
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

void to_host_order(std::vector<std::uint8_t>& bytes, std::size_t width) {
  if (width == 1 || std::endian::native == std::endian::big) return;
  for (std::size_t i = 0; i + width <= bytes.size(); i += width)
    std::reverse(bytes.begin() + static_cast<std::ptrdiff_t>(i), bytes.begin() + static_cast<std::ptrdiff_t>(i + width));
}

template <class Src, class Dst>
void convert(const std::vector<std::uint8_t>& bytes, Dst* out) {
  std::size_t n = bytes.size() / sizeof(Src);
  for (std::size_t i = 0; i < n; ++i) {
    Src v;
    std::memcpy(&v, bytes.data() + i * sizeof(Src), sizeof(Src));
    out[i] = static_cast<Dst>(v);
  }
}

template <class Dst>
void convert_from(IdxType t, const std::vector<std::uint8_t>& bytes, Dst* out) {
  switch (t) {
    case IdxType::u8: convert<std::uint8_t>(bytes, out); break;
    case IdxType::i8: convert<std::int8_t>(bytes, out); break;
    case IdxType::i16: convert<std::int16_t>(bytes, out); break;
    case IdxType::i32: convert<std::int32_t>(bytes, out); break;
    case IdxType::f32: convert<float>(bytes, out); break;
    case IdxType::f64: convert<double>(bytes, out); break;
  }
}

}  // namespace

Tensor IdxArray::to_tensor(DType t) const {
  if (t == DType::i32 && !is_integer())
    fail(path, std::string("holds ") + idx_type_name(type) + " values where integers (labels) were expected");
  Tensor r = Tensor::empty(t, dims);
  switch (t) {
    case DType::f32: convert_from(type, bytes, r.data<float>()); break;
    case DType::f64: convert_from(type, bytes, r.data<double>()); break;
    case DType::i32: convert_from(type, bytes, r.data<std::int32_t>()); break;
  }
  return r;
}

IdxArray read_idx(const std::string& path) {
  GzHandle f = open_gz(path, "rb");
  gzbuffer(f.get(), 1 << 18);
  IdxArray a;
  a.path = path;

  std::uint8_t magic[4];
  std::size_t got = read_some(f.get(), path, magic, 4);
  if (got < 4) fail(path, "truncated header: " + std::to_string(got) + " bytes, an IDX file starts with 4");
  if (magic[0] != 0 || magic[1] != 0)
    fail(path, "bad magic: the first two bytes are not zero (not an IDX file?)");
  if (!valid_type_code(magic[2]))
    fail(path, "unsupported element type code " + std::to_string(magic[2]) +
                   " (IDX types: 8 u8, 9 i8, 11 i16, 12 i32, 13 f32, 14 f64)");
  a.type = static_cast<IdxType>(magic[2]);
  std::size_t rank = magic[3];
  if (rank == 0 || rank > kIdxMaxRank)
    fail(path, "unsupported number of dimensions " + std::to_string(rank) + " (expected 1 to 4)");

  std::uint8_t header[4 * kIdxMaxRank];
  got = read_some(f.get(), path, header, 4 * rank);
  if (got < 4 * rank)
    fail(path, "truncated header: expected " + std::to_string(4 * rank) + " bytes of dimensions, got " +
                   std::to_string(got));
  std::int64_t n = 1;
  for (std::size_t i = 0; i < rank; ++i) a.dims.push_back(be32(header + 4 * i));
  for (std::int64_t d : a.dims) {
    if (d == 0) fail(path, "dimensions " + dims_str(a.dims) + " hold no elements");
    // Checked per factor so the product cannot overflow before the check.
    if (n > kIdxMaxElements / d)
      fail(path, "dimensions " + dims_str(a.dims) + " exceed the limit of 2^31 elements");
    n *= d;
  }

  // The buffer grows as data arrives, so a header that promises gigabytes
  // in a short file fails on truncation instead of allocating them.
  std::size_t width = idx_type_size(a.type);
  std::size_t expected = static_cast<std::size_t>(n) * width;
  got = 0;
  while (got < expected) {
    std::size_t want = std::min<std::size_t>(expected - got, std::size_t{1} << 24);
    if (a.bytes.size() < got + want) a.bytes.resize(std::min(expected, std::max(got + want, 2 * a.bytes.size())));
    std::size_t r = read_some(f.get(), path, a.bytes.data() + got, want);
    got += r;
    if (r < want) break;
  }
  if (got < expected)
    fail(path, "truncated data: expected " + std::to_string(expected) + " bytes for " + idx_type_name(a.type) +
                   " " + dims_str(a.dims) + ", got " + std::to_string(got));
  std::uint8_t extra[1];
  if (read_some(f.get(), path, extra, 1) != 0)
    fail(path, "trailing bytes after the " + std::to_string(expected) + " data bytes for " +
                   idx_type_name(a.type) + " " + dims_str(a.dims));
  to_host_order(a.bytes, width);
  return a;
}

void write_idx(const std::string& path, const Dims& dims, std::span<const std::uint8_t> data) {
  if (dims.empty() || dims.size() > kIdxMaxRank)
    fail(path, "cannot write " + std::to_string(dims.size()) + " dimensions (IDX holds 1 to 4)");
  for (std::int64_t d : dims)
    if (d <= 0 || d > 0xFFFFFFFFll) fail(path, "cannot write dimensions " + dims_str(dims));
  if (static_cast<std::size_t>(numel(dims)) != data.size())
    fail(path, "cannot write " + std::to_string(data.size()) + " bytes as dimensions " + dims_str(dims));

  bool gz = path.size() >= 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  GzHandle f = open_gz(path, gz ? "wb" : "wbT");  // "T": zlib writes plain bytes
  std::vector<std::uint8_t> header = {0, 0, static_cast<std::uint8_t>(IdxType::u8),
                                      static_cast<std::uint8_t>(dims.size())};
  for (std::int64_t d : dims)
    for (int s = 24; s >= 0; s -= 8) header.push_back(static_cast<std::uint8_t>(d >> s));
  auto put = [&](const std::uint8_t* p, std::size_t n) {
    while (n > 0) {
      unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n, std::size_t{1} << 24));
      if (gzwrite(f.get(), p, chunk) != static_cast<int>(chunk)) fail(path, "write error");
      p += chunk;
      n -= chunk;
    }
  };
  put(header.data(), header.size());
  put(data.data(), data.size());
  if (gzclose(f.release()) != Z_OK) fail(path, "write error on close");
}

}  // namespace anneal
