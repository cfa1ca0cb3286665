// The first example: a 784-500-500-10 ReLU classifier on Fashion-MNIST,
// built with the builder API and trained with Adam by the engine.
//
//   mlp_fashion_mnist [--epochs 10] [--batch 100] [--lr 1e-3] [--threads T]
//                     [--limit N] [--seed 0] [--data DIR]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "anneal.hpp"
#include "data/batches.hpp"
#include "models/mlp_classifier.hpp"

using namespace anneal;

int main(int argc, char** argv) {
  int epochs = 10;
  std::int64_t batch = 100, limit = 0;
  double lr = 1e-3;
  std::uint64_t seed = 0;
  std::string dir = kFashionMnistDir;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw InvalidInput("missing value after " + a);
        return argv[++i];
      };
      if (a == "--epochs") epochs = std::stoi(next());
      else if (a == "--batch") batch = std::stoll(next());
      else if (a == "--lr") lr = std::stod(next());
      else if (a == "--threads") set_num_threads(std::stoi(next()));
      else if (a == "--limit") limit = std::stoll(next());
      else if (a == "--seed") seed = std::stoull(next());
      else if (a == "--data") dir = next();
      else throw InvalidInput("unknown option " + a);
    }

    Dataset train = scale(fashion_mnist("train", dir), 1.0f / 255);
    Dataset test = scale(fashion_mnist("test", dir), 1.0f / 255);
    if (limit > 0) train = take(train, limit);

    MlpClassifier m = build_mlp_classifier({});
    Graph& g = *m.graph;
    auto params = g.params();
    Optimizer opt = adam(g, "adam", params, grad(m.loss, params), {.lr = lr});
    // Decay the step size over the run: a cosine to a tenth of the start.
    opt.schedule("lr", Schedule::cosine(lr, lr / 10, 0, epochs));
    Session session(g, {.seed = seed});
    Trainer trainer(session, m.loss, {opt});

    std::printf("MLP 784-500-500-10 (ReLU), Adam lr %g, batch %lld, %lld training examples, %d threads\n", lr,
                static_cast<long long>(batch), static_cast<long long>(train.size()), num_threads());
    Batches batches(train, batch, seed);
    double accuracy = 0;
    for (int epoch = 0; epoch < epochs; ++epoch) {
      auto t0 = std::chrono::steady_clock::now();
      batches.set_epoch(static_cast<std::uint32_t>(epoch));
      double loss_sum = 0;
      std::int64_t i = 0;
      for (const Batch& b : batches) {
        double progress = epoch + static_cast<double>(i++) / static_cast<double>(batches.size());
        loss_sum += trainer.step({{"x", b.x}, {"labels", b.y}}, progress)[0];
      }
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      accuracy = classification_accuracy(session, m.x, m.logits, test);
      std::printf("epoch %2d  loss %.4f  test accuracy %.4f  %.1f s\n", epoch + 1,
                  loss_sum / static_cast<double>(batches.size()), accuracy, seconds);
      std::fflush(stdout);
    }
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
