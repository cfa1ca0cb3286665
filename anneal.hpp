// Everything a user of Anneal needs, in one include.
#pragma once
#include "autodiff/grad.hpp"
#include "backend/error.hpp"
#include "backend/gemm.hpp"
#include "backend/tensor.hpp"
#include "backend/threads.hpp"
#include "graph/graph.hpp"
#include "models/nn.hpp"
#include "ops/ops.hpp"
#include "ops/registry.hpp"
#include "runtime/session.hpp"
