#include "cli/generated_data.hpp"

#include <numeric>

#include "backend/error.hpp"
#include "data/synthetic.hpp"

namespace anneal::cli {

namespace {

constexpr std::int64_t kMaxExamples = std::int64_t{1} << 24;
constexpr std::int64_t kMaxUnits = std::int64_t{1} << 16;

// The options of one generator with its test-set size: parsed from a config
// section (defaults from the library's option structs) and written back.
struct Corpus {
  TopicCorpusOptions o;
  std::int64_t test = 500;

  explicit Corpus(Section& d) {
    o.documents = d.integer("documents", o.documents, 1, kMaxExamples);
    test = d.integer("test_documents", test, 0, kMaxExamples);
    o.vocabulary = d.integer("vocabulary", o.vocabulary, 1, kMaxUnits);
    o.topics = d.integer("topics", o.topics, 1, o.vocabulary);
    o.topics_per_document = d.integer("topics_per_document", o.topics_per_document, 1, o.topics);
    o.topic_purity = d.in_range("topic_purity", d.number("topic_purity", o.topic_purity), 0, 1);
    o.min_length = d.integer("min_length", o.min_length, 0, kMaxUnits);
    o.max_length = d.integer("max_length", o.max_length, o.min_length, kMaxUnits);
    o.seed = d.seed("seed", o.seed);
  }
  Json json() const {
    return {{"documents", o.documents}, {"test_documents", test},           {"vocabulary", o.vocabulary},
            {"topics", o.topics},       {"topics_per_document", o.topics_per_document},
            {"topic_purity", o.topic_purity},   {"min_length", o.min_length}, {"max_length", o.max_length},
            {"seed", o.seed}};
  }
  Dataset generate() const {
    TopicCorpusOptions all = o;
    all.documents += test;
    return topic_corpus(all);
  }
  std::int64_t train_size() const { return o.documents; }
};

struct Ratings {
  RatingsOptions o;
  std::int64_t test = 500;

  explicit Ratings(Section& d) {
    o.users = d.integer("users", o.users, 1, kMaxExamples);
    test = d.integer("test_users", test, 0, kMaxExamples);
    o.items = d.integer("items", o.items, 1, kMaxUnits);
    o.levels = d.integer("levels", o.levels, 2, 1024);
    o.factors = d.integer("factors", o.factors, 1, kMaxUnits);
    o.strength = d.in_range("strength", d.number("strength", o.strength), 0, 1e6);
    o.seed = d.seed("seed", o.seed);
  }
  Json json() const {
    return {{"users", o.users},     {"test_users", test},     {"items", o.items},
            {"levels", o.levels},   {"factors", o.factors},   {"strength", o.strength},
            {"seed", o.seed}};
  }
  Dataset generate() const {
    RatingsOptions all = o;
    all.users += test;
    return synthetic_ratings(all);
  }
  std::int64_t train_size() const { return o.users; }
};

// Examples [begin, end) of d.
Dataset rows(const Dataset& d, std::int64_t begin, std::int64_t end) {
  std::vector<std::int64_t> idx(static_cast<std::size_t>(end - begin));
  std::iota(idx.begin(), idx.end(), begin);
  return subset(d, idx);
}

template <class Generator>
Dataset split_of(const Generator& g, const std::string& split) {
  Dataset all = g.generate();
  return split == "train" ? rows(all, 0, g.train_size()) : rows(all, g.train_size(), all.size());
}

}  // namespace

bool is_generated_dataset(const std::string& name) {
  for (const auto& n : kGeneratedDatasets)
    if (n == name) return true;
  return false;
}

Json resolve_generated(const std::string& name, Section& d) {
  if (name == "topic-corpus") return Corpus(d).json();
  if (name == "synthetic-ratings") return Ratings(d).json();
  throw InvalidInput("data.name: \"" + name + "\" is not a generated dataset");
}

Dataset generate_dataset(const std::string& name, const Json& options, const std::string& split) {
  Section d(options, "data");
  if (name == "topic-corpus") return split_of(Corpus(d), split);
  if (name == "synthetic-ratings") return split_of(Ratings(d), split);
  throw InvalidInput("data.name: \"" + name + "\" is not a generated dataset");
}

}  // namespace anneal::cli
