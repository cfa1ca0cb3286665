// The pictures of the RBM kinds, as PNG grids: the first layer's filters,
// examples next to their reconstructions, and samples after K steps of
// block Gibbs sampling (K in the file name: samples_gibbs1000.png).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cli/model_kind.hpp"
#include "cli/rbm_config.hpp"

namespace anneal::cli {

// How a visible vector becomes a tile.
struct RbmPictureLayout {
  Dims tile;                      // {h, w}: model.item_shape as a picture, else one row of the units
  std::int64_t data_units = 0;    // the leading units that are data (label units are not drawn)
  GridScale scale = GridScale::fixed;  // [0, 1] for probabilities; each tile's range for reals and counts
};
// From a resolved RBM model section ("visible", "item_shape") and the type
// of the visible units.
RbmPictureLayout picture_layout(const Json& model, rbm::UnitType visible_type);

// The first data_units values of each row of `rows` [n, V], one tile each,
// `columns` tiles a row (0: as many as make the grid roughly square).
Image rows_grid(const Tensor& rows, const RbmPictureLayout& layout, std::int64_t columns = 0);

// Draws `count` samples after `gibbs_steps` Gibbs steps with `seed`: the
// visible means, [count, V].
using Sampler = std::function<Tensor(std::int64_t count, int gibbs_steps, std::uint64_t seed)>;

// The pictures of a run after epoch run.epoch: filters.png (the columns of
// the first layer's W, [V, H]), reconstructions.png (the first examples of
// the validation split, else the training split, each row followed by their
// reconstructions, graph output "reconstruction") and, every
// samples_every epochs and after the config's last one (train.epochs),
// samples_gibbs<K>.png; `keys` sets the counts.
std::vector<std::pair<std::string, Image>> rbm_pictures(ModelRun& run, const Splits& data, const Tensor& W,
                                                        const RbmPictureLayout& layout, const RbmTrainKeys& keys,
                                                        const Sampler& sampler);

}  // namespace anneal::cli
