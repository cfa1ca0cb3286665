// The first example: a 784-500-500-10 ReLU classifier on Fashion-MNIST,
// built with the builder API (models/mlp_classifier.cpp) and trained with
// Adam by the engine.
//
//   mlp_fashion_mnist [--epochs 10] [--batch 100] [--lr 1e-3] [--threads T]
//                     [--limit N] [--seed 0] [--data DIR]
#include <cstdio>
#include <string>

#include "anneal.hpp"
#include "models/mlp_classifier.hpp"

using namespace anneal;

int main(int argc, char** argv) {
  anneal::bounded_omp_spinning(argv);  // backend/threads.hpp: fast parallel regions, robust when cores are shared
  MlpTrainOptions o;
  std::int64_t limit = 0;
  std::string dir = kFashionMnistDir;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw InvalidInput("missing value after " + a);
        return argv[++i];
      };
      if (a == "--epochs") o.epochs = std::stoi(next());
      else if (a == "--batch") o.batch = std::stoll(next());
      else if (a == "--lr") o.lr = std::stod(next());
      else if (a == "--threads") set_num_threads(std::stoi(next()));
      else if (a == "--limit") limit = std::stoll(next());
      else if (a == "--seed") o.seed = std::stoull(next());
      else if (a == "--data") dir = next();
      else throw InvalidInput("unknown option " + a);
    }
    Dataset train = scale(fashion_mnist("train", dir), 1.0f / 255);
    Dataset test = scale(fashion_mnist("test", dir), 1.0f / 255);
    if (limit > 0) train = take(train, limit);

    MlpClassifier m = build_mlp_classifier({});
    std::printf("MLP 784-500-500-10 (ReLU), Adam lr %g (cosine decay), batch %lld, %lld training examples, "
                "%d threads\n",
                o.lr, static_cast<long long>(o.batch), static_cast<long long>(train.size()), num_threads());
    double accuracy = 0;
    train_mlp_classifier(m, train, test, o, [&](const EpochReport& r) {
      std::printf("epoch %2d  loss %.4f  test accuracy %.4f  %.2f s\n", r.epoch, r.loss, r.accuracy, r.seconds);
      std::fflush(stdout);
      accuracy = r.accuracy;
    });
    std::printf("final test accuracy %.4f\n", accuracy);
    return 0;
  } catch (const InvalidInput& e) {
    std::fprintf(stderr, "mlp_fashion_mnist: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mlp_fashion_mnist: %s\n", e.what());
    return 1;
  }
}
