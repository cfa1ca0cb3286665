// Example-level checks on real data: slow compared with the unit tests,
// still well inside the CI budget.
#include <doctest/doctest.h>

#include "anneal.hpp"
#include "models/mlp_classifier.hpp"

using namespace anneal;

TEST_CASE("example: the MLP classifier reaches at least 87% test accuracy on Fashion-MNIST") {
  Dataset train = scale(fashion_mnist("train"), 1.0f / 255);
  Dataset test = scale(fashion_mnist("test"), 1.0f / 255);
  MlpClassifier m = build_mlp_classifier({});
  double first = 0, last = 0;
  train_mlp_classifier(m, train, test, {.epochs = 4}, [&](const EpochReport& r) {
    MESSAGE("epoch ", r.epoch, ": loss ", r.loss, ", test accuracy ", r.accuracy, ", ", r.seconds, " s");
    if (r.epoch == 1) first = r.accuracy;
    last = r.accuracy;
  });
  CHECK(last >= 0.87);
  CHECK(last > first);
}
