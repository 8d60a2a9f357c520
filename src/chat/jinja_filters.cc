// Filters of strings, numbers and any value, and the lookup over every filter table.
#include "chat/jinja_filters.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/html_escape.h"
#include "chat/jinja_access.h"
#include "chat/jinja_errors.h"
#include "chat/jinja_methods.h"
#include "chat/jinja_name_table.h"
#include "chat/jinja_native_function.h"
#include "chat/jinja_operations.h"
#include "chat/jinja_text.h"

namespace foundry::jinja {

namespace {

// ---- strings ----

StatusOr<Value> Trim(RenderContext& ctx, Value in, CallArgs& args) {
  FOUNDRY_ASSIGN_OR_RETURN(std::string s, ctx.Str(in));
  const Value* chars = Arg(args, 0, "chars");
  if (chars != nullptr && chars->IsString()) {
    return Value::String(Strip(s, &chars->AsString(), true, true));
  }
  return Value::String(Strip(s, nullptr, true, true));
}

StatusOr<Value> ToString(RenderContext& ctx, Value in, CallArgs&) {
  FOUNDRY_ASSIGN_OR_RETURN(std::string s, ctx.Str(in));
  return Value::String(std::move(s));
}

// Without autoescape, safe only converts to a string.
StatusOr<Value> Safe(RenderContext& ctx, Value in, CallArgs& args) {
  if (in.IsString()) return in;
  return ToString(ctx, std::move(in), args);
}

StatusOr<Value> Escape(RenderContext& ctx, Value in, CallArgs&) {
  FOUNDRY_ASSIGN_OR_RETURN(std::string s, ctx.Str(in));
  std::string out = HtmlEscape(s);
  FOUNDRY_RETURN_IF_ERROR(ctx.Charge(out.size()));
  return Value::String(std::move(out));
}

template <std::string (*F)(const std::string&)>
StatusOr<Value> MapString(RenderContext& ctx, Value in, CallArgs&) {
  FOUNDRY_ASSIGN_OR_RETURN(std::string s, ctx.Str(in));
  return Value::String(F(s));
}

StatusOr<Value> ReplaceFilter(RenderContext& ctx, Value in, CallArgs& args) {
  FOUNDRY_ASSIGN_OR_RETURN(std::string s, ctx.Str(in));
  const Value* from = Arg(args, 0, "old");
  const Value* to = Arg(args, 1, "new");
  const Value* count = Arg(args, 2, "count");
  if (from == nullptr || to == nullptr) return InvalidArgument("replace needs two arguments");
  FOUNDRY_ASSIGN_OR_RETURN(std::string f, ctx.Str(*from));
  FOUNDRY_ASSIGN_OR_RETURN(std::string t, ctx.Str(*to));
  int64_t c = -1;
  if (count != nullptr && !count->IsNone()) {
    if (!count->IsInt()) return InvalidArgument("replace count must be an integer");
    c = count->AsInt();
  }
  std::string r = Replace(s, f, t, c);
  FOUNDRY_RETURN_IF_ERROR(ctx.Charge(r.size()));
  return Value::String(std::move(r));
}

StatusOr<Value> Indent(RenderContext& ctx, Value in, CallArgs& args) {
  FOUNDRY_ASSIGN_OR_RETURN(std::string s, ctx.Str(in));
  const Value* width = Arg(args, 0, "width");
  const Value* first = Arg(args, 1, "first");
  const Value* blank = Arg(args, 2, "blank");
  std::string pad = "    ";
  if (width != nullptr) {
    if (width->IsString()) {
      pad = width->AsString();
    } else if (width->IsInt()) {
      pad = std::string(static_cast<size_t>(std::clamp<int64_t>(width->AsInt(), 0, 256)), ' ');
    }
  }
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '\n') {
      lines.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  const bool trailing = !s.empty() && s.back() == '\n';
  if (trailing) lines.pop_back();
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += '\n';
    const bool is_blank = Strip(lines[i], nullptr, true, true).empty();
    if ((i > 0 || (first != nullptr && first->Truthy())) &&
        (!is_blank || (blank != nullptr && blank->Truthy()))) {
      out += pad;
    }
    out += lines[i];
  }
  if (trailing) out += '\n';
  FOUNDRY_RETURN_IF_ERROR(ctx.Charge(out.size()));
  return Value::String(std::move(out));
}

StatusOr<Value> WordCount(RenderContext& ctx, Value in, CallArgs&) {
  FOUNDRY_ASSIGN_OR_RETURN(std::string s, ctx.Str(in));
  int64_t n = 0;
  bool in_word = false;
  for (char c : s) {
    const bool w = IsAsciiAlpha(c) || (c >= '0' && c <= '9') || c == '_' ||
                   static_cast<unsigned char>(c) >= 0x80;
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value::Int(n);
}

// ---- JSON ----

// transformers' tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
StatusOr<Value> SortKeys(const Value& x) {
  if (x.IsList()) {
    std::vector<Value> items;
    for (const Value& i : x.Items()) {
      FOUNDRY_ASSIGN_OR_RETURN(Value s, SortKeys(i));
      items.push_back(std::move(s));
    }
    return Value::MakeList(std::move(items), x.IsTuple());
  }
  if (!x.IsDict()) return x;
  std::vector<std::pair<Value, Value>> items = x.AsDict().items;
  Status err;
  std::stable_sort(items.begin(), items.end(), [&](const auto& a, const auto& b) {
    auto o = Order(CompareOp::kLt, a.first, b.first);
    if (!o.ok()) {
      err = o.status();
      return false;
    }
    return *o < 0;
  });
  FOUNDRY_RETURN_IF_ERROR(err);
  Value out = Value::MakeDict();
  for (auto& [k, val] : items) {
    FOUNDRY_ASSIGN_OR_RETURN(Value s, SortKeys(val));
    out.MutableDict().items.emplace_back(k, std::move(s));
  }
  out.SetDepth(x.Depth());
  return out;
}

// json.dumps' ensure_ascii: every non-ASCII code point as \uXXXX (surrogate pairs above BMP).
std::string EscapeNonAscii(const std::string& json) {
  std::string ascii;
  char buf[16];
  for (uint32_t cp : DecodeUtf8(json)) {
    if (cp < 0x80) {
      ascii += static_cast<char>(cp);
    } else if (cp < 0x10000) {
      std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
      ascii += buf;
    } else {
      const uint32_t c = cp - 0x10000;
      std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", 0xD800 + (c >> 10), 0xDC00 + (c & 0x3FF));
      ascii += buf;
    }
  }
  return ascii;
}

StatusOr<Value> ToJson(RenderContext& ctx, Value in, CallArgs& args) {
  int indent = -1;
  const Value* ind = Arg(args, 1, "indent");
  if (ind != nullptr && !ind->IsNone()) {
    if (!ind->IsInt()) return Unimplemented("tojson: only integer indent is supported");
    indent = static_cast<int>(std::clamp<int64_t>(ind->AsInt(), 0, 64));
  }
  const Value* ensure_ascii = Arg(args, 0, "ensure_ascii");
  const Value* sep = Arg(args, 2, "separators");
  if (sep != nullptr && !sep->IsNone()) {
    return Unimplemented("tojson: separators are not supported");
  }
  const Value* sort_keys = Arg(args, 3, "sort_keys");
  Value src = in;
  if (sort_keys != nullptr && sort_keys->Truthy()) {
    FOUNDRY_ASSIGN_OR_RETURN(src, SortKeys(in));
  }
  std::string out;
  FOUNDRY_RETURN_IF_ERROR(AppendJson(src, indent, out, ctx.limits().max_output_bytes));
  if (ensure_ascii != nullptr && ensure_ascii->Truthy()) out = EscapeNonAscii(out);
  FOUNDRY_RETURN_IF_ERROR(ctx.Charge(out.size()));
  return Value::String(std::move(out));
}

// ---- numbers ----

StatusOr<Value> ToInt(RenderContext&, Value in, CallArgs& args) {
  const Value* def = Arg(args, 0, "default");
  const Value fallback = def != nullptr ? *def : Value::Int(0);
  if (in.IsInt() || in.IsBool()) return Value::Int(in.AsInt());
  if (in.IsFloat()) {
    const double d = in.AsDouble();
    if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return fallback;
    return Value::Int(static_cast<int64_t>(d));
  }
  if (in.IsString()) {
    const std::string s = Strip(in.AsString(), nullptr, true, true);
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end == s.c_str() + s.size() && errno == 0) return Value::Int(v);
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(d) && std::fabs(d) < 9.2e18) {
      return Value::Int(static_cast<int64_t>(d));
    }
  }
  return fallback;
}

StatusOr<Value> ToFloat(RenderContext&, Value in, CallArgs& args) {
  const Value* def = Arg(args, 0, "default");
  const Value fallback = def != nullptr ? *def : Value::Float(0.0);
  if (in.IsNumber()) return Value::Float(in.AsDouble());
  if (in.IsString()) {
    const std::string s = Strip(in.AsString(), nullptr, true, true);
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return Value::Float(d);
  }
  return fallback;
}

StatusOr<Value> Abs(RenderContext&, Value in, CallArgs&) {
  if (in.IsFloat()) return Value::Float(std::fabs(in.AsDouble()));
  if (in.IsNumber()) {
    if (in.AsInt() == INT64_MIN) return OutOfRange("integer overflow");
    return Value::Int(std::llabs(in.AsInt()));
  }
  if (in.IsUndefined()) return UndefinedError(in);
  return InvalidArgument("bad operand type for abs(): '" + in.TypeName() + "'");
}

StatusOr<Value> Round(RenderContext&, Value in, CallArgs& args) {
  if (in.IsUndefined()) return UndefinedError(in);
  if (!in.IsNumber()) {
    return InvalidArgument("type " + in.TypeName() + " doesn't define __round__ method");
  }
  const Value* prec = Arg(args, 0, "precision");
  const Value* method = Arg(args, 1, "method");
  const int64_t p =
      prec != nullptr && prec->IsInt() ? std::clamp<int64_t>(prec->AsInt(), -300, 300) : 0;
  const std::string m = method != nullptr && method->IsString() ? method->AsString() : "common";
  const double scale = std::pow(10.0, static_cast<double>(p));
  const double x = in.AsDouble() * scale;
  double r;
  if (m == "ceil") {
    r = std::ceil(x);
  } else if (m == "floor") {
    r = std::floor(x);
  } else if (m == "common") {
    r = std::nearbyint(x);  // Python's round(): half to even
  } else {
    return InvalidArgument("method must be common, ceil or floor");
  }
  return Value::Float(r / scale);
}

// ---- any value ----

StatusOr<Value> Default(RenderContext&, Value in, CallArgs& args) {
  const Value* def = Arg(args, 0, "default_value");
  const Value* boolean = Arg(args, 1, "boolean");
  const bool use_default =
      in.IsUndefined() || (boolean != nullptr && boolean->Truthy() && !in.Truthy());
  if (use_default) return def != nullptr ? *def : Value::String("");
  return in;
}

// attr(name) is getattr only: a dict's item is not an attribute, its methods are.
StatusOr<Value> Attr(RenderContext& ctx, Value in, CallArgs& args) {
  const Value* n = Arg(args, 0, "name");
  if (n == nullptr || !n->IsString()) return InvalidArgument("attr needs a name");
  const std::string& name = n->AsString();
  if (in.IsDict() && in.AsDict().Find(std::string_view(name)) != nullptr &&
      FindMethod(Value::Kind::kDict, name) == nullptr) {
    return NoAttribute(in, name);
  }
  return GetAttr(ctx, in, name);
}

constexpr Filter kValueFilters[] = {
    {"tojson", ToJson},
    {"trim", Trim},
    {"string", ToString},
    {"safe", Safe},
    {"e", Escape},
    {"escape", Escape},
    {"forceescape", Escape},
    {"upper", MapString<ToUpper>},
    {"lower", MapString<ToLower>},
    {"capitalize", MapString<Capitalize>},
    {"title", MapString<JinjaTitle>},
    {"replace", ReplaceFilter},
    {"indent", Indent},
    {"wordcount", WordCount},
    {"int", ToInt},
    {"float", ToFloat},
    {"abs", Abs},
    {"round", Round},
    {"default", Default},
    {"d", Default},
    {"attr", Attr},
};

}  // namespace

std::span<const Filter> ValueFilters() { return kValueFilters; }

StatusOr<Value> ApplyFilter(RenderContext& ctx, std::string_view name, Value in, CallArgs& args) {
  const Filter* filter = FindByName(ValueFilters(), name);
  if (filter == nullptr) filter = FindByName(SequenceFilters(), name);
  if (filter == nullptr) {
    return InvalidArgument("No filter named " + QuoteRepr(std::string(name)) + ".");
  }
  return filter->fn(ctx, std::move(in), args);
}

}  // namespace foundry::jinja
