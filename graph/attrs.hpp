// Typed node attributes. Each op declares a schema (name, kind, default); the
// graph validates a node's attributes against it when the node is built, and
// the JSON loader validates against the same schema.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace anneal {

enum class AttrKind { i64, f64, str, i64s, f64s };
const char* attr_kind_name(AttrKind k);

using AttrValue = std::variant<std::int64_t, double, std::string, std::vector<std::int64_t>, std::vector<double>>;
AttrKind attr_kind_of(const AttrValue& v);

struct AttrSpec {
  std::string name;
  AttrKind kind;
  std::optional<AttrValue> default_value;  // none: required
};

class Attrs {
 public:
  Attrs() = default;
  Attrs(std::initializer_list<std::pair<const std::string, AttrValue>> init) : values_(init) {}

  Attrs& set(const std::string& name, AttrValue v) { values_[name] = std::move(v); return *this; }
  bool has(const std::string& name) const { return values_.count(name) != 0; }

  std::int64_t i(const std::string& name) const { return get<std::int64_t>(name); }
  double f(const std::string& name) const { return get<double>(name); }
  const std::string& s(const std::string& name) const { return get<std::string>(name); }
  const std::vector<std::int64_t>& ints(const std::string& name) const { return get<std::vector<std::int64_t>>(name); }
  const std::vector<double>& floats(const std::string& name) const { return get<std::vector<double>>(name); }

  const std::map<std::string, AttrValue>& values() const { return values_; }
  bool operator==(const Attrs& o) const { return values_ == o.values_; }

 private:
  template <class T> const T& get(const std::string& name) const;
  std::map<std::string, AttrValue> values_;
};

// "axis=1, shape=[B, 784]"
std::string attrs_str(const Attrs& a);

}  // namespace anneal
