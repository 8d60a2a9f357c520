// Python's str methods that chat templates call, with Python's results and messages.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_access.h"
#include "chat/jinja_methods.h"
#include "chat/jinja_native_function.h"
#include "chat/jinja_text.h"

namespace foundry::jinja {

namespace {

// Optional str-or-None argument; `out` stays empty when it is absent or None.
Status OptionalStrArg(std::string_view method, const CallArgs& a, size_t i, std::string_view kw,
                      std::optional<std::string>& out) {
  const Value* v = Arg(a, i, kw);
  if (v == nullptr || v->IsNone()) return OkStatus();
  if (!v->IsString()) return InvalidArgument(std::string(method) + " arg must be None or str");
  out = v->AsString();
  return OkStatus();
}

// ---- strip, case ----

StatusOr<Value> StripMethod(std::string_view name, const Value& self, const CallArgs& a, bool left,
                            bool right) {
  std::optional<std::string> chars;
  FOUNDRY_RETURN_IF_ERROR(OptionalStrArg(name, a, 0, "chars", chars));
  return Value::String(Strip(self.AsString(), chars ? &*chars : nullptr, left, right));
}
StatusOr<Value> StrStrip(RenderContext&, std::string_view name, const Value& self, CallArgs& a) {
  return StripMethod(name, self, a, true, true);
}
StatusOr<Value> StrLstrip(RenderContext&, std::string_view name, const Value& self, CallArgs& a) {
  return StripMethod(name, self, a, true, false);
}
StatusOr<Value> StrRstrip(RenderContext&, std::string_view name, const Value& self, CallArgs& a) {
  return StripMethod(name, self, a, false, true);
}

// A method that maps the whole string, ignoring arguments as the old chain did.
template <std::string (*F)(const std::string&)>
StatusOr<Value> MapString(RenderContext&, std::string_view, const Value& self, CallArgs&) {
  return Value::String(F(self.AsString()));
}

// ---- classification (ASCII, byte by byte) ----

template <bool (*Member)(char)>
StatusOr<Value> AllBytes(RenderContext&, std::string_view, const Value& self, CallArgs&) {
  const std::string& s = self.AsString();
  if (s.empty()) return Value::Bool(false);
  for (char c : s) {
    if (!Member(c)) return Value::Bool(false);
  }
  return Value::Bool(true);
}
bool IsDigitByte(char c) { return c >= '0' && c <= '9'; }
bool IsSpaceByte(char c) { return PySpace(static_cast<unsigned char>(c)); }
bool IsUpperByte(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLowerByte(char c) { return c >= 'a' && c <= 'z'; }

// isupper/islower: no byte of the other case and at least one of this case.
template <bool (*Cased)(char), bool (*Other)(char)>
StatusOr<Value> AllCased(RenderContext&, std::string_view, const Value& self, CallArgs&) {
  bool cased = false;
  for (char c : self.AsString()) {
    if (Other(c)) return Value::Bool(false);
    cased = cased || Cased(c);
  }
  return Value::Bool(cased);
}

// ---- prefixes ----

StatusOr<Value> Affix(std::string_view name, const Value& self, const CallArgs& a, bool prefix) {
  const std::string& s = self.AsString();
  const Value* p = Arg(a, 0, "prefix");
  if (p == nullptr) {
    return InvalidArgument(std::string(name) + "() takes at least 1 argument (0 given)");
  }
  std::vector<std::string> options;
  if (p->IsString()) {
    options.push_back(p->AsString());
  } else if (p->IsTuple()) {
    for (const Value& x : p->Items()) {
      if (!x.IsString()) {
        return InvalidArgument("tuple for " + std::string(name) + " must only contain str, not " +
                               x.TypeName());
      }
      options.push_back(x.AsString());
    }
  } else {
    return InvalidArgument(std::string(name) + " first arg must be str or a tuple of str, not " +
                           p->TypeName());
  }
  for (const std::string& o : options) {
    if (s.size() >= o.size() && s.compare(prefix ? 0 : s.size() - o.size(), o.size(), o) == 0) {
      return Value::Bool(true);
    }
  }
  return Value::Bool(false);
}
StatusOr<Value> StrStartswith(RenderContext&, std::string_view name, const Value& self,
                              CallArgs& a) {
  return Affix(name, self, a, /*prefix=*/true);
}
StatusOr<Value> StrEndswith(RenderContext&, std::string_view name, const Value& self, CallArgs& a) {
  return Affix(name, self, a, /*prefix=*/false);
}

// ---- search and replace ----

StatusOr<Value> StrReplace(RenderContext& ctx, std::string_view, const Value& self, CallArgs& a) {
  const Value* from = Arg(a, 0, "old");
  const Value* to = Arg(a, 1, "new");
  const Value* count = Arg(a, 2, "count");
  if (from == nullptr || to == nullptr || !from->IsString() || !to->IsString()) {
    return InvalidArgument("replace() arguments must be str");
  }
  int64_t c = -1;
  if (count != nullptr) {
    if (!count->IsInt()) return InvalidArgument("replace() count must be an integer");
    c = count->AsInt();
  }
  std::string r = Replace(self.AsString(), from->AsString(), to->AsString(), c);
  FOUNDRY_RETURN_IF_ERROR(ctx.Charge(r.size()));
  return Value::String(std::move(r));
}

StatusOr<std::string> SubArg(const CallArgs& a) {
  const Value* sub = Arg(a, 0, "sub");
  if (sub == nullptr || !sub->IsString()) {
    return InvalidArgument("must be str, not " + (sub ? sub->TypeName() : "nothing"));
  }
  return sub->AsString();
}

StatusOr<Value> StrFind(RenderContext&, std::string_view, const Value& self, CallArgs& a) {
  FOUNDRY_ASSIGN_OR_RETURN(std::string t, SubArg(a));
  const std::string& s = self.AsString();
  const size_t f = s.find(t);
  if (f == std::string::npos) return Value::Int(-1);
  return Value::Int(static_cast<int64_t>(Utf8Length(std::string_view(s).substr(0, f))));
}

StatusOr<Value> StrCount(RenderContext&, std::string_view, const Value& self, CallArgs& a) {
  FOUNDRY_ASSIGN_OR_RETURN(std::string t, SubArg(a));
  const std::string& s = self.AsString();
  if (t.empty()) return Value::Int(static_cast<int64_t>(Utf8Length(s)) + 1);
  int64_t n = 0;
  for (size_t p = s.find(t); p != std::string::npos; p = s.find(t, p + t.size())) ++n;
  return Value::Int(n);
}

// ---- join and split ----

StatusOr<Value> StrJoin(RenderContext& ctx, std::string_view, const Value& self, CallArgs& a) {
  const std::string& s = self.AsString();
  const Value* seq = Arg(a, 0, "iterable");
  if (seq == nullptr) return InvalidArgument("join() takes exactly one argument (0 given)");
  FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(*seq));
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].IsString()) {
      return InvalidArgument("sequence item " + std::to_string(i) + ": expected str instance, " +
                             items[i].TypeName() + " found");
    }
    if (i > 0) out += s;
    out += items[i].AsString();
    FOUNDRY_RETURN_IF_ERROR(ctx.Charge(items[i].AsString().size() + s.size()));
  }
  return Value::String(std::move(out));
}

StatusOr<Value> StrSplitlines(RenderContext& ctx, std::string_view, const Value& self, CallArgs&) {
  const std::string& s = self.AsString();
  std::vector<Value> out;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || s[i] == '\r') {
      out.push_back(Value::String(s.substr(start, i - start)));
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  if (start < s.size()) out.push_back(Value::String(s.substr(start)));
  return ctx.NewList(std::move(out));
}

// Splits at `sep` from the left (or right when `reverse`), at most `maxsplit` times (< 0: all).
std::vector<std::string> SplitAt(const std::string& s, const std::string& sep, int64_t maxsplit,
                                 bool reverse) {
  std::vector<std::string> parts;
  if (!reverse) {
    size_t pos = 0;
    while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
      const size_t f = s.find(sep, pos);
      if (f == std::string::npos) break;
      parts.push_back(s.substr(pos, f - pos));
      pos = f + sep.size();
    }
    parts.push_back(s.substr(pos));
    return parts;
  }
  size_t end = s.size();
  while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
    if (end < sep.size()) break;
    const size_t f = s.rfind(sep, end - sep.size());
    if (f == std::string::npos) break;
    parts.push_back(s.substr(f + sep.size(), end - f - sep.size()));
    end = f;
  }
  parts.push_back(s.substr(0, end));
  return {parts.rbegin(), parts.rend()};
}

// Splits at runs of whitespace, dropping empty parts; the remainder after `maxsplit` splits
// keeps its inner whitespace.
std::vector<std::string> SplitWhitespace(const std::string& s, int64_t maxsplit, bool reverse) {
  const std::vector<uint32_t> cps = DecodeUtf8(s);
  std::vector<std::string> parts;
  if (!reverse) {
    size_t i = 0;
    while (true) {
      while (i < cps.size() && PySpace(cps[i])) ++i;
      if (i >= cps.size()) break;
      if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) >= maxsplit) {
        size_t e = cps.size();
        while (e > i && PySpace(cps[e - 1])) --e;
        parts.push_back(EncodeUtf8(cps, i, e));
        break;
      }
      size_t j = i;
      while (j < cps.size() && !PySpace(cps[j])) ++j;
      parts.push_back(EncodeUtf8(cps, i, j));
      i = j;
    }
    return parts;
  }
  size_t i = cps.size();
  while (true) {
    while (i > 0 && PySpace(cps[i - 1])) --i;
    if (i == 0) break;
    if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) >= maxsplit) {
      size_t b = 0;
      while (b < i && PySpace(cps[b])) ++b;
      parts.push_back(EncodeUtf8(cps, b, i));
      break;
    }
    size_t j = i;
    while (j > 0 && !PySpace(cps[j - 1])) --j;
    parts.push_back(EncodeUtf8(cps, j, i));
    i = j;
  }
  return {parts.rbegin(), parts.rend()};
}

StatusOr<Value> SplitMethod(RenderContext& ctx, std::string_view name, const Value& self,
                            const CallArgs& a, bool reverse) {
  const std::string& s = self.AsString();
  std::optional<std::string> sep;
  FOUNDRY_RETURN_IF_ERROR(OptionalStrArg(name, a, 0, "sep", sep));
  int64_t maxsplit = -1;
  if (const Value* m = Arg(a, 1, "maxsplit"); m != nullptr) {
    if (!m->IsInt()) return InvalidArgument("maxsplit must be an integer");
    maxsplit = m->AsInt();
  }
  if (sep && sep->empty()) return InvalidArgument("empty separator");
  std::vector<std::string> parts =
      sep ? SplitAt(s, *sep, maxsplit, reverse) : SplitWhitespace(s, maxsplit, reverse);
  std::vector<Value> out;
  for (auto& p : parts) out.push_back(Value::String(std::move(p)));
  FOUNDRY_RETURN_IF_ERROR(ctx.Charge(s.size()));
  return ctx.NewList(std::move(out));
}
StatusOr<Value> StrSplit(RenderContext& ctx, std::string_view name, const Value& self,
                         CallArgs& a) {
  return SplitMethod(ctx, name, self, a, /*reverse=*/false);
}
StatusOr<Value> StrRsplit(RenderContext& ctx, std::string_view name, const Value& self,
                          CallArgs& a) {
  return SplitMethod(ctx, name, self, a, /*reverse=*/true);
}

constexpr Method kStringMethods[] = {
    {"split", StrSplit},
    {"rsplit", StrRsplit},
    {"splitlines", StrSplitlines},
    {"strip", StrStrip},
    {"lstrip", StrLstrip},
    {"rstrip", StrRstrip},
    {"startswith", StrStartswith},
    {"endswith", StrEndswith},
    {"upper", MapString<ToUpper>},
    {"lower", MapString<ToLower>},
    {"title", MapString<PyTitle>},
    {"capitalize", MapString<Capitalize>},
    {"replace", StrReplace},
    {"find", StrFind},
    {"count", StrCount},
    {"join", StrJoin},
    {"isdigit", AllBytes<IsDigitByte>},
    {"isalpha", AllBytes<IsAsciiAlpha>},
    {"isspace", AllBytes<IsSpaceByte>},
    {"isupper", AllCased<IsUpperByte, IsLowerByte>},
    {"islower", AllCased<IsLowerByte, IsUpperByte>},
};

}  // namespace

std::span<const Method> StringMethods() { return kStringMethods; }

}  // namespace foundry::jinja
