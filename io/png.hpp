// PNG pictures: image grids of samples, reconstructions and filters, encoded
// by libpng (its simplified API, which reports errors by return value, so no
// longjmp crosses C++ frames). Encoding is deterministic: no timestamps or
// other varying chunks, so identical images give identical files.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "backend/tensor.hpp"

namespace anneal {

// An 8-bit image, row-major, channels interleaved (1: gray, 3: RGB).
struct Image {
  std::int64_t width = 0, height = 0;
  int channels = 1;
  std::vector<std::uint8_t> pixels;  // height * width * channels

  std::uint8_t& at(std::int64_t y, std::int64_t x, int c = 0) {
    return pixels[static_cast<std::size_t>((y * width + x) * channels + c)];
  }
  std::uint8_t at(std::int64_t y, std::int64_t x, int c = 0) const {
    return pixels[static_cast<std::size_t>((y * width + x) * channels + c)];
  }
};

// How tiles map to gray levels.
enum class GridScale {
  fixed,     // [lo, hi] -> [0, 255], clamped (samples, reconstructions in [0, 1])
  per_tile,  // each tile's own min..max -> 0..255 (filters: the pattern, not the size)
  global,    // the min..max of all tiles -> 0..255
};

struct GridOptions {
  std::int64_t columns = 0;  // 0: ceil(sqrt(n)), a square-ish grid
  std::int64_t padding = 1;  // pixels between tiles and around the border
  GridScale scale = GridScale::fixed;
  float lo = 0.f, hi = 1.f;  // GridScale::fixed
  std::uint8_t background = 128;
};

// `n` gray tiles of tile_h x tile_w floats each, row-major and back to back
// (tiles[k * tile_h * tile_w + y * tile_w + x]), laid out in a grid. Throws
// InvalidInput for an empty or oversized grid (over 2^14 pixels a side).
Image image_grid(const float* tiles, std::int64_t n, std::int64_t tile_h, std::int64_t tile_w,
                 const GridOptions& options = {});
// The rows of an f32 [n, h*w] tensor as tiles of `tile_shape` {h, w}.
Image image_grid(const Tensor& rows, const Dims& tile_shape, const GridOptions& options = {});

// The PNG file image of `image`. Throws InvalidInput for a malformed image
// and RunError if libpng fails.
std::string png_bytes(const Image& image);
// png_bytes written atomically (io/atomic_file.hpp).
void write_png(const std::string& path, const Image& image);

// Decodes an 8-bit gray or RGB PNG (any PNG libpng reads is converted to
// gray when it has no color, else to RGB). Throws InvalidInput naming `what`.
Image decode_png(std::string_view bytes, const std::string& what);
Image read_png(const std::string& path);

}  // namespace anneal
