// Generated datasets for models whose natural data Anneal does not ship:
// a bag-of-words corpus from a small topic model (replicated softmax).
// Every draw comes from a Philox stream keyed by the seed, so a corpus is
// the same on every platform.
#pragma once
#include <cstdint>

#include "data/dataset.hpp"

namespace anneal {

constexpr std::uint32_t kTopicCorpusStreamNode = 0xDA7A0010u;

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

}  // namespace anneal
