// Generated datasets for models whose natural data Anneal does not ship:
// a bag-of-words corpus from a small topic model (replicated softmax) and
// ratings from a latent-factor model (softmax RBMs). Every draw comes from a
// Philox stream keyed by the seed, so a dataset is the same on every
// platform.
#pragma once
#include <cstdint>

#include "data/dataset.hpp"

namespace anneal {

constexpr std::uint32_t kTopicCorpusStreamNode = 0xDA7A0010u;
constexpr std::uint32_t kRatingsStreamNode = 0xDA7A0011u;

struct TopicCorpusOptions {
  std::int64_t documents = 2000;
  std::int64_t vocabulary = 100;
  std::int64_t topics = 10;             // each owns a block of vocabulary / topics words
  std::int64_t topics_per_document = 2;
  double topic_purity = 0.9;            // a topic's mass on its own block (the rest: uniform over all words)
  std::int64_t min_length = 20, max_length = 80;  // words per document, uniform
  std::uint64_t seed = 0;
};

// Word counts x f32 [documents, vocabulary] (item_shape {vocabulary}) and,
// as y, each document's first topic. Throws InvalidInput for inconsistent
// options.
Dataset topic_corpus(const TopicCorpusOptions& options = {});

struct RatingsOptions {
  std::int64_t users = 2000;
  std::int64_t items = 32;
  std::int64_t levels = 5;    // the rating scale: 1..levels
  std::int64_t factors = 8;   // binary tastes per user
  double strength = 1.5;      // how sharply tastes decide ratings
  std::uint64_t seed = 0;
};

// Every user rates every item: tastes h ~ Bernoulli(0.5)^factors per user,
// item i's rating drawn from softmax(strength · U_i h) over the levels, with
// U_i [levels, factors] ~ N(0, 1) fixed by the seed. x: one one-hot group per
// item, f32 [users, items * levels] (item_shape {items, levels}); no labels.
// Throws InvalidInput for inconsistent options.
Dataset synthetic_ratings(const RatingsOptions& options = {});

}  // namespace anneal
