#include "cli/rbm_pictures.hpp"

#include <algorithm>
#include <cmath>

#include "cli/config.hpp"
#include "cli/data.hpp"
#include "runtime/session.hpp"

namespace anneal::cli {

namespace {

// Columns for a roughly square grid of n tiles (`pairs`: each row of tiles
// followed by a row of their reconstructions).
std::int64_t grid_columns(std::int64_t n, const Dims& tile, bool pairs) {
  const double tiles_high = static_cast<double>(tile[0] + 1) * (pairs ? 2 : 1);
  const auto c = std::llround(std::sqrt(static_cast<double>(n) * tiles_high / static_cast<double>(tile[1] + 1)));
  return std::clamp<std::int64_t>(c, 1, n);
}

// Examples and their reconstructions in alternating rows of `columns`
// tiles (whole rows only).
Tensor examples_and_reconstructions(ModelRun& run, const Dataset& data, std::int64_t count, std::int64_t columns) {
  Dataset examples = take(data, count - count % columns);
  std::map<std::string, Tensor> feeds;
  batch_feeds(run.graph, examples.x, examples.y, feeds);
  Tensor recon = run.session.run(feeds, run.graph.output("reconstruction"));
  const std::int64_t n = examples.size(), d = examples.features(), v = recon.dim(1);
  Tensor out = Tensor::zeros(DType::f32, {2 * n, v});
  const float* x = examples.x.data<float>();
  const float* r = recon.data<float>();
  float* o = out.data<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t row = (i / columns) * 2 * columns + i % columns;  // in its pair's upper row
    std::copy(x + i * d, x + (i + 1) * d, o + row * v);
    std::copy(r + i * v, r + (i + 1) * v, o + (row + columns) * v);
  }
  return out;
}

}  // namespace

RbmPictureLayout picture_layout(const Json& model, rbm::UnitType visible_type) {
  RbmPictureLayout l;
  DataInfo info;
  info.features = model.at("visible").get<std::int64_t>();
  if (model.contains("item_shape") && model["item_shape"].is_array())
    for (const Json& d : model["item_shape"]) info.item_shape.push_back(d.get<std::int64_t>());
  l.tile = tile_shape(info);
  if (l.tile.empty()) l.tile = {1, info.features};
  l.data_units = info.features;
  const bool probabilities = visible_type == rbm::UnitType::bernoulli || visible_type == rbm::UnitType::softmax;
  l.scale = probabilities ? GridScale::fixed : GridScale::per_tile;
  return l;
}

Image rows_grid(const Tensor& rows, const RbmPictureLayout& l, std::int64_t columns) {
  if (columns == 0) columns = grid_columns(rows.dim(0), l.tile, false);
  const std::int64_t n = rows.dim(0), v = rows.dim(1);
  Tensor data = rows;
  if (v != l.data_units) {
    data = Tensor::empty(DType::f32, {n, l.data_units});
    for (std::int64_t i = 0; i < n; ++i)
      std::copy(rows.data<float>() + i * v, rows.data<float>() + i * v + l.data_units,
                data.data<float>() + i * l.data_units);
  }
  return image_grid(data, l.tile, {.columns = std::min(n, columns), .scale = l.scale});
}

std::vector<std::pair<std::string, Image>> rbm_pictures(ModelRun& run, const Splits& data, const Tensor& W,
                                                        const RbmPictureLayout& layout, const RbmTrainKeys& keys,
                                                        const Sampler& sampler) {
  std::vector<std::pair<std::string, Image>> out;
  out.emplace_back("filters.png", filter_grid(W, layout.data_units, layout.tile));
  const Dataset& examples = data.valid.size() > 0 ? data.valid : data.train;
  const std::int64_t count = std::min(keys.picture_reconstructions, examples.size());
  if (count > 0) {
    const std::int64_t columns = grid_columns(count, layout.tile, true);
    out.emplace_back("reconstructions.png",
                     rows_grid(examples_and_reconstructions(run, examples, count, columns), layout, columns));
  }
  // Samples cost K Gibbs steps, more than an epoch of a small model: only
  // every few epochs, and at the end the config plans.
  const bool samples_now = run.epoch % keys.picture_samples_every == 0 || run.epoch == run.config.train.horizon;
  if (keys.picture_samples > 0 && samples_now)
    out.emplace_back("samples_gibbs" + std::to_string(keys.picture_gibbs_steps) + ".png",
                     rows_grid(sampler(keys.picture_samples, keys.picture_gibbs_steps, run.session.seed()), layout));
  return out;
}

}  // namespace anneal::cli
