// PNG pictures (io/png.hpp): grids of tiles, encoding by libpng, decoding
// back, determinism and clean errors.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "backend/error.hpp"
#include "io/png.hpp"

using namespace anneal;

TEST_CASE("png: a grid of tiles round-trips through libpng byte-identically") {
  // 5 tiles of 2x3 in 3 columns: 2 rows; 1-pixel padding.
  std::vector<float> tiles(5 * 6);
  for (std::size_t i = 0; i < tiles.size(); ++i) tiles[i] = static_cast<float>(i % 6) / 5.0f;
  Image img = image_grid(tiles.data(), 5, 2, 3, {.columns = 3, .padding = 1, .background = 7});
  CHECK(img.width == 3 * 4 + 1);
  CHECK(img.height == 2 * 3 + 1);
  CHECK(img.at(0, 0) == 7);                 // padding
  CHECK(img.at(1, 1) == 0);                 // tile 0, pixel (0, 0): 0.0
  CHECK(img.at(2, 3) == 255);               // tile 0, pixel (1, 2): 1.0
  CHECK(img.at(5, 10) == 7);                // the empty sixth cell
  CHECK(img.at(5, 5) == 153);               // tile 4, pixel (1, 0): 0.6
  const std::string bytes = png_bytes(img);
  CHECK(bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  CHECK(png_bytes(img) == bytes);  // deterministic
  Image back = decode_png(bytes, "grid.png");
  CHECK(back.width == img.width);
  CHECK(back.height == img.height);
  CHECK(back.channels == 1);
  CHECK(back.pixels == img.pixels);
}

TEST_CASE("png: scaling modes and RGB and errors") {
  std::vector<float> t = {-2.f, 2.f, 0.f, 0.f, 10.f, 20.f, 10.f, NAN};
  Image per = image_grid(t.data(), 2, 2, 2, {.columns = 2, .padding = 0, .scale = GridScale::per_tile});
  CHECK(per.at(0, 0) == 0);
  CHECK(per.at(0, 1) == 255);
  CHECK(per.at(0, 2) == 0);  // tile 1: 10 -> 0, 20 -> 255
  CHECK(per.at(0, 3) == 255);
  CHECK(per.at(1, 3) == 0);  // NaN maps to 0, not to garbage
  Image global = image_grid(t.data(), 2, 2, 2, {.columns = 2, .padding = 0, .scale = GridScale::global});
  CHECK(global.at(0, 0) == 0);
  CHECK(global.at(0, 3) == 255);

  Image rgb{2, 1, 3, {255, 0, 0, 0, 0, 255}};
  Image back = decode_png(png_bytes(rgb), "rgb.png");
  CHECK(back.channels == 3);
  CHECK(back.pixels == rgb.pixels);

  CHECK_THROWS_AS(image_grid(t.data(), 0, 2, 2), InvalidInput);
  CHECK_THROWS_AS(image_grid(t.data(), 1, 100000, 1), InvalidInput);
  CHECK_THROWS_AS(png_bytes(Image{2, 2, 1, {1, 2, 3}}), InvalidInput);
  CHECK_THROWS_AS(png_bytes(Image{1, 1, 2, {1, 2}}), InvalidInput);
  CHECK_THROWS_AS(decode_png("not a png", "x.png"), InvalidInput);
  std::string truncated = png_bytes(rgb);
  truncated.resize(truncated.size() / 2);
  CHECK_THROWS_AS(decode_png(truncated, "half.png"), InvalidInput);
}
