#include "io/graph_json.hpp"

#include <cctype>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "backend/error.hpp"
#include "io/atomic_file.hpp"
#include "ops/registry.hpp"

namespace anneal {
namespace {

// Ordered objects: the loader must see `outputs` in file order (it is the
// graph's output order), and the writer emits keys in a fixed order.
using Json = nlohmann::ordered_json;

// ---------------------------------------------------------------------------
// JSON paths: `nodes[12].attrs.axis`; keys that are not identifiers are
// quoted, `collections["optimizer.adam.params"][0]`; `$` is the document.

bool is_identifier(const std::string& k) {
  if (k.empty() || !(std::isalpha(static_cast<unsigned char>(k[0])) || k[0] == '_')) return false;
  for (char c : k)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

// A string as a JSON literal: escaped, one line, invalid UTF-8 replaced.
std::string quote(const std::string& s) {
  return Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string key_path(const std::string& base, const std::string& key) {
  if (is_identifier(key)) return base.empty() ? key : base + "." + key;
  return base + "[" + quote(key) + "]";
}
std::string index_path(const std::string& base, std::size_t i) { return base + "[" + std::to_string(i) + "]"; }

[[noreturn]] void fail(const std::string& path, const std::string& message) {
  throw InvalidInput((path.empty() ? std::string("$") : path) + ": " + message);
}

// "got string \"abc\"", "got an array", ... for "expected X, got Y" messages.
std::string got(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "got null";
    case Json::value_t::boolean: return j.get<bool>() ? "got true" : "got false";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return "got " + j.dump();
    case Json::value_t::string: {
      // Long strings are cut on a UTF-8 character boundary, then quoted.
      std::string s = j.get_ref<const std::string&>();
      if (s.size() > 40) {
        std::size_t cut = 40;
        while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
        return "got string " + quote(s.substr(0, cut)) + "...";
      }
      return "got string " + quote(s);
    }
    case Json::value_t::array: return "got an array";
    case Json::value_t::object: return "got an object";
    default: return "got an unexpected value";
  }
}

// ---------------------------------------------------------------------------
// Parsing: nlohmann's parser is iterative, but a DOM deeper than the format
// can use is refused while it is built (kMaxGraphJsonDepth), duplicate keys
// are errors (nlohmann would keep the last silently), and object members go
// straight to the back of the ordered map (its own insert is a linear search
// per key, quadratic for a hostile object with many keys).

class DomBuilder {
 public:
  explicit DomBuilder(std::string_view text) : text_(text) {}
  Json root;
  std::string error;  // set when parsing stopped

  bool null() { return place(Json(nullptr)); }
  bool boolean(bool v) { return place(Json(v)); }
  bool number_integer(Json::number_integer_t v) { return place(Json(v)); }
  bool number_unsigned(Json::number_unsigned_t v) { return place(Json(v)); }
  bool number_float(Json::number_float_t v, const std::string&) { return place(Json(v)); }
  bool string(Json::string_t& v) { return place(Json(std::move(v))); }
  bool binary(Json::binary_t&) { return fail_here("binary values are not JSON"); }
  bool start_object(std::size_t) { return open(Json::object()); }
  bool start_array(std::size_t) { return open(Json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(Json::string_t& k) {
    Frame& f = stack_.back();
    if (!f.keys.insert(k).second) {
      error = key_path(f.path, k) + ": duplicate key (each key may appear once per object)";
      return false;
    }
    f.key = std::move(k);
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    // nlohmann counts the end of input as one more character read; report
    // the 0-based offset of the offending byte (the length at end of input).
    std::string what = e.what();
    if (auto p = what.find("] "); what.rfind("[json.exception.", 0) == 0 && p != std::string::npos)
      what = what.substr(p + 2);
    error = "byte " + std::to_string(position > 0 ? position - 1 : 0) + ": " + what;
    return false;
  }

 private:
  struct Frame {
    Json* value;
    std::string path;
    std::unordered_set<std::string> keys;  // objects: the keys seen so far
    std::string key;                       // objects: the key of the next value
  };
  std::vector<Frame> stack_;
  std::string_view text_;

  // Offset of the bracket that opens the first too-deep array or object.
  std::size_t too_deep_offset() const {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text_.size(); ++i) {
      char c = text_[i];
      if (in_string) {
        if (c == '\\') ++i;
        else if (c == '"') in_string = false;
      } else if (c == '"') {
        in_string = true;
      } else if (c == '[' || c == '{') {
        if (++depth > kMaxGraphJsonDepth) return i;
      } else if (c == ']' || c == '}') {
        --depth;
      }
    }
    return text_.size();
  }

  bool fail_here(const std::string& message) {
    error = (stack_.empty() ? std::string("$") : child_path()) + ": " + message;
    return false;
  }
  std::string child_path() const {
    const Frame& f = stack_.back();
    if (f.value->is_array()) return index_path(f.path, f.value->size());
    return key_path(f.path, f.key);
  }
  // Adds a value where the parser is; returns it (nullptr: failed).
  Json* add(Json&& v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    Json& top = *stack_.back().value;
    if (top.is_array()) {
      auto& arr = top.get_ref<Json::array_t&>();
      arr.push_back(std::move(v));
      return &arr.back();
    }
    // ordered_map is a std::vector of pairs: append without its linear find.
    auto& obj = top.get_ref<Json::object_t&>();
    auto& vec = static_cast<std::vector<std::pair<const std::string, Json>>&>(obj);
    vec.emplace_back(std::move(stack_.back().key), std::move(v));
    return &vec.back().second;
  }
  bool place(Json&& v) { return add(std::move(v)) != nullptr; }
  bool open(Json&& container) {
    if (static_cast<int>(stack_.size()) >= kMaxGraphJsonDepth) {
      // The text may be broken further on, so this is reported like a parse
      // error, by byte offset; the path (shortened) says where it is.
      std::string path = child_path();
      if (path.size() > 80) path = path.substr(0, 80) + "...";
      error = "byte " + std::to_string(too_deep_offset()) + ": arrays and objects nest deeper than " +
              std::to_string(kMaxGraphJsonDepth) + " levels (at " + path + ")";
      return false;
    }
    std::string path = stack_.empty() ? std::string() : child_path();
    Json* v = add(std::move(container));
    stack_.push_back(Frame{v, std::move(path), {}, {}});
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }
};

Json parse_document(std::string_view text) {
  DomBuilder b(text);
  bool ok = Json::sax_parse(text.begin(), text.end(), &b, nlohmann::detail::input_format_t::json, /*strict=*/true);
  if (!ok) throw InvalidInput(b.error.empty() ? "byte 0: invalid JSON" : b.error);
  return std::move(b.root);
}

// ---------------------------------------------------------------------------
// Typed readers: each names the path and what it expected.

const Json& expect_object(const Json& j, const std::string& path, const char* what) {
  if (!j.is_object()) fail(path, std::string("expected ") + what + " (a JSON object), " + got(j));
  return j;
}
const Json& expect_array(const Json& j, const std::string& path, const char* what) {
  if (!j.is_array()) fail(path, std::string("expected ") + what + " (a JSON array), " + got(j));
  return j;
}

// Rejects any key outside `allowed`.
void check_fields(const Json& obj, const std::string& path, std::initializer_list<const char*> allowed) {
  for (const auto& [k, v] : obj.items()) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || k == a;
    if (ok) continue;
    std::string list;
    for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    fail(key_path(path, k), "unknown field (expected " + list + ")");
  }
}

const Json& field(const Json& obj, const std::string& path, const char* key, const char* what) {
  auto it = obj.find(key);
  if (it == obj.end()) fail(path, std::string("missing field \"") + key + "\" (" + what + ")");
  return *it;
}

const std::string& read_string(const Json& j, const std::string& path, const char* what) {
  if (!j.is_string()) fail(path, std::string("expected ") + what + ", " + got(j));
  return j.get_ref<const std::string&>();
}

// An integer in [lo, hi]. JSON numbers written with a fraction or exponent
// (1.0, 1e3) are not integers here: the writer never produces them.
std::int64_t read_int(const Json& j, const std::string& path, std::int64_t lo, std::int64_t hi, const char* what) {
  if (!j.is_number_integer()) fail(path, std::string("expected ") + what + ", " + got(j));  // (unsigned included)
  bool in_range = false;
  std::int64_t v = 0;
  if (j.is_number_unsigned()) {  // nlohmann stores non-negative integers as unsigned
    auto u = j.get<std::uint64_t>();
    in_range = hi >= 0 && u <= static_cast<std::uint64_t>(hi) && (lo <= 0 || u >= static_cast<std::uint64_t>(lo));
    v = static_cast<std::int64_t>(u);
  } else {
    v = j.get<std::int64_t>();
    in_range = v >= lo && v <= hi;
  }
  if (!in_range)
    fail(path, std::string("expected ") + what + " in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], " + got(j));
  return v;
}

// A number, or "inf", "-inf", "nan" (JSON has no literal for them). Integers
// are accepted where they convert exactly.
double read_double(const Json& j, const std::string& path) {
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (!std::isfinite(d)) fail(path, "expected a finite number, " + got(j));  // the parser already refuses these
    return d;
  }
  if (j.is_number_integer() || j.is_number_unsigned()) {
    return static_cast<double>(
        read_int(j, path, -kMaxGraphJsonInteger, kMaxGraphJsonInteger, "a number (integers within ±2^53)"));
  }
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
  }
  fail(path, "expected a number (or \"inf\", \"-inf\", \"nan\"), " + got(j));
}

// A shape: integers >= 0, or -1 for the batch dimension, with at most
// kMaxGraphTensorElements elements (batch counted as 1). Checked before any
// op sees it, so no shape rule multiplies huge numbers.
Dims read_dims(const Json& j, const std::string& path) {
  expect_array(j, path, "a shape, an array of dimensions with -1 for the batch");
  Dims dims;
  dims.reserve(j.size());
  std::int64_t elements = 1;
  for (std::size_t i = 0; i < j.size(); ++i) {
    std::string p = index_path(path, i);
    std::int64_t d = read_int(j[i], p, -1, kMaxGraphTensorElements, "a dimension (>= 0, or -1 for the batch)");
    dims.push_back(d);
    if (d > 0) {
      if (elements > kMaxGraphTensorElements / d)
        fail(p, "the shape holds more than 2^31 elements (the loader's limit per tensor)");
      elements *= d;
    }
  }
  return dims;
}

// Whether a computed shape is within the element limit, without overflow:
// dims may be large after an op
// (a pad, a one_hot depth) even when every input was within the limit.
bool within_element_limit(const Dims& dims) {
  std::int64_t elements = 1;
  for (auto d : dims) {
    if (d == Dim::batch()) continue;
    if (d < 0 || d > kMaxGraphTensorElements) return false;
    if (d > 0 && elements > kMaxGraphTensorElements / d) return false;
    if (d > 0) elements *= d;
  }
  return true;
}

DType read_dtype(const Json& j, const std::string& path) {
  const std::string& s = read_string(j, path, "a dtype (\"f32\" or \"i32\")");
  if (s == "f32") return DType::f32;
  if (s == "i32") return DType::i32;
  fail(path, "expected a dtype (\"f32\" or \"i32\"), " + got(j));
}

AttrValue read_attr(const Json& j, const std::string& path, const AttrSpec& spec) {
  constexpr std::int64_t lim = kMaxGraphJsonInteger;
  switch (spec.kind) {
    case AttrKind::i64: return read_int(j, path, -lim, lim, "an integer");
    case AttrKind::f64: return read_double(j, path);
    case AttrKind::str: return read_string(j, path, "a string");
    case AttrKind::i64s: {
      // A "shape" attribute gets the shape limits; other integer lists (axes,
      // perm) the plain integer range.
      if (spec.name == "shape") return read_dims(j, path);
      expect_array(j, path, "an array of integers");
      std::vector<std::int64_t> v;
      v.reserve(j.size());
      for (std::size_t i = 0; i < j.size(); ++i) v.push_back(read_int(j[i], index_path(path, i), -lim, lim, "an integer"));
      return v;
    }
    case AttrKind::f64s: {
      expect_array(j, path, "an array of numbers");
      std::vector<double> v;
      v.reserve(j.size());
      for (std::size_t i = 0; i < j.size(); ++i) v.push_back(read_double(j[i], index_path(path, i)));
      return v;
    }
  }
  fail(path, "attribute of an unknown kind");
}

std::string op_names() {
  std::string s;
  for (const OpDef* op : all_ops()) s += (s.empty() ? "" : ", ") + op->name;
  return s;
}

std::string spec_names(const OpDef& op) {
  std::string s;
  for (const AttrSpec& a : op.attrs) s += (s.empty() ? "" : ", ") + a.name;
  return s;
}

// ---------------------------------------------------------------------------
// Loading.

struct Loader {
  Graph& g;
  // Every node name the document declares (first occurrence), to tell a
  // forward reference from a dangling one.
  std::unordered_map<std::string, std::size_t> declared;
  // Nodes built so far: name -> (value, index in "nodes").
  std::unordered_map<std::string, std::pair<Value, std::size_t>> built;

  Value resolve(const Json& j, const std::string& path, const char* what) {
    const std::string& name = read_string(j, path, what);
    auto it = built.find(name);
    if (it != built.end()) return it->second.first;
    auto later = declared.find(name);
    if (later != declared.end())
      fail(path, "node " + quote(name) + " is defined later, at nodes[" + std::to_string(later->second) +
                     "]: a node may use only nodes listed before it (graphs are acyclic and stored in topological "
                     "order)");
    fail(path, "no node is named " + quote(name));
  }

  void node(const Json& j, std::size_t index) {
    const std::string path = index_path("nodes", index);
    expect_object(j, path, "a node");
    check_fields(j, path, {"name", "op", "inputs", "attrs", "shape", "dtype"});

    const std::string& name = read_string(field(j, path, "name", "the node's unique name"), path + ".name",
                                          "a node name (a non-empty string)");
    if (name.empty()) fail(path + ".name", "expected a non-empty node name");
    if (auto dup = built.find(name); dup != built.end())
      fail(path + ".name", "duplicate node name " + quote(name) + " (also nodes[" + std::to_string(dup->second.second) + "])");

    const std::string& op_name = read_string(field(j, path, "op", "the op's name"), path + ".op", "an op name");
    const OpDef* op = find_op(op_name);
    if (!op) fail(path + ".op", "unknown op " + quote(op_name) + " (known ops: " + op_names() + ")");

    const std::string in_path = path + ".inputs";
    const Json& jin = expect_array(field(j, path, "inputs", "the names of the input nodes"), in_path,
                                   "the names of the input nodes");
    auto n_in = static_cast<std::int64_t>(jin.size());
    if (n_in < op->min_inputs || (op->max_inputs >= 0 && n_in > op->max_inputs)) {
      std::string want = std::to_string(op->min_inputs);
      if (op->max_inputs < 0) want = "at least " + want;
      else if (op->max_inputs != op->min_inputs) want += " to " + std::to_string(op->max_inputs);
      fail(in_path, "op " + quote(op->name) + " takes " + want + (want == "1" ? " input" : " inputs") + ", got " +
                        std::to_string(n_in));
    }
    std::vector<Value> inputs;
    inputs.reserve(jin.size());
    for (std::size_t i = 0; i < jin.size(); ++i) {
      std::string p = index_path(in_path, i);
      if (jin[i].is_string() && jin[i].get_ref<const std::string&>() == name)
        fail(p, "node " + quote(name) + " cannot be its own input (graphs are acyclic)");
      inputs.push_back(resolve(jin[i], p, "the name of an earlier node"));
    }

    const std::string attr_path = path + ".attrs";
    const Json& jattrs = expect_object(field(j, path, "attrs", "the op's attributes"), attr_path, "the op's attributes");
    Attrs attrs;
    for (const auto& [k, v] : jattrs.items()) {
      const AttrSpec* spec = nullptr;
      for (const AttrSpec& s : op->attrs)
        if (s.name == k) spec = &s;
      if (!spec)
        fail(key_path(attr_path, k), "unknown attribute of op " + quote(op->name) +
                                         (op->attrs.empty() ? " (it has none)" : " (expected " + spec_names(*op) + ")"));
      attrs.set(k, read_attr(v, key_path(attr_path, k), *spec));
    }
    for (const AttrSpec& s : op->attrs)
      if (!attrs.has(s.name) && !s.default_value)
        fail(attr_path, "missing attribute \"" + s.name + "\" (" + attr_kind_name(s.kind) + ") of op " + quote(op->name));

    Dims shape = read_dims(field(j, path, "shape", "the output's shape"), path + ".shape");
    DType dtype = read_dtype(field(j, path, "dtype", "the output's dtype"), path + ".dtype");

    // Graph::add validates the attributes again and runs the shape rule; its
    // errors name the node, its op and its input shapes.
    Value v;
    try {
      v = g.add(*op, std::move(inputs), std::move(attrs), name);
    } catch (const Error& e) {
      fail(path, e.what());
    }
    const TypeInfo& t = v.node().type;
    if (!within_element_limit(t.shape))
      fail(path, v.node().describe() + ": the output " + dims_str(t.shape) +
                     " holds more than 2^31 elements (the loader's limit per tensor)");
    if (t.shape != shape)
      fail(path + ".shape", "the file says " + dims_str(shape) + " but " + v.node().describe() + " computes " +
                                dims_str(t.shape));
    if (t.dtype != dtype)
      fail(path + ".dtype", std::string("the file says ") + dtype_name(dtype) + " but " + v.node().describe() +
                                " computes " + dtype_name(t.dtype));
    built.emplace(name, std::make_pair(v, index));
  }

  // The document's envelope: what it is, which version, and no unknown
  // top-level fields. Returns the graph's name.
  static std::string header(const Json& doc) {
    expect_object(doc, "", "an Anneal graph document");
    const Json& jformat = field(doc, "", "format", "\"anneal.graph\"");
    if (read_string(jformat, "format", "\"anneal.graph\"") != kGraphFormatName)
      fail("format", std::string("expected \"") + kGraphFormatName + "\", " + got(jformat));
    const Json& jver = field(doc, "", "version", "the format version, 1");
    std::int64_t version = read_int(jver, "version", 1, std::numeric_limits<std::int64_t>::max(), "a format version");
    if (version != kGraphFormatVersion)
      fail("version", "unsupported format version " + std::to_string(version) + " (this build reads version " +
                          std::to_string(kGraphFormatVersion) + ")");
    check_fields(doc, "", {"format", "version", "name", "nodes", "outputs", "collections", "meta"});
    return read_string(field(doc, "", "name", "the graph's name"), "name", "the graph's name (a string)");
  }

  void body(const Json& doc) {
    const Json& nodes = expect_array(field(doc, "", "nodes", "the graph's nodes"), "nodes", "the graph's nodes");
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const Json& n = nodes[i];
      if (!n.is_object()) continue;
      auto it = n.find("name");
      if (it != n.end() && it->is_string()) declared.emplace(it->get_ref<const std::string&>(), i);
    }
    for (std::size_t i = 0; i < nodes.size(); ++i) node(nodes[i], i);

    const Json& outs = expect_object(field(doc, "", "outputs", "the named outputs"), "outputs",
                                     "the named outputs (output name -> node name)");
    for (const auto& [k, v] : outs.items()) g.output(k, resolve(v, key_path("outputs", k), "a node name"));

    const Json& cols = expect_object(field(doc, "", "collections", "the named lists of nodes"), "collections",
                                     "the named lists of nodes (name -> array of node names)");
    for (const auto& [k, v] : cols.items()) {
      std::string p = key_path("collections", k);
      expect_array(v, p, "an array of node names");
      std::vector<Value> values;
      values.reserve(v.size());
      for (std::size_t i = 0; i < v.size(); ++i) values.push_back(resolve(v[i], index_path(p, i), "a node name"));
      g.set_collection(k, std::move(values));
    }

    const Json& meta = expect_object(field(doc, "", "meta", "string metadata"), "meta",
                                     "string metadata (key -> string)");
    for (const auto& [k, v] : meta.items()) g.set_meta(k, read_string(v, key_path("meta", k), "a string"));
  }
};

// ---------------------------------------------------------------------------
// Writing: one node (or output, collection, meta entry) per line, compact
// inside, keys in a fixed order. Numbers use nlohmann's shortest round-trip
// form (0.1, 1e-08, 1.0), so doubles read back to the same bits.

Json number_json(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  return d;
}

Json attr_json(const AttrValue& v) {
  switch (attr_kind_of(v)) {
    case AttrKind::i64: return std::get<std::int64_t>(v);
    case AttrKind::f64: return number_json(std::get<double>(v));
    case AttrKind::str: return std::get<std::string>(v);
    case AttrKind::i64s: return std::get<std::vector<std::int64_t>>(v);
    case AttrKind::f64s: {
      Json a = Json::array();
      for (double d : std::get<std::vector<double>>(v)) a.push_back(number_json(d));
      return a;
    }
  }
  return nullptr;
}

void write_compact(std::string& out, const Json& j) {
  if (j.is_object()) {
    out += '{';
    bool first = true;
    for (const auto& [k, v] : j.items()) {
      if (!first) out += ", ";
      first = false;
      out += Json(k).dump();
      out += ": ";
      write_compact(out, v);
    }
    out += '}';
  } else if (j.is_array()) {
    out += '[';
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (i) out += ", ";
      write_compact(out, j[i]);
    }
    out += ']';
  } else {
    out += j.dump();  // strict UTF-8: throws type_error on invalid bytes
  }
}

// "key": {one entry per line} / [one item per line]
void write_block(std::string& out, const char* key, const Json& j, bool last) {
  bool array = j.is_array();
  out += "  \"";
  out += key;
  out += "\": ";
  out += array ? '[' : '{';
  std::size_t i = 0;
  if (array) {
    for (const Json& item : j) {
      out += i++ ? ",\n    " : "\n    ";
      write_compact(out, item);
    }
  } else {
    for (const auto& [k, v] : j.items()) {
      out += i++ ? ",\n    " : "\n    ";
      out += Json(k).dump();
      out += ": ";
      write_compact(out, v);
    }
  }
  if (i) out += "\n  ";
  out += array ? ']' : '}';
  out += last ? "\n" : ",\n";
}

}  // namespace

std::string graph_to_json(const Graph& g) {
  Json nodes = Json::array();
  for (std::size_t i = 0; i < g.size(); ++i) {
    const Node& n = g.node(static_cast<int>(i));
    Json jn = Json::object();
    jn["name"] = n.name;
    jn["op"] = n.op->name;
    Json in = Json::array();
    for (const Value& v : n.inputs) in.push_back(v.name());
    jn["inputs"] = std::move(in);
    jn["shape"] = n.type.shape;
    jn["dtype"] = dtype_name(n.type.dtype);
    Json attrs = Json::object();
    for (const auto& [k, v] : n.attrs.values()) attrs[k] = attr_json(v);  // std::map: sorted by name
    jn["attrs"] = std::move(attrs);
    nodes.push_back(std::move(jn));
  }
  Json outputs = Json::object();
  for (const auto& [name, v] : g.outputs()) outputs[name] = v.name();
  Json collections = Json::object();
  for (const auto& [name, vs] : g.collections()) {
    Json a = Json::array();
    for (const Value& v : vs) a.push_back(v.name());
    collections[name] = std::move(a);
  }
  Json meta = Json::object();
  for (const auto& [k, v] : g.meta()) meta[k] = v;

  std::string out;
  try {
    out += "{\n  \"format\": ";
    out += Json(kGraphFormatName).dump();
    out += ",\n  \"version\": " + std::to_string(kGraphFormatVersion) + ",\n  \"name\": ";
    out += Json(g.name()).dump();
    out += ",\n";
    write_block(out, "nodes", nodes, false);
    write_block(out, "outputs", outputs, false);
    write_block(out, "collections", collections, false);
    write_block(out, "meta", meta, true);
    out += "}\n";
  } catch (const Json::type_error& e) {
    throw InvalidInput("graph_to_json: graph '" + g.name() + "' holds a name or string that is not valid UTF-8 (" +
                       e.what() + ")");
  }
  return out;
}

std::unique_ptr<Graph> graph_from_json(std::string_view text) {
  Json doc = parse_document(text);
  auto g = std::make_unique<Graph>(Loader::header(doc));
  Loader{*g, {}, {}}.body(doc);
  // Every node went through Graph::add; verify() re-checks the whole graph
  // (names, order, types, assign targets) as a last line of defence.
  try {
    g->verify();
  } catch (const Error& e) {
    fail("nodes", e.what());
  }
  return g;
}

void save_graph(const Graph& graph, const std::string& path) { write_file_atomic(path, graph_to_json(graph)); }

std::unique_ptr<Graph> load_graph(const std::string& path) {
  std::string text = read_file(path);
  try {
    return graph_from_json(text);
  } catch (const InvalidInput& e) {
    throw InvalidInput(path + ": " + e.what());
  }
}

}  // namespace anneal
