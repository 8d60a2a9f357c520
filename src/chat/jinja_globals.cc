#include "chat/jinja_globals.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <utility>
#include <vector>

#include "chat/jinja_errors.h"
#include "chat/jinja_native_function.h"

namespace foundry::jinja {

namespace {

StatusOr<Value> RaiseException(RenderContext&, CallArgs& a) {
  std::string msg;
  if (!a.positional.empty()) {
    if (a.positional[0].IsString()) {
      msg = a.positional[0].AsString();
    } else {
      (void)AppendStr(a.positional[0], msg, 4096);
    }
  }
  return InvalidArgument(msg);
}

// strftime_now(format): the render's fixed clock in UTC when it has one, else local time now.
StatusOr<Value> StrftimeNow(RenderContext& ctx, CallArgs& a) {
  const Value* fmt = Arg(a, 0, "format");
  if (fmt == nullptr || !fmt->IsString()) {
    return InvalidArgument("strftime_now needs a format string");
  }
  std::tm tm{};
  if (ctx.options().now_unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(*ctx.options().now_unix_seconds);
    gmtime_r(&t, &tm);
  } else {
    const std::time_t t = std::time(nullptr);
    localtime_r(&t, &tm);
  }
  if (fmt->AsString().size() > 256) return InvalidArgument("strftime_now format too long");
  char buf[4096];
  const size_t n = std::strftime(buf, sizeof(buf), fmt->AsString().c_str(), &tm);
  return Value::String(std::string(buf, n));
}

StatusOr<Value> Range(RenderContext& ctx, CallArgs& a) {
  if (a.positional.empty() || a.positional.size() > 3) {
    return InvalidArgument("range expected at least 1 argument, got " +
                           std::to_string(a.positional.size()));
  }
  for (const Value& v : a.positional) {
    if (!v.IsInt() && !v.IsBool()) {
      return InvalidArgument(QuotedTypeName(v) + " object cannot be interpreted as an integer");
    }
  }
  int64_t start = 0, stop, step = 1;
  if (a.positional.size() == 1) {
    stop = a.positional[0].AsInt();
  } else {
    start = a.positional[0].AsInt();
    stop = a.positional[1].AsInt();
    if (a.positional.size() == 3) step = a.positional[2].AsInt();
  }
  if (step == 0) return InvalidArgument("range() arg 3 must not be zero");
  // The sandbox's MAX_RANGE.
  const double count = std::ceil((static_cast<double>(stop) - static_cast<double>(start)) /
                                 static_cast<double>(step));
  if (count > 100000) {
    return OutOfRange("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  }
  std::vector<Value> out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(Value::Int(i));
  return ctx.NewList(std::move(out));
}

// dict(mapping, **kwargs) and namespace(mapping, **kwargs): `m` filled from both.
StatusOr<Value> FillMapping(Value m, const CallArgs& a, std::string_view what) {
  int depth = 0;
  if (!a.positional.empty()) {
    const Value& from = a.positional[0];
    if (!from.IsDict()) return InvalidArgument(std::string(what) + "() argument must be a mapping");
    for (const auto& [k, v] : from.AsDict().items) m.MutableDict().Set(k, v);
    depth = from.Depth() - 1;
  }
  for (const auto& [k, v] : a.kwargs) {
    depth = std::max(depth, v.Depth());
    m.MutableDict().Set(Value::String(k), v);
  }
  m.SetDepth(depth + 1);
  FOUNDRY_RETURN_IF_ERROR(RenderContext::CheckValueDepth(m));
  return m;
}

StatusOr<Value> Dict(RenderContext&, CallArgs& a) {
  return FillMapping(Value::MakeDict(), a, "dict");
}

StatusOr<Value> Namespace(RenderContext& ctx, CallArgs& a) {
  FOUNDRY_ASSIGN_OR_RETURN(Value ns, FillMapping(Value::MakeNamespace(), a, "namespace"));
  ctx.KeepNamespace(ns);
  return ns;
}

constexpr GlobalFunction kGlobalFunctions[] = {
    {"raise_exception", RaiseException},
    {"strftime_now", StrftimeNow},
    {"range", Range},
    {"dict", Dict},
    {"namespace", Namespace},
};

}  // namespace

std::span<const GlobalFunction> GlobalFunctions() { return kGlobalFunctions; }

void AddGlobalFunctions(RenderContext& ctx, std::unordered_map<std::string, Value>& globals) {
  for (const GlobalFunction& g : GlobalFunctions()) {
    const std::string name(g.name);
    if (globals.find(name) != globals.end()) continue;
    globals[name] =
        MakeFunction(name, [ctx = &ctx, fn = g.fn](CallArgs& a) { return fn(*ctx, a); });
  }
}

}  // namespace foundry::jinja
