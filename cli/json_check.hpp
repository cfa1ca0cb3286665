// Reading JSON documents that people write (configs): strict parsing
// (duplicate keys are errors, not "last one wins") and typed access that
// names the JSON path of every problem, e.g.
//   "train.optimizers[0].lr: expected a number, got a string".
#pragma once
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace anneal::cli {

// Insertion-ordered, so a resolved config reads in the order it is written.
using Json = nlohmann::ordered_json;

// Throws InvalidInput("PATH: message").
[[noreturn]] void fail_at(const std::string& path, const std::string& message);

// "$" is the whole document; child("$", "train") is "train".
std::string child_path(const std::string& path, const std::string& key);
std::string index_path(const std::string& path, std::size_t i);
// "a number", "a string", "an object", ...
std::string json_type_name(const Json& j);

// Parses a whole document. Errors: "byte N: ..." for malformed text,
// "PATH: duplicate key" for a key given twice in one object.
Json parse_json(std::string_view text);

// Indented JSON for people: objects one key per line, arrays of scalars on
// one line ("hidden": [500, 500]). Ends with a newline.
std::string pretty_json(const Json& j);

// The first path at which two documents differ ("" when equal), with both
// values shown: "train.batch_size (100 vs 200)".
std::string first_difference(const Json& a, const Json& b, const std::string& path = "$");

// A JSON object being validated. Every accessor marks its key as known;
// done() rejects any key no accessor asked for, naming its path and the keys
// that are allowed there. Absent keys (and JSON null) take the default.
class Section {
 public:
  Section(const Json& j, std::string path);

  const std::string& path() const { return path_; }
  std::string path(const std::string& key) const { return child_path(path_, key); }
  const Json& json() const { return j_; }

  // The value under `key` (nullptr when absent or null), marking it known.
  const Json* find(const std::string& key);
  bool has(const std::string& key) { return find(key) != nullptr; }
  const Json& require(const std::string& key);

  double number(const std::string& key, double def);
  std::optional<double> optional_number(const std::string& key);
  double required_number(const std::string& key);
  std::int64_t integer(const std::string& key, std::int64_t def, std::int64_t lo, std::int64_t hi);
  std::optional<std::int64_t> optional_integer(const std::string& key, std::int64_t lo, std::int64_t hi);
  std::uint64_t seed(const std::string& key, std::uint64_t def);
  bool boolean(const std::string& key, bool def);
  std::string string(const std::string& key, const std::string& def);
  std::optional<std::string> optional_string(const std::string& key);
  std::string choice(const std::string& key, const std::string& def, const std::vector<std::string>& allowed);

  // Checks a number against a range (inclusive unless open), naming the key.
  double in_range(const std::string& key, double v, double lo, double hi, bool lo_open = false,
                  bool hi_open = false) const;

  void done() const;

 private:
  const Json& j_;
  std::string path_;
  std::set<std::string> known_;
};

// Element checks for values outside a Section (array items).
double as_number(const Json& j, const std::string& path);
std::int64_t as_integer(const Json& j, const std::string& path, std::int64_t lo, std::int64_t hi);
std::string as_string(const Json& j, const std::string& path);

}  // namespace anneal::cli
