// Builds a linear regression graph against an installed Anneal, takes one
// gradient step by hand and checks that the loss went down.
#include <anneal.hpp>

#include <cstdio>
#include <vector>

using namespace anneal;

int main() {
  Graph g("consumer");
  Value x = g.input("x", {Dim::batch(), 4});
  Value t = g.input("t", {Dim::batch(), 2});
  Value y = nn::linear(g, "fc", x, 2);
  Value loss = sum_to_like(square(y - t), g.scalar(0));  // sum of every element
  std::vector<Value> params = g.params();
  std::vector<Value> grads = grad(loss, params);

  std::vector<double> xv, tv;
  for (int i = 0; i < 8 * 4; ++i) xv.push_back(((i * 7) % 11) / 11.0 - 0.5);
  for (int i = 0; i < 8 * 2; ++i) tv.push_back(((i * 5) % 7) / 7.0);
  Feeds feeds{{"x", Tensor::from(xv, {8, 4})}, {"t", Tensor::from(tv, {8, 2})}};

  Session session(g, {.seed = 1});
  std::vector<Value> fetches{loss};
  fetches.insert(fetches.end(), grads.begin(), grads.end());
  std::vector<Tensor> out = session.run(feeds, fetches);
  double before = out[0].item();

  const double lr = 0.01;
  for (std::size_t i = 0; i < params.size(); ++i) {
    Tensor p = session.get(params[i].name()).clone();
    float* pd = p.data<float>();
    const float* gd = out[i + 1].data<float>();
    for (std::int64_t j = 0; j < p.numel(); ++j) pd[j] -= static_cast<float>(lr * gd[j]);
    session.set(params[i].name(), p);
  }
  double after = session.run(feeds, loss).item();

  std::printf("anneal consumer (%s): loss %.6f -> %.6f\n", onednn_version().c_str(), before, after);
  if (!(after < before)) {
    std::fprintf(stderr, "consumer: the loss did not decrease\n");
    return 1;
  }
  return 0;
}
