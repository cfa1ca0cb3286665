#include "graph/attrs.hpp"

#include <sstream>

#include "backend/error.hpp"

namespace anneal {

const char* attr_kind_name(AttrKind k) {
  switch (k) {
    case AttrKind::i64: return "integer";
    case AttrKind::f64: return "number";
    case AttrKind::str: return "string";
    case AttrKind::i64s: return "array of integers";
    case AttrKind::f64s: return "array of numbers";
  }
  return "?";
}

AttrKind attr_kind_of(const AttrValue& v) { return static_cast<AttrKind>(v.index()); }

template <class T> const T& Attrs::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw Error("attribute '" + name + "' is not set");
  if (const T* p = std::get_if<T>(&it->second)) return *p;
  throw Error("attribute '" + name + "' has kind " + attr_kind_name(attr_kind_of(it->second)));
}
template const std::int64_t& Attrs::get(const std::string&) const;
template const double& Attrs::get(const std::string&) const;
template const std::string& Attrs::get(const std::string&) const;
template const std::vector<std::int64_t>& Attrs::get(const std::string&) const;
template const std::vector<double>& Attrs::get(const std::string&) const;

namespace {
struct Printer {
  std::ostream& os;
  void operator()(std::int64_t v) const { os << v; }
  void operator()(double v) const { os << v; }
  void operator()(const std::string& v) const { os << '"' << v << '"'; }
  template <class T> void operator()(const std::vector<T>& v) const {
    os << '[';
    for (std::size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
    os << ']';
  }
};
}  // namespace

std::string attrs_str(const Attrs& a) {
  std::ostringstream os;
  bool first = true;
  for (const auto& [k, v] : a.values()) {
    if (v.index() == 4 && std::get<4>(v).size() > 8) continue;  // constant payloads: too long to print
    os << (first ? "" : ", ") << k << '=';
    std::visit(Printer{os}, v);
    first = false;
  }
  return os.str();
}

}  // namespace anneal
