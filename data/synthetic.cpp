#include "data/synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/error.hpp"
#include "backend/philox.hpp"

namespace anneal {

Dataset topic_corpus(const TopicCorpusOptions& o) {
  auto fail = [](const std::string& what) { throw InvalidInput("topic_corpus: " + what); };
  if (o.documents < 1 || o.vocabulary < 1) fail("needs at least one document and one word");
  if (o.topics < 1 || o.topics > o.vocabulary) fail("topics must be in [1, vocabulary]");
  if (o.topics_per_document < 1 || o.topics_per_document > o.topics)
    fail("topics_per_document must be in [1, topics]");
  if (o.min_length < 0 || o.max_length < o.min_length) fail("needs 0 <= min_length <= max_length");
  if (!(o.topic_purity >= 0 && o.topic_purity <= 1)) fail("topic_purity must be in [0, 1]");

  RandomStream rng{o.seed, kTopicCorpusStreamNode, 0};
  std::uint64_t next = 0;
  auto uniform = [&] { return rng.uniform_at(next++); };
  auto pick = [&](std::int64_t n) {  // uniform in [0, n)
    return std::min<std::int64_t>(n - 1, static_cast<std::int64_t>(uniform() * static_cast<double>(n)));
  };
  const std::int64_t block = o.vocabulary / o.topics;

  Dataset d;
  d.x = Tensor::zeros(DType::f32, {o.documents, o.vocabulary});
  d.y = Tensor::zeros(DType::i32, {o.documents});
  d.item_shape = {o.vocabulary};
  float* x = d.x.data<float>();
  std::int32_t* y = d.y.data<std::int32_t>();
  std::vector<std::int64_t> mine;
  for (std::int64_t doc = 0; doc < o.documents; ++doc) {
    mine.clear();
    while (static_cast<std::int64_t>(mine.size()) < o.topics_per_document) {
      std::int64_t t = pick(o.topics);
      if (std::find(mine.begin(), mine.end(), t) == mine.end()) mine.push_back(t);
    }
    y[doc] = static_cast<std::int32_t>(mine[0]);
    const std::int64_t length = o.min_length + pick(o.max_length - o.min_length + 1);
    for (std::int64_t w = 0; w < length; ++w) {
      std::int64_t t = mine[static_cast<std::size_t>(pick(o.topics_per_document))];
      std::int64_t word = uniform() < o.topic_purity ? t * block + pick(block) : pick(o.vocabulary);
      x[doc * o.vocabulary + word] += 1.f;
    }
  }
  return d;
}

Dataset synthetic_ratings(const RatingsOptions& o) {
  auto fail = [](const std::string& what) { throw InvalidInput("synthetic_ratings: " + what); };
  if (o.users < 1 || o.items < 1 || o.factors < 1) fail("needs at least one user, item and factor");
  if (o.levels < 2) fail("needs at least 2 rating levels");
  if (!(o.strength >= 0 && std::isfinite(o.strength))) fail("strength must be finite and >= 0");

  RandomStream rng{o.seed, kRatingsStreamNode, 0};
  std::uint64_t next = 0;
  const std::int64_t v = o.items * o.levels;
  std::vector<double> u(static_cast<std::size_t>(v * o.factors));
  for (double& w : u) w = o.strength * rng.normal_at(next++);

  Dataset d;
  d.x = Tensor::zeros(DType::f32, {o.users, v});
  d.item_shape = {o.items, o.levels};
  float* x = d.x.data<float>();
  std::vector<double> h(static_cast<std::size_t>(o.factors)), p(static_cast<std::size_t>(o.levels));
  for (std::int64_t r = 0; r < o.users; ++r) {
    for (double& hj : h) hj = rng.uniform_at(next++) < 0.5 ? 1 : 0;
    for (std::int64_t i = 0; i < o.items; ++i) {
      double z = 0;
      for (std::int64_t c = 0; c < o.levels; ++c) {
        double a = 0;
        for (std::int64_t j = 0; j < o.factors; ++j)
          a += u[static_cast<std::size_t>((i * o.levels + c) * o.factors + j)] * h[static_cast<std::size_t>(j)];
        z += p[static_cast<std::size_t>(c)] = std::exp(a);
      }
      double t = rng.uniform_at(next++) * z;  // inverse CDF of the level
      std::int64_t c = 0;
      while (c < o.levels - 1 && t > p[static_cast<std::size_t>(c)]) t -= p[static_cast<std::size_t>(c++)];
      x[r * v + i * o.levels + c] = 1.f;
    }
  }
  return d;
}

}  // namespace anneal
