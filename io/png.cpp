#include "io/png.hpp"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/error.hpp"
#include "io/atomic_file.hpp"

namespace anneal {

namespace {

constexpr std::int64_t kMaxSide = 1 << 14;

// Maps [lo, hi] to 0..255; a flat range maps to mid-gray.
struct GrayMap {
  float lo, scale;
  GrayMap(float l, float h) : lo(l), scale(h > l ? 255.f / (h - l) : 0.f) {}
  std::uint8_t operator()(float v) const {
    if (scale == 0.f) return 128;
    if (!std::isfinite(v)) return v > 0 ? 255 : 0;  // NaN maps to 0
    float g = (v - lo) * scale;
    return static_cast<std::uint8_t>(std::lround(std::clamp(g, 0.f, 255.f)));
  }
};

void min_max(const float* p, std::int64_t n, float& lo, float& hi) {
  lo = INFINITY;
  hi = -INFINITY;
  for (std::int64_t i = 0; i < n; ++i)
    if (std::isfinite(p[i])) {
      lo = std::min(lo, p[i]);
      hi = std::max(hi, p[i]);
    }
  if (lo > hi) lo = hi = 0;
}

png_image describe(const Image& image) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width);
  png.height = static_cast<png_uint_32>(image.height);
  png.format = image.channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  return png;
}

}  // namespace

Image image_grid(const float* tiles, std::int64_t n, std::int64_t tile_h, std::int64_t tile_w,
                 const GridOptions& o) {
  if (n < 1 || tile_h < 1 || tile_w < 1)
    throw InvalidInput("image_grid: need at least one tile of at least 1x1 pixels (got " + std::to_string(n) +
                       " tiles of " + std::to_string(tile_h) + "x" + std::to_string(tile_w) + ")");
  if (o.padding < 0) throw InvalidInput("image_grid: padding must be >= 0");
  std::int64_t cols = o.columns > 0 ? std::min(o.columns, n)
                                    : static_cast<std::int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  std::int64_t rows = (n + cols - 1) / cols;
  if (tile_w > kMaxSide || tile_h > kMaxSide || cols * (tile_w + o.padding) + o.padding > kMaxSide ||
      rows * (tile_h + o.padding) + o.padding > kMaxSide)
    throw InvalidInput("image_grid: a grid of " + std::to_string(n) + " tiles of " + std::to_string(tile_h) + "x" +
                       std::to_string(tile_w) + " pixels is larger than " + std::to_string(kMaxSide) +
                       " pixels a side");
  Image img;
  img.width = cols * (tile_w + o.padding) + o.padding;
  img.height = rows * (tile_h + o.padding) + o.padding;
  img.pixels.assign(static_cast<std::size_t>(img.width * img.height), o.background);

  const std::int64_t tile_size = tile_h * tile_w;
  float glo = o.lo, ghi = o.hi;
  if (o.scale == GridScale::global) min_max(tiles, n * tile_size, glo, ghi);
  for (std::int64_t k = 0; k < n; ++k) {
    const float* t = tiles + k * tile_size;
    float lo = glo, hi = ghi;
    if (o.scale == GridScale::per_tile) min_max(t, tile_size, lo, hi);
    GrayMap gray(lo, hi);
    std::int64_t y0 = o.padding + (k / cols) * (tile_h + o.padding);
    std::int64_t x0 = o.padding + (k % cols) * (tile_w + o.padding);
    for (std::int64_t y = 0; y < tile_h; ++y)
      for (std::int64_t x = 0; x < tile_w; ++x) img.at(y0 + y, x0 + x) = gray(t[y * tile_w + x]);
  }
  return img;
}

Image image_grid(const Tensor& rows, const Dims& tile_shape, const GridOptions& options) {
  if (!rows.defined() || rows.dtype() != DType::f32 || rows.rank() != 2)
    throw InvalidInput("image_grid: expected an f32 [n, h*w] tensor");
  if (tile_shape.size() != 2 || tile_shape[0] * tile_shape[1] != rows.dim(1))
    throw InvalidInput("image_grid: tile shape " + dims_str(tile_shape) + " does not hold rows of " +
                       std::to_string(rows.dim(1)) + " values");
  return image_grid(rows.data<float>(), rows.dim(0), tile_shape[0], tile_shape[1], options);
}

std::string png_bytes(const Image& image) {
  if (image.channels != 1 && image.channels != 3)
    throw InvalidInput("png: an image has 1 (gray) or 3 (RGB) channels, not " + std::to_string(image.channels));
  if (image.width < 1 || image.height < 1 || image.width > kMaxSide || image.height > kMaxSide ||
      image.pixels.size() != static_cast<std::size_t>(image.width * image.height * image.channels))
    throw InvalidInput("png: malformed image (" + std::to_string(image.width) + "x" + std::to_string(image.height) +
                       ", " + std::to_string(image.pixels.size()) + " bytes)");
  const png_int_32 stride = static_cast<png_int_32>(image.width * image.channels);
  png_image png = describe(image);
  png_alloc_size_t size = 0;
  // First call: the size of the file; second: the file.
  if (!png_image_write_to_memory(&png, nullptr, &size, 0, image.pixels.data(), stride, nullptr))
    throw RunError(std::string("png: cannot encode: ") + png.message);
  std::string out(size, '\0');
  if (!png_image_write_to_memory(&png, out.data(), &size, 0, image.pixels.data(), stride, nullptr))
    throw RunError(std::string("png: cannot encode: ") + png.message);
  out.resize(size);
  return out;
}

void write_png(const std::string& path, const Image& image) { write_file_atomic(path, png_bytes(image)); }

Image decode_png(std::string_view bytes, const std::string& what) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()))
    throw InvalidInput(what + ": not a readable PNG: " + png.message);
  const bool color = (png.format & PNG_FORMAT_FLAG_COLOR) != 0;
  png.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  if (png.width > kMaxSide || png.height > kMaxSide) {
    png_image_free(&png);
    throw InvalidInput(what + ": PNG larger than " + std::to_string(kMaxSide) + " pixels a side");
  }
  Image img;
  img.width = png.width;
  img.height = png.height;
  img.channels = color ? 3 : 1;
  img.pixels.resize(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, img.pixels.data(), 0, nullptr))
    throw InvalidInput(what + ": corrupt PNG: " + png.message);
  return img;
}

Image read_png(const std::string& path) { return decode_png(read_file(path), path); }

}  // namespace anneal
