// The optimizers of a run: built into a fresh graph from train.optimizers,
// or matched against those a model.graph records; recovered from a run's
// graph.json with their schedules from its config.json.
#pragma once
#include <string>
#include <vector>

#include "cli/config.hpp"
#include "models/optim.hpp"

namespace anneal::cli {

// Adds the optimizers of `c` to `g` (gradients of output "loss" included),
// or, when `g` already records optimizers, checks the config's entries
// against them. Fills in every default and resolves every schedule in
// c.train.optimizers. Returns the names of parameters no optimizer trains.
// Errors name the config file and the optimizer's JSON path.
std::vector<std::string> add_optimizers(Config& c, Graph& g);

// The optimizers recorded in `g` (a run's graph.json), each with the
// schedules of its config entry.
std::vector<Optimizer> recover_optimizers(const Config& c, const Graph& g);

// Sets the hyper-parameter values a config gives for optimizers recorded in
// a model.graph (new optimizers start at their values already).
void apply_recorded_hyper(const Config& c, const std::vector<Optimizer>& opts, Session& s);

}  // namespace anneal::cli
