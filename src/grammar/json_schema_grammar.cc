#include "grammar/json_schema_grammar.h"

#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "grammar/integer_range.h"

namespace foundry {
namespace {

using Json = nlohmann::ordered_json;

// Primitive rules every generated grammar starts with. `ws` is bounded (at most one newline and
// 20 indent characters) so a model cannot emit whitespace forever; numbers keep to 16 digits.
constexpr std::string_view kPrimitives = R"gbnf(ws ::= | " " | "\n" [ \t]{0,20}
json-value ::= json-object | json-array | json-string | json-number | json-boolean | json-null
json-object ::= "{" ws ( json-string ws ":" ws json-value ( ws "," ws json-string ws ":" ws json-value )* ws )? "}"
json-array ::= "[" ws ( json-value ( ws "," ws json-value )* ws )? "]"
json-string ::= "\"" json-char* "\""
json-char ::= [^"\\\x7F\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F]{4} )
json-number ::= "-"? json-int ( "." [0-9]{1,16} )? ( [eE] [-+]? [0-9]{1,3} )?
json-integer ::= "-"? json-int
json-int ::= "0" | [1-9] [0-9]{0,15}
json-boolean ::= "true" | "false"
json-null ::= "null"
json-date ::= [1-9] [0-9]{3} "-" ( ( "0" [13578] | "1" [02] ) "-" ( "0" [1-9] | [12] [0-9] | "3" [01] ) | ( "0" [469] | "11" ) "-" ( "0" [1-9] | [12] [0-9] | "30" ) | "02-" ( "0" [1-9] | "1" [0-9] | "2" [0-8] ) )
json-time ::= ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] ":" [0-5] [0-9] ( "." [0-9]{1,6} )? ( "Z" | [+-] ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] )
json-date-time ::= json-date "T" json-time
json-uuid ::= [0-9a-f]{8} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{12}
)gbnf";

// Keywords that only annotate: they never change which values are valid.
const std::set<std::string>& Annotations() {
  static const std::set<std::string> k = {"title",    "description", "default",  "examples",
                                          "$schema",  "$id",         "$comment", "deprecated",
                                          "readOnly", "writeOnly"};
  return k;
}

const std::set<std::string>& Supported() {
  static const std::set<std::string> k = {"type",
                                          "properties",
                                          "required",
                                          "additionalProperties",
                                          "enum",
                                          "const",
                                          "items",
                                          "minItems",
                                          "maxItems",
                                          "anyOf",
                                          "oneOf",
                                          "$ref",
                                          "$defs",
                                          "definitions",
                                          "minLength",
                                          "maxLength",
                                          "format",
                                          "minimum",
                                          "maximum",
                                          "exclusiveMinimum",
                                          "exclusiveMaximum",
                                          "minProperties",
                                          "maxProperties"};
  return k;
}

const std::map<std::string, std::string>& Formats() {
  static const std::map<std::string, std::string> k = {{"date", "json-date"},
                                                       {"time", "json-time"},
                                                       {"date-time", "json-date-time"},
                                                       {"uuid", "json-uuid"}};
  return k;
}

bool TypeMatches(const Json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "integer")
    return v.is_number_integer() ||
           (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  return false;
}

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

class SchemaCompiler {
 public:
  explicit SchemaCompiler(const Json& root) : root_(root) {}

  StatusOr<std::string> Compile(const GrammarWrap& wrap) {
    FOUNDRY_ASSIGN_OR_RETURN(std::string top, Visit(root_, "#", "schema"));
    std::string out(kPrimitives);
    for (const auto& [name, body] : rules_) out += name + " ::= " + body + "\n";
    std::vector<std::string> root;
    if (!wrap.prefix.empty()) root.push_back(GbnfLiteral(wrap.prefix));
    root.push_back(top);
    if (!wrap.suffix.empty()) root.push_back(GbnfLiteral(wrap.suffix));
    out += "root ::= " + Join(root, " ") + "\n";
    return out;
  }

 private:
  static Status Unsupported(const std::string& what, const std::string& path) {
    return InvalidArgument("JSON schema " + what + " (at " + path + ")");
  }

  std::string AddRule(const std::string& hint, const std::string& body) {
    std::string base;
    for (char c : hint) {
      const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      base += word ? c : '-';
    }
    if (base.empty() || base.size() > 40) base = std::string("s").append(base, 0, 40);
    std::string name = "s-" + base;
    for (int i = 2; names_.count(name); ++i) name = "s-" + base + "-" + std::to_string(i);
    names_.insert(name);
    rules_.push_back({name, body});
    return name;
  }

  // Replaces the body of a rule added as a placeholder (for recursive $refs).
  void SetBody(const std::string& name, const std::string& body) {
    for (auto& r : rules_) {
      if (r.first == name) r.second = body;
    }
  }

  StatusOr<std::string> Visit(const Json& s, const std::string& path, const std::string& hint) {
    if (++depth_ > 64) return Unsupported("is nested too deeply", path);
    auto result = VisitBody(s, path, hint);
    --depth_;
    return result;
  }

  StatusOr<std::string> VisitBody(const Json& s, const std::string& path, const std::string& hint) {
    if (s.is_boolean()) {
      if (s.get<bool>()) return std::string("json-value");
      return Unsupported("'false' matches no value", path);
    }
    if (!s.is_object()) return Unsupported("must be an object or a boolean", path);
    std::vector<std::string> constraints;  // keywords other than annotations and $defs
    for (const auto& [key, value] : s.items()) {
      if (Annotations().count(key)) continue;
      if (!Supported().count(key)) {
        return Unsupported("keyword '" + key + "' is not supported", path);
      }
      if (key != "$defs" && key != "definitions") constraints.push_back(key);
    }
    for (const char* combinator : {"$ref", "anyOf", "oneOf"}) {
      if (s.contains(combinator) && constraints.size() > 1) {
        std::string other = constraints[0] == combinator ? constraints[1] : constraints[0];
        return Unsupported(
            std::string("keyword '") + combinator + "' alongside '" + other + "' is not supported",
            path);
      }
    }
    if (s.contains("$ref")) return VisitRef(s["$ref"], path);
    for (const char* combinator : {"anyOf", "oneOf"}) {
      if (!s.contains(combinator)) continue;
      const Json& list = s[combinator];
      if (!list.is_array() || list.empty()) {
        return Unsupported(std::string("'") + combinator + "' must be a non-empty array", path);
      }
      std::vector<std::string> alts;
      for (size_t i = 0; i < list.size(); ++i) {
        FOUNDRY_ASSIGN_OR_RETURN(std::string alt,
                                 Visit(list[i], path + "/" + combinator + "/" + std::to_string(i),
                                       hint + "-" + std::to_string(i)));
        alts.push_back(alt);
      }
      return AddRule(hint, Join(alts, " | "));
    }

    std::vector<std::string> types;
    if (s.contains("type")) {
      const Json& t = s["type"];
      if (t.is_string()) {
        types.push_back(t.get<std::string>());
      } else if (t.is_array() && !t.empty()) {
        for (const Json& x : t) {
          if (!x.is_string()) return Unsupported("'type' must be a string or strings", path);
          types.push_back(x.get<std::string>());
        }
      } else {
        return Unsupported("'type' must be a string or a non-empty array of strings", path);
      }
      for (const std::string& type : types) {
        if (type != "object" && type != "array" && type != "string" && type != "number" &&
            type != "integer" && type != "boolean" && type != "null") {
          return Unsupported("type '" + type + "' is not a JSON Schema type", path);
        }
      }
    }

    if (s.contains("const") || s.contains("enum")) {
      std::vector<Json> values;
      if (s.contains("const")) values.push_back(s["const"]);
      if (s.contains("enum")) {
        if (!s["enum"].is_array() || s["enum"].empty()) {
          return Unsupported("'enum' must be a non-empty array", path);
        }
        if (s.contains("const"))
          return Unsupported("'const' alongside 'enum' is not supported", path);
        for (const Json& v : s["enum"]) values.push_back(v);
      }
      std::vector<std::string> alts;
      for (const Json& v : values) {
        bool ok = types.empty();
        for (const std::string& type : types) ok = ok || TypeMatches(v, type);
        if (ok) alts.push_back(GbnfLiteral(v.dump()));
      }
      if (alts.empty()) return Unsupported("'enum'/'const' has no value of the given 'type'", path);
      return AddRule(hint, Join(alts, " | "));
    }

    if (types.empty()) {
      // No type: what the keywords imply, or any value.
      if (s.contains("properties") || s.contains("required") ||
          s.contains("additionalProperties")) {
        types.push_back("object");
      } else if (s.contains("items") || s.contains("minItems") || s.contains("maxItems")) {
        types.push_back("array");
      } else if (s.contains("minLength") || s.contains("maxLength") || s.contains("format")) {
        types.push_back("string");
      } else if (s.contains("minimum") || s.contains("maximum") || s.contains("exclusiveMinimum") ||
                 s.contains("exclusiveMaximum")) {
        types.push_back("number");
      } else {
        return std::string("json-value");
      }
    }
    std::vector<std::string> alts;
    for (const std::string& type : types) {
      StatusOr<std::string> alt =
          VisitType(s, type, path, types.size() > 1 ? hint + "-" + type : hint);
      if (!alt.ok()) return alt.status();
      alts.push_back(*alt);
    }
    if (alts.size() == 1) return alts[0];
    return AddRule(hint, Join(alts, " | "));
  }

  StatusOr<std::string> VisitType(const Json& s, const std::string& type, const std::string& path,
                                  const std::string& hint) {
    if (type == "object") return VisitObject(s, path, hint);
    if (type == "array") return VisitArray(s, path, hint);
    if (type == "string") return VisitString(s, path, hint);
    if (type == "integer") return VisitInteger(s, path, hint);
    if (type == "number") return VisitNumber(s, path, hint);
    if (type == "boolean") return std::string("json-boolean");
    return std::string("json-null");
  }

  StatusOr<std::string> VisitRef(const Json& ref, const std::string& path) {
    if (!ref.is_string()) return Unsupported("'$ref' must be a string", path);
    const std::string r = ref.get<std::string>();
    const auto found = refs_.find(r);
    if (found != refs_.end()) return found->second;
    std::string section;
    for (const char* prefix : {"#/$defs/", "#/definitions/"}) {
      if (r.rfind(prefix, 0) == 0)
        section = std::string(prefix).substr(2, std::string(prefix).size() - 3);
    }
    if (section.empty()) {
      return Unsupported(
          "'$ref' '" + r + "' is not supported (only #/$defs/NAME and #/definitions/NAME)", path);
    }
    const std::string key = r.substr(section.size() + 3);
    if (!root_.contains(section) || !root_[section].is_object() || !root_[section].contains(key)) {
      return Unsupported("'$ref' '" + r + "' names no definition", path);
    }
    // A placeholder first, so a definition may refer to itself (trees, linked lists).
    const std::string name = AddRule("ref-" + key, "\"\"");
    refs_[r] = name;
    FOUNDRY_ASSIGN_OR_RETURN(std::string body, Visit(root_[section][key], r, "def-" + key));
    SetBody(name, body);
    return name;
  }

  StatusOr<std::string> VisitObject(const Json& s, const std::string& path,
                                    const std::string& hint) {
    const Json empty = Json::object();
    const Json& props = s.contains("properties") ? s["properties"] : empty;
    if (!props.is_object()) return Unsupported("'properties' must be an object", path);
    std::set<std::string> required;
    if (s.contains("required")) {
      if (!s["required"].is_array()) return Unsupported("'required' must be an array", path);
      for (const Json& r : s["required"]) {
        if (!r.is_string()) return Unsupported("'required' must hold strings", path);
        if (!props.contains(r.get<std::string>())) {
          return Unsupported(
              "required property '" + r.get<std::string>() +
                  "' is not in 'properties' (additional properties are not generated)",
              path);
        }
        required.insert(r.get<std::string>());
      }
    }
    const bool has_additional = s.contains("additionalProperties");
    const Json additional = has_additional ? s["additionalProperties"] : Json(true);
    const bool counted = s.contains("minProperties") || s.contains("maxProperties");
    if (props.empty()) {
      if (additional.is_boolean() && !additional.get<bool>()) {
        if (counted)
          return Unsupported("'minProperties'/'maxProperties' with no properties allowed", path);
        return AddRule(hint, "\"{\" ws \"}\"");
      }
      if (additional.is_boolean() && !counted) return std::string("json-object");
      std::string value = "json-value";
      if (!additional.is_boolean()) {
        FOUNDRY_ASSIGN_OR_RETURN(
            value, Visit(additional, path + "/additionalProperties", hint + "-value"));
      }
      // A map: keys are any strings (a model may repeat one, which minProperties would count
      // once after parsing, so keep minProperties at most 1 where that matters).
      return Delimited(s, path, hint, "{", "}", "json-string ws \":\" ws " + value, "minProperties",
                       "maxProperties");
    }
    if (counted) {
      return Unsupported("'minProperties'/'maxProperties' alongside 'properties' is not supported",
                         path);
    }
    if (has_additional && !(additional.is_boolean() && !additional.get<bool>())) {
      return Unsupported(
          "'additionalProperties' other than false alongside 'properties' is not supported", path);
    }
    std::vector<std::string> req, opt;
    for (const auto& [name, sub] : props.items()) {
      FOUNDRY_ASSIGN_OR_RETURN(std::string value,
                               Visit(sub, path + "/properties/" + name, hint + "-" + name));
      const std::string kv = AddRule(hint + "-" + name + "-kv",
                                     GbnfLiteral(Json(name).dump()) + " ws \":\" ws " + value);
      (required.count(name) ? req : opt).push_back(kv);
    }
    std::string body = "\"{\" ws " + Join(req, " ws \",\" ws ");
    if (!opt.empty()) {
      // rest_i: the optional properties after the i-th, each present or not, in order.
      std::vector<std::string> rest(opt.size() + 1);
      for (size_t i = opt.size(); i-- > 1;) {
        const std::string tail = rest[i + 1].empty() ? "" : " " + rest[i + 1];
        rest[i] = AddRule(hint + "-rest", "( ws \",\" ws " + opt[i] + " )?" + tail);
      }
      std::vector<std::string> firsts;
      for (size_t i = 0; i < opt.size(); ++i) {
        firsts.push_back(opt[i] + (rest[i + 1].empty() ? "" : " " + rest[i + 1]));
      }
      const std::string choice = "( " + Join(firsts, " | ") + " )";
      body += req.empty() ? choice + "?" : " ( ws \",\" ws " + choice + " )?";
    }
    body += " ws \"}\"";
    return AddRule(hint, body);
  }

  static StatusOr<int64_t> Count(const Json& s, const char* key, const std::string& path) {
    if (!s.contains(key)) return int64_t{-1};
    const Json& v = s[key];
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
      return Unsupported(std::string("'") + key + "' must be a non-negative integer", path);
    }
    if (v.get<uint64_t>() > 4096) {
      return Unsupported(std::string("'") + key + "' above 4096 is not supported", path);
    }
    return v.get<int64_t>();
  }

  // "{min,max}" for GBNF, max < 0 meaning unbounded.
  static std::string Braces(int64_t min, int64_t max) {
    std::string out = "{";
    out += std::to_string(min);
    out += ',';
    if (max >= 0) out += std::to_string(max);
    out += '}';
    return out;
  }

  StatusOr<std::string> VisitArray(const Json& s, const std::string& path,
                                   const std::string& hint) {
    std::string item = "json-value";
    if (s.contains("items")) {
      if (s["items"].is_array())
        return Unsupported("'items' as an array (tuples) is not supported", path);
      FOUNDRY_ASSIGN_OR_RETURN(item, Visit(s["items"], path + "/items", hint + "-item"));
    }
    return Delimited(s, path, hint, "[", "]", item, "minItems", "maxItems");
  }

  // open, between min_key and max_key items separated by commas, close.
  StatusOr<std::string> Delimited(const Json& s, const std::string& path, const std::string& hint,
                                  const std::string& open, const std::string& close,
                                  const std::string& item, const char* min_key,
                                  const char* max_key) {
    FOUNDRY_ASSIGN_OR_RETURN(int64_t min, Count(s, min_key, path));
    FOUNDRY_ASSIGN_OR_RETURN(int64_t max, Count(s, max_key, path));
    min = std::max<int64_t>(min, 0);
    if (max >= 0 && max < min) {
      return Unsupported(std::string("'") + max_key + "' is below '" + min_key + "'", path);
    }
    const std::string o = GbnfLiteral(open), c = GbnfLiteral(close);
    if (max == 0) return AddRule(hint, o + " ws " + c);
    const std::string more = "( ws \",\" ws " + item + " )" +
                             Braces(std::max<int64_t>(min - 1, 0), max < 0 ? -1 : max - 1);
    const std::string items = item + " " + more + " ws";
    return AddRule(hint, o + " ws " + (min == 0 ? "( " + items + " )?" : items) + " " + c);
  }

  StatusOr<std::string> VisitString(const Json& s, const std::string& path,
                                    const std::string& hint) {
    FOUNDRY_ASSIGN_OR_RETURN(int64_t min, Count(s, "minLength", path));
    FOUNDRY_ASSIGN_OR_RETURN(int64_t max, Count(s, "maxLength", path));
    if (s.contains("format")) {
      const Json& f = s["format"];
      const auto it = f.is_string() ? Formats().find(f.get<std::string>()) : Formats().end();
      if (it == Formats().end()) {
        return Unsupported(
            "'format' " + f.dump() + " is not supported (date, time, date-time, uuid)", path);
      }
      if (min >= 0 || max >= 0) {
        return Unsupported("'format' alongside 'minLength'/'maxLength' is not supported", path);
      }
      return AddRule(hint, "\"\\\"\" " + it->second + " \"\\\"\"");
    }
    if (min < 0 && max < 0) return std::string("json-string");
    min = std::max<int64_t>(min, 0);
    if (max >= 0 && max < min) return Unsupported("'maxLength' is below 'minLength'", path);
    return AddRule(hint, "\"\\\"\" json-char" + Braces(min, max) + " \"\\\"\"");
  }

  struct Bounds {
    double lo = -INFINITY, hi = INFINITY;
    bool lo_exclusive = false, hi_exclusive = false;
    bool any = false;
  };

  static StatusOr<Bounds> ReadBounds(const Json& s, const std::string& path) {
    Bounds b;
    for (const char* key : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}) {
      if (!s.contains(key)) continue;
      if (!s[key].is_number()) {
        return Unsupported(std::string("'") + key + "' must be a number", path);
      }
      const double v = s[key].get<double>();
      const std::string k = key;
      b.any = true;
      if (k == "minimum" && v >= b.lo) b = Bounds{v, b.hi, false, b.hi_exclusive, true};
      if (k == "exclusiveMinimum" && v >= b.lo) b = Bounds{v, b.hi, true, b.hi_exclusive, true};
      if (k == "maximum" && v <= b.hi) b = Bounds{b.lo, v, b.lo_exclusive, false, true};
      if (k == "exclusiveMaximum" && v <= b.hi) b = Bounds{b.lo, v, b.lo_exclusive, true, true};
    }
    return b;
  }

  // The integers satisfying the bounds, clamped to what the grammar generates.
  static void IntegerSpan(const Bounds& b, int64_t* lo, int64_t* hi) {
    const double cap = static_cast<double>(kMaxGrammarInteger);
    const double l = b.lo_exclusive ? std::floor(b.lo) + 1 : std::ceil(b.lo);
    const double h = b.hi_exclusive ? std::ceil(b.hi) - 1 : std::floor(b.hi);
    *lo = static_cast<int64_t>(std::clamp(l, -cap, cap + 1));
    *hi = static_cast<int64_t>(std::clamp(h, -cap - 1, cap));
  }

  StatusOr<std::string> VisitInteger(const Json& s, const std::string& path,
                                     const std::string& hint) {
    FOUNDRY_ASSIGN_OR_RETURN(Bounds b, ReadBounds(s, path));
    if (!b.any) return std::string("json-integer");
    int64_t lo = 0, hi = 0;
    IntegerSpan(b, &lo, &hi);
    if (lo > hi) return Unsupported("integer bounds leave no value", path);
    return AddRule(hint, IntegerRangeGbnf(lo, hi));
  }

  // Bounded numbers are generated without exponents: the integers within the bounds, and
  // k.fraction (non-zero fraction) wherever the whole open interval (k, k+1) lies within them.
  StatusOr<std::string> VisitNumber(const Json& s, const std::string& path,
                                    const std::string& hint) {
    FOUNDRY_ASSIGN_OR_RETURN(Bounds b, ReadBounds(s, path));
    if (!b.any) return std::string("json-number");
    const double cap = static_cast<double>(kMaxGrammarInteger);
    std::vector<std::string> alts;
    int64_t lo = 0, hi = 0;
    IntegerSpan(b, &lo, &hi);
    if (lo <= hi) alts.push_back(IntegerRangeGbnf(lo, hi));
    const std::string fraction = " \".\" [0-9]{0,15} [1-9]";
    // x = k + f, k >= 0: need k >= lo and k + 1 <= hi.
    const double pk_lo = std::max(0.0, std::ceil(b.lo));
    const double pk_hi = std::min(cap, std::floor(b.hi) - 1);
    if (pk_lo <= pk_hi) {
      alts.push_back(IntegerRangeGbnf(static_cast<int64_t>(pk_lo), static_cast<int64_t>(pk_hi)) +
                     fraction);
    }
    // x = -(m + f), m >= 0: need -(m + 1) >= lo and -m <= hi.
    const double nm_lo = std::max(0.0, std::ceil(-b.hi));
    const double nm_hi = std::min(cap, std::floor(-b.lo) - 1);
    if (nm_lo <= nm_hi) {
      alts.push_back("\"-\" " +
                     IntegerRangeGbnf(static_cast<int64_t>(nm_lo), static_cast<int64_t>(nm_hi)) +
                     fraction);
    }
    if (alts.empty())
      return Unsupported("number bounds leave no value the grammar can write", path);
    return AddRule(hint, Join(alts, " | "));
  }

  const Json& root_;
  std::vector<std::pair<std::string, std::string>> rules_;
  std::set<std::string> names_;
  std::map<std::string, std::string> refs_;
  int depth_ = 0;
};

}  // namespace

std::string GbnfLiteral(std::string_view bytes) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (char ch : bytes) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;  // UTF-8 text passes through; the GBNF parser reads it as such
    }
  }
  return out + "\"";
}

StatusOr<std::string> JsonSchemaToGbnf(const nlohmann::ordered_json& schema,
                                       const GrammarWrap& wrap) {
  return SchemaCompiler(schema).Compile(wrap);
}

StatusOr<std::string> JsonSchemaTextToGbnf(std::string_view schema_json, const GrammarWrap& wrap) {
  Json schema = Json::parse(schema_json, nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded()) return InvalidArgument("JSON schema is not valid JSON");
  return JsonSchemaToGbnf(schema, wrap);
}

std::string JsonObjectGbnf() { return std::string(kPrimitives) + "root ::= json-object\n"; }

}  // namespace foundry
