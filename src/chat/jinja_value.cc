#include "chat/jinja_value.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace foundry::jinja {

namespace {

constexpr int kMaxPrintDepth = 600;

Status TooLong() { return OutOfRange("template output exceeds the size limit"); }

bool StrEqual(const Value& k, std::string_view s) { return k.IsString() && k.AsString() == s; }

}  // namespace

const Value* Dict::Find(const Value& key) const {
  for (const auto& [k, v] : items) {
    if (Equal(k, key)) return &v;
  }
  return nullptr;
}

const Value* Dict::Find(std::string_view key) const {
  for (const auto& [k, v] : items) {
    if (StrEqual(k, key)) return &v;
  }
  return nullptr;
}

void Dict::Set(Value key, Value value) {
  for (auto& [k, v] : items) {
    if (Equal(k, key)) {
      v = std::move(value);
      return;
    }
  }
  items.emplace_back(std::move(key), std::move(value));
}

Value Value::Undefined(std::string hint) {
  Value v;
  v.s_ = std::move(hint);
  return v;
}
Value Value::None() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}
Value Value::Bool(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.b_ = b;
  return v;
}
Value Value::Int(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.i_ = i;
  return v;
}
Value Value::Float(double f) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.f_ = f;
  return v;
}
Value Value::String(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.s_ = std::move(s);
  return v;
}
Value Value::MakeList(std::vector<Value> items, bool tuple) {
  Value v;
  v.kind_ = Kind::kList;
  v.tuple_ = tuple;
  v.list_ = std::make_shared<List>();
  int depth = 0;
  for (const Value& x : items) depth = std::max(depth, x.Depth());
  v.list_->depth = depth + 1;
  v.list_->items = std::move(items);
  return v;
}
Value Value::MakeDict() {
  Value v;
  v.kind_ = Kind::kDict;
  v.dict_ = std::make_shared<Dict>();
  return v;
}
Value Value::MakeNamespace() {
  Value v = MakeDict();
  v.kind_ = Kind::kNamespace;
  return v;
}
Value Value::Function(std::shared_ptr<Callable> fn) {
  Value v;
  v.kind_ = Kind::kCallable;
  v.fn_ = std::move(fn);
  return v;
}

double Value::AsDouble() const {
  switch (kind_) {
    case Kind::kFloat:
      return f_;
    case Kind::kInt:
      return static_cast<double>(i_);
    case Kind::kBool:
      return b_ ? 1.0 : 0.0;
    default:
      return 0.0;
  }
}

int Value::Depth() const {
  if (kind_ == Kind::kList) return list_->depth;
  if (kind_ == Kind::kDict || kind_ == Kind::kNamespace) return dict_->depth;
  return 0;
}

void Value::SetDepth(int d) {
  if (kind_ == Kind::kList) list_->depth = d;
  if (kind_ == Kind::kDict || kind_ == Kind::kNamespace) dict_->depth = d;
}

bool Value::Truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return b_;
    case Kind::kInt:
      return i_ != 0;
    case Kind::kFloat:
      return f_ != 0.0;
    case Kind::kString:
      return !s_.empty();
    case Kind::kList:
      return !list_->items.empty();
    case Kind::kDict:
      return !dict_->items.empty();
    case Kind::kNamespace:
    case Kind::kCallable:
      return true;
  }
  return false;
}

std::string Value::TypeName() const {
  switch (kind_) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kList:
      return tuple_ ? "tuple" : "list";
    case Kind::kDict:
      return "dict";
    case Kind::kNamespace:
      return "Namespace";
    case Kind::kCallable:
      return "function";
  }
  return "object";
}

bool Equal(const Value& a, const Value& b) {
  using K = Value::Kind;
  if (a.IsNumber() && b.IsNumber()) {
    if (a.IsFloat() || b.IsFloat()) return a.AsDouble() == b.AsDouble();
    return a.AsInt() == b.AsInt();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case K::kUndefined:
    case K::kNone:
      return true;
    case K::kString:
      return a.AsString() == b.AsString();
    case K::kList: {
      if (a.IsTuple() != b.IsTuple()) return false;
      const auto& x = a.Items();
      const auto& y = b.Items();
      if (&x == &y) return true;
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!Equal(x[i], y[i])) return false;
      }
      return true;
    }
    case K::kDict: {
      const auto& x = a.AsDict();
      const auto& y = b.AsDict();
      if (&x == &y) return true;
      if (x.items.size() != y.items.size()) return false;
      for (const auto& [k, v] : x.items) {
        const Value* w = y.Find(k);
        if (w == nullptr || !Equal(v, *w)) return false;
      }
      return true;
    }
    case K::kNamespace:
      return &a.AsDict() == &b.AsDict();
    case K::kCallable:
      return &a.AsCallable() == &b.AsCallable();
    default:
      return false;
  }
}

std::string FloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  // sci = [-]D[.DDDD]e(+|-)XX
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  const size_t epos = sci.find('e');
  std::string mant = sci.substr(0, epos);
  const int exp = std::atoi(sci.c_str() + epos + 1);
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits += c;
  }
  std::string out;
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    } else {
      const size_t int_len = static_cast<size_t>(exp) + 1;
      if (digits.size() <= int_len) {
        out = digits + std::string(int_len - digits.size(), '0') + ".0";
      } else {
        out = digits.substr(0, int_len) + "." + digits.substr(int_len);
      }
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) {
      out += '.';
      out.append(digits, 1, std::string::npos);
    }
    char e[16];
    std::snprintf(e, sizeof(e), "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += e;
  }
  return neg ? "-" + out : out;
}

std::vector<uint32_t> DecodeUtf8(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      n = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
      n = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
      n = 4;
      cp = c & 0x07;
    }
    bool ok = n > 0 && i + static_cast<size_t>(n) <= s.size();
    for (int k = 1; ok && k < n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((d & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (ok && ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp < 0xE000))) ||
               (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))) {
      ok = false;
    }
    if (!ok) {  // surrogate-escape the byte so that encoding gives it back unchanged
      out.push_back(0xDC00 + c);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += static_cast<size_t>(n);
  }
  return out;
}

std::string EncodeUtf8(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) {
    const uint32_t cp = cps[i];
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp >= 0xDC80 && cp <= 0xDCFF) {
      out += static_cast<char>(cp - 0xDC00);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

namespace {

bool PyPrintable(uint32_t cp) {
  if (cp < 0x20 || cp == 0x7F) return false;
  if (cp >= 0x80 && cp <= 0xA0) return false;
  if (cp == 0xAD || cp == 0x1680 || cp == 0x3000 || cp == 0xFEFF) return false;
  if (cp >= 0x2000 && cp <= 0x200F) return false;
  if (cp >= 0x2028 && cp <= 0x202F) return false;
  if (cp >= 0x205F && cp <= 0x2064) return false;
  if (cp >= 0xD800 && cp <= 0xDFFF) return false;
  if (cp >= 0xE000 && cp <= 0xF8FF) return false;
  return true;
}

void AppendStringRepr(const std::string& s, std::string& out) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char q = (has_single && !has_double) ? '"' : '\'';
  out += q;
  const std::vector<uint32_t> cps = DecodeUtf8(s);
  char buf[16];
  for (size_t i = 0; i < cps.size(); ++i) {
    const uint32_t cp = cps[i];
    if (cp == static_cast<uint32_t>(q) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (PyPrintable(cp)) {
      out += EncodeUtf8(cps, i, i + 1);
    } else {
      if (cp < 0x100) {
        std::snprintf(buf, sizeof(buf), "\\x%02x", cp);
      } else if (cp < 0x10000) {
        std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
      } else {
        std::snprintf(buf, sizeof(buf), "\\U%08x", cp);
      }
      out += buf;
    }
  }
  out += q;
}

void AppendJsonString(const std::string& s, std::string& out) {
  out += '"';
  const std::vector<uint32_t> cps = DecodeUtf8(s);
  char buf[16];
  for (size_t i = 0; i < cps.size(); ++i) {
    const uint32_t cp = cps[i];
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (cp < 0x20) {
          std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
          out += buf;
        } else {
          out += EncodeUtf8(cps, i, i + 1);
        }
    }
  }
  out += '"';
}

Status Repr(const Value& v, std::string& out, size_t limit, int depth, bool top_str);

// `k: v, k: v` of a dict or namespace, without the brackets.
Status ReprItems(const Dict& d, std::string& out, size_t limit, int depth) {
  bool first = true;
  for (const auto& [k, x] : d.items) {
    if (!first) out += ", ";
    first = false;
    FOUNDRY_RETURN_IF_ERROR(Repr(k, out, limit, depth + 1, false));
    out += ": ";
    FOUNDRY_RETURN_IF_ERROR(Repr(x, out, limit, depth + 1, false));
  }
  return OkStatus();
}

Status Repr(const Value& v, std::string& out, size_t limit, int depth, bool top_str) {
  using K = Value::Kind;
  if (depth > kMaxPrintDepth) return OutOfRange("value nested too deeply to print");
  if (out.size() > limit) return TooLong();
  switch (v.kind()) {
    case K::kUndefined:
      if (!top_str) out += "Undefined";
      break;
    case K::kNone:
      out += "None";
      break;
    case K::kBool:
      out += v.AsBool() ? "True" : "False";
      break;
    case K::kInt:
      out += std::to_string(v.AsInt());
      break;
    case K::kFloat:
      out += FloatRepr(v.AsDouble());
      break;
    case K::kString:
      if (top_str) {
        out += v.AsString();
      } else {
        AppendStringRepr(v.AsString(), out);
      }
      break;
    case K::kList: {
      out += v.IsTuple() ? '(' : '[';
      const auto& items = v.Items();
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += ", ";
        FOUNDRY_RETURN_IF_ERROR(Repr(items[i], out, limit, depth + 1, false));
      }
      if (v.IsTuple() && items.size() == 1) out += ',';
      out += v.IsTuple() ? ')' : ']';
      break;
    }
    case K::kDict:
      out += '{';
      FOUNDRY_RETURN_IF_ERROR(ReprItems(v.AsDict(), out, limit, depth));
      out += '}';
      break;
    case K::kNamespace:
      out += "<Namespace {";
      FOUNDRY_RETURN_IF_ERROR(ReprItems(v.AsDict(), out, limit, depth));
      out += "}>";
      break;
    case K::kCallable:
      out += "<function ";
      out += v.AsCallable().Name();
      out += '>';
      break;
  }
  if (out.size() > limit) return TooLong();
  return OkStatus();
}

void Newline(std::string& out, int indent, int level) {
  out += '\n';
  out.append(static_cast<size_t>(indent) * static_cast<size_t>(level), ' ');
}

Status Json(const Value& v, int indent, std::string& out, size_t limit, int depth) {
  using K = Value::Kind;
  if (depth > kMaxPrintDepth) return OutOfRange("value nested too deeply to print");
  if (out.size() > limit) return TooLong();
  switch (v.kind()) {
    case K::kNone:
      out += "null";
      break;
    case K::kBool:
      out += v.AsBool() ? "true" : "false";
      break;
    case K::kInt:
      out += std::to_string(v.AsInt());
      break;
    case K::kFloat: {
      const double d = v.AsDouble();
      if (std::isnan(d)) {
        out += "NaN";
      } else if (std::isinf(d)) {
        out += d < 0 ? "-Infinity" : "Infinity";
      } else {
        out += FloatRepr(d);
      }
      break;
    }
    case K::kString:
      AppendJsonString(v.AsString(), out);
      break;
    case K::kList: {
      const auto& items = v.Items();
      if (items.empty()) {
        out += "[]";
        break;
      }
      out += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += indent >= 0 ? "," : ", ";
        if (indent >= 0) Newline(out, indent, depth + 1);
        FOUNDRY_RETURN_IF_ERROR(Json(items[i], indent, out, limit, depth + 1));
      }
      if (indent >= 0) Newline(out, indent, depth);
      out += ']';
      break;
    }
    case K::kDict: {
      const auto& items = v.AsDict().items;
      if (items.empty()) {
        out += "{}";
        break;
      }
      out += '{';
      bool first = true;
      for (const auto& [k, x] : items) {
        if (!first) out += indent >= 0 ? "," : ", ";
        first = false;
        if (indent >= 0) Newline(out, indent, depth + 1);
        if (k.IsString()) {
          AppendJsonString(k.AsString(), out);
        } else if (k.IsNone()) {
          out += "\"null\"";
        } else if (k.IsBool()) {
          out += k.AsBool() ? "\"true\"" : "\"false\"";
        } else if (k.IsInt() || k.IsFloat()) {
          std::string s;
          FOUNDRY_RETURN_IF_ERROR(Json(k, -1, s, limit, depth + 1));
          AppendJsonString(s, out);
        } else {
          return InvalidArgument("keys must be str, int, float, bool or None, not " + k.TypeName());
        }
        out += ": ";
        FOUNDRY_RETURN_IF_ERROR(Json(x, indent, out, limit, depth + 1));
      }
      if (indent >= 0) Newline(out, indent, depth);
      out += '}';
      break;
    }
    default:
      return InvalidArgument("Object of type " + v.TypeName() + " is not JSON serializable");
  }
  if (out.size() > limit) return TooLong();
  return OkStatus();
}

}  // namespace

Status AppendStr(const Value& v, std::string& out, size_t limit) {
  return Repr(v, out, limit, 0, true);
}

Status AppendRepr(const Value& v, std::string& out, size_t limit) {
  return Repr(v, out, limit, 0, false);
}

Status AppendJson(const Value& v, int indent, std::string& out, size_t limit) {
  return Json(v, indent, out, limit, 0);
}

}  // namespace foundry::jinja
