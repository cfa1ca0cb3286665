#include "cli/json_check.hpp"

#include <cctype>
#include <cmath>
#include <limits>

#include "backend/error.hpp"

namespace anneal::cli {

void fail_at(const std::string& path, const std::string& message) { throw InvalidInput(path + ": " + message); }

namespace {

// Keys that are plain identifiers print as .key, others as ["key"].
bool plain_key(const std::string& key) {
  if (key.empty()) return false;
  for (char c : key)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

std::string shown(const Json& j) {
  std::string s = j.dump();
  return s.size() > 40 ? s.substr(0, 37) + "..." : s;
}

}  // namespace

std::string child_path(const std::string& path, const std::string& key) {
  std::string k = plain_key(key) ? key : "[" + Json(key).dump() + "]";
  if (path == "$") return plain_key(key) ? k : "$" + k;
  return plain_key(key) ? path + "." + k : path + k;
}

std::string index_path(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

std::string json_type_name(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return "a number";
    default: return "an unsupported value";
  }
}

Json parse_json(std::string_view text) {
  // The parser callback sees keys as they come; a stack of frames (one per
  // open object/array) gives the path of a duplicate.
  struct Frame {
    bool array;
    std::size_t index = 0;  // next element (arrays)
    std::string key;        // current key (objects)
    std::set<std::string> keys;
  };
  std::vector<Frame> stack;
  auto path = [&]() {
    std::string p = "$";
    for (const Frame& f : stack) {
      if (f.array) p = index_path(p, f.index == 0 ? 0 : f.index - 1);
      else if (!f.key.empty() || !f.keys.empty()) p = child_path(p, f.key);
    }
    return p;
  };
  // Marks that an element starts in the enclosing array.
  auto element = [&]() {
    if (!stack.empty() && stack.back().array) ++stack.back().index;
  };
  auto cb = [&](int /*depth*/, nlohmann::json::parse_event_t e, Json& parsed) -> bool {
    using E = nlohmann::json::parse_event_t;
    switch (e) {
      case E::object_start:
        element();
        stack.push_back({false});
        break;
      case E::array_start:
        element();
        stack.push_back({true});
        break;
      case E::object_end:
      case E::array_end:
        stack.pop_back();
        break;
      case E::key: {
        Frame& f = stack.back();
        std::string k = parsed.get<std::string>();
        if (!f.keys.insert(k).second) {
          stack.back().key = k;
          fail_at(path(), "duplicate key (each key may appear once in an object)");
        }
        f.key = k;
        break;
      }
      case E::value:
        element();
        break;
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), cb);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann's message: "[json.exception.parse_error.101] parse error at
    // line 3, column 5: syntax error ..."; keep what follows the tag.
    std::string m = e.what();
    auto p = m.find("] ");
    if (p != std::string::npos) m = m.substr(p + 2);
    throw InvalidInput("byte " + std::to_string(e.byte) + ": not valid JSON: " + m);
  }
}

namespace {
void pretty(const Json& j, int indent, std::string& out) {
  const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  if (j.is_object() && !j.empty()) {
    out += "{\n";
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      out += (first ? "" : ",\n") + pad + Json(it.key()).dump() + ": ";
      pretty(it.value(), indent + 2, out);
      first = false;
    }
    out += "\n" + std::string(static_cast<std::size_t>(indent), ' ') + "}";
    return;
  }
  bool nested = false;
  if (j.is_array())
    for (const Json& e : j) nested |= e.is_structured() && !e.empty();
  if (!nested) {
    out += j.dump(-1, ' ', false, Json::error_handler_t::replace);
    return;
  }
  out += "[\n";
  for (std::size_t i = 0; i < j.size(); ++i) {
    out += (i ? ",\n" : "") + pad;
    pretty(j[i], indent + 2, out);
  }
  out += "\n" + std::string(static_cast<std::size_t>(indent), ' ') + "]";
}
}  // namespace

std::string pretty_json(const Json& j) {
  std::string out;
  pretty(j, 0, out);
  return out + "\n";
}

std::string first_difference(const Json& a, const Json& b, const std::string& path) {
  if (a.is_object() && b.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      std::string p = child_path(path, it.key());
      if (!b.contains(it.key())) return p + " (" + shown(it.value()) + " vs absent)";
      std::string d = first_difference(it.value(), b.at(it.key()), p);
      if (!d.empty()) return d;
    }
    for (auto it = b.begin(); it != b.end(); ++it)
      if (!a.contains(it.key())) return child_path(path, it.key()) + " (absent vs " + shown(it.value()) + ")";
    return "";
  }
  if (a.is_array() && b.is_array() && a.size() == b.size()) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      std::string d = first_difference(a[i], b[i], index_path(path, i));
      if (!d.empty()) return d;
    }
    return "";
  }
  if (a.is_number() && b.is_number() && a.get<double>() == b.get<double>()) return "";
  if (a == b) return "";
  return path + " (" + shown(a) + " vs " + shown(b) + ")";
}

Section::Section(const Json& j, std::string path) : j_(j), path_(std::move(path)) {
  if (!j_.is_object()) fail_at(path_, "expected an object, got " + json_type_name(j_));
}

const Json* Section::find(const std::string& key) {
  known_.insert(key);
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return nullptr;
  return &*it;
}

const Json& Section::require(const std::string& key) {
  const Json* v = find(key);
  if (!v) fail_at(path(key), "required key is missing");
  return *v;
}

double as_number(const Json& j, const std::string& path) {
  if (!j.is_number()) fail_at(path, "expected a number, got " + json_type_name(j));
  double v = j.get<double>();
  if (!std::isfinite(v)) fail_at(path, "expected a finite number");
  return v;
}

std::int64_t as_integer(const Json& j, const std::string& path, std::int64_t lo, std::int64_t hi) {
  if (!j.is_number()) fail_at(path, "expected an integer, got " + json_type_name(j));
  std::int64_t v;
  if (j.is_number_unsigned()) {
    auto u = j.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      fail_at(path, "integer " + j.dump() + " out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    v = static_cast<std::int64_t>(u);
  } else if (j.is_number_integer()) {
    v = j.get<std::int64_t>();
  } else {
    double d = j.get<double>();
    if (!(std::abs(d) < 9.007199254740992e15) || d != std::floor(d))
      fail_at(path, "expected an integer, got " + j.dump());
    v = static_cast<std::int64_t>(d);
  }
  if (v < lo || v > hi)
    fail_at(path, "integer " + std::to_string(v) + " out of range [" + std::to_string(lo) + ", " + std::to_string(hi) +
                      "]");
  return v;
}

std::string as_string(const Json& j, const std::string& path) {
  if (!j.is_string()) fail_at(path, "expected a string, got " + json_type_name(j));
  return j.get<std::string>();
}

double Section::number(const std::string& key, double def) {
  const Json* v = find(key);
  return v ? as_number(*v, path(key)) : def;
}

std::optional<double> Section::optional_number(const std::string& key) {
  const Json* v = find(key);
  if (!v) return std::nullopt;
  return as_number(*v, path(key));
}

double Section::required_number(const std::string& key) { return as_number(require(key), path(key)); }

std::int64_t Section::integer(const std::string& key, std::int64_t def, std::int64_t lo, std::int64_t hi) {
  const Json* v = find(key);
  return v ? as_integer(*v, path(key), lo, hi) : def;
}

std::optional<std::int64_t> Section::optional_integer(const std::string& key, std::int64_t lo, std::int64_t hi) {
  const Json* v = find(key);
  if (!v) return std::nullopt;
  return as_integer(*v, path(key), lo, hi);
}

std::uint64_t Section::seed(const std::string& key, std::uint64_t def) {
  const Json* v = find(key);
  if (!v) return def;
  if (v->is_number_unsigned()) return v->get<std::uint64_t>();
  return static_cast<std::uint64_t>(as_integer(*v, path(key), 0, std::numeric_limits<std::int64_t>::max()));
}

bool Section::boolean(const std::string& key, bool def) {
  const Json* v = find(key);
  if (!v) return def;
  if (!v->is_boolean()) fail_at(path(key), "expected true or false, got " + json_type_name(*v));
  return v->get<bool>();
}

std::string Section::string(const std::string& key, const std::string& def) {
  const Json* v = find(key);
  return v ? as_string(*v, path(key)) : def;
}

std::optional<std::string> Section::optional_string(const std::string& key) {
  const Json* v = find(key);
  if (!v) return std::nullopt;
  return as_string(*v, path(key));
}

std::string Section::choice(const std::string& key, const std::string& def, const std::vector<std::string>& allowed) {
  std::string s = string(key, def);
  for (const auto& a : allowed)
    if (s == a) return s;
  std::string list;
  for (std::size_t i = 0; i < allowed.size(); ++i)
    list += (i == 0 ? "" : i + 1 == allowed.size() ? " or " : ", ") + ("\"" + allowed[i] + "\"");
  fail_at(path(key), "unknown value \"" + s + "\" (expected " + list + ")");
}

double Section::in_range(const std::string& key, double v, double lo, double hi, bool lo_open, bool hi_open) const {
  bool ok = (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  if (!ok) {
    auto num = [](double x) { return Json(x).dump(); };
    std::string range = std::string(lo_open ? "(" : "[") + (std::isinf(lo) ? "-inf" : num(lo)) + ", " +
                        (std::isinf(hi) ? "inf" : num(hi)) + (hi_open ? ")" : "]");
    fail_at(path(key), Json(v).dump() + " is out of range " + range);
  }
  return v;
}

void Section::done() const {
  for (auto it = j_.begin(); it != j_.end(); ++it) {
    if (known_.count(it.key())) continue;
    std::string list;
    for (const auto& k : known_) list += (list.empty() ? "" : ", ") + k;
    fail_at(path(it.key()), "unknown key (allowed here: " + list + ")");
  }
}

}  // namespace anneal::cli
