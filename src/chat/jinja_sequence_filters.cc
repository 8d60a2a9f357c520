// Filters over lists, dicts and other iterables: length, join, select/reject, map, sort, ...
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_access.h"
#include "chat/jinja_filters.h"
#include "chat/jinja_native_function.h"
#include "chat/jinja_operations.h"
#include "chat/jinja_tests.h"
#include "chat/jinja_text.h"

namespace foundry::jinja {

namespace {

const Value* Kwarg(const CallArgs& args, std::string_view name) {
  const Value* found = nullptr;
  for (const auto& [k, v] : args.kwargs) {
    if (k == name) found = &v;
  }
  return found;
}

StatusOr<Value> Length(RenderContext&, Value in, CallArgs&) {
  switch (in.kind()) {
    case Value::Kind::kString:
      return Value::Int(static_cast<int64_t>(Utf8Length(in.AsString())));
    case Value::Kind::kList:
      return Value::Int(static_cast<int64_t>(in.Items().size()));
    case Value::Kind::kDict:
      return Value::Int(static_cast<int64_t>(in.AsDict().items.size()));
    case Value::Kind::kUndefined:
      return Value::Int(0);
    default:
      return InvalidArgument("object of type '" + in.TypeName() + "' has no len()");
  }
}

StatusOr<Value> Join(RenderContext& ctx, Value in, CallArgs& args) {
  FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in));
  const Value* sep = Arg(args, 0, "d");
  const Value* attribute = Arg(args, 1, "attribute");
  std::string d;
  if (sep != nullptr) {
    FOUNDRY_ASSIGN_OR_RETURN(d, ctx.Str(*sep));
  }
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    Value x = items[i];
    if (attribute != nullptr && !attribute->IsNone()) {
      FOUNDRY_ASSIGN_OR_RETURN(x, GetItem(ctx, x, *attribute));
    }
    FOUNDRY_ASSIGN_OR_RETURN(std::string s, ctx.Str(x));
    if (i > 0) out += d;
    out += s;
    FOUNDRY_RETURN_IF_ERROR(ctx.Charge(d.size()));
    if (out.size() > ctx.limits().max_output_bytes) {
      return OutOfRange("chat template value exceeds the size limit");
    }
  }
  return Value::String(std::move(out));
}

// jinja2's make_attrgetter: a dotted path whose integer parts index.
StatusOr<Value> GetAttributePath(RenderContext& ctx, Value x, const std::string& path) {
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool digits = !part.empty();
    for (char c : part) digits = digits && c >= '0' && c <= '9';
    if (digits && part.size() < 18) {
      FOUNDRY_ASSIGN_OR_RETURN(x, GetItem(ctx, x, Value::Int(std::stoll(part))));
    } else {
      FOUNDRY_ASSIGN_OR_RETURN(x, GetItem(ctx, x, Value::String(part)));
    }
    if (dot == std::string::npos) return x;
    start = dot + 1;
  }
}

// select, reject, selectattr and rejectattr: keep the items whose test (truthiness when no
// test is named) is `select`; the *attr forms test an attribute of each item.
StatusOr<Value> SelectOrReject(RenderContext& ctx, const Value& in, const CallArgs& args,
                               bool select, bool attr) {
  FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in));
  size_t next = 0;
  std::string attribute;
  if (attr) {
    if (args.positional.empty() || !args.positional[0].IsString()) {
      return InvalidArgument("selectattr/rejectattr need an attribute name");
    }
    attribute = args.positional[0].AsString();
    next = 1;
  }
  std::string test;
  CallArgs test_args;
  if (next < args.positional.size()) {
    if (!args.positional[next].IsString()) return InvalidArgument("test name must be a string");
    test = args.positional[next].AsString();
    test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(next) + 1,
                                args.positional.end());
  }
  std::vector<Value> out;
  for (const Value& item : items) {
    FOUNDRY_RETURN_IF_ERROR(ctx.CountIteration());
    Value x = item;
    if (attr) {
      FOUNDRY_ASSIGN_OR_RETURN(x, GetAttributePath(ctx, std::move(x), attribute));
    }
    bool keep;
    if (test.empty()) {
      keep = x.Truthy();
    } else {
      FOUNDRY_ASSIGN_OR_RETURN(keep, ApplyTest(ctx, test, x, test_args));
    }
    if (keep == select) out.push_back(item);
  }
  return ctx.NewList(std::move(out));
}

StatusOr<Value> Select(RenderContext& ctx, Value in, CallArgs& args) {
  return SelectOrReject(ctx, in, args, /*select=*/true, /*attr=*/false);
}
StatusOr<Value> Reject(RenderContext& ctx, Value in, CallArgs& args) {
  return SelectOrReject(ctx, in, args, /*select=*/false, /*attr=*/false);
}
StatusOr<Value> SelectAttr(RenderContext& ctx, Value in, CallArgs& args) {
  return SelectOrReject(ctx, in, args, /*select=*/true, /*attr=*/true);
}
StatusOr<Value> RejectAttr(RenderContext& ctx, Value in, CallArgs& args) {
  return SelectOrReject(ctx, in, args, /*select=*/false, /*attr=*/true);
}

// map(attribute=..., default=...) or map('filter', args...).
StatusOr<Value> Map(RenderContext& ctx, Value in, CallArgs& args) {
  FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in));
  const Value* attribute = Kwarg(args, "attribute");
  const Value* def = Kwarg(args, "default");
  std::vector<Value> out;
  if (attribute != nullptr) {
    for (const Value& item : items) {
      FOUNDRY_RETURN_IF_ERROR(ctx.CountIteration());
      FOUNDRY_ASSIGN_OR_RETURN(Value x, GetItem(ctx, item, *attribute));
      if (x.IsUndefined() && def != nullptr) x = *def;
      out.push_back(std::move(x));
    }
    return ctx.NewList(std::move(out));
  }
  if (args.positional.empty() || !args.positional[0].IsString()) {
    return InvalidArgument("map requires a filter argument");
  }
  const std::string filter = args.positional[0].AsString();
  CallArgs rest;
  rest.positional.assign(args.positional.begin() + 1, args.positional.end());
  rest.kwargs = args.kwargs;
  for (const Value& item : items) {
    FOUNDRY_RETURN_IF_ERROR(ctx.CountIteration());
    CallArgs a = rest;
    FOUNDRY_ASSIGN_OR_RETURN(Value x, ApplyFilter(ctx, filter, item, a));
    out.push_back(std::move(x));
  }
  return ctx.NewList(std::move(out));
}

StatusOr<Value> Items(RenderContext& ctx, Value in, CallArgs&) {
  if (in.IsUndefined()) return ctx.NewList({});
  if (!in.IsDict()) return InvalidArgument("Can only get item pairs from a mapping.");
  std::vector<Value> out;
  for (const auto& [k, v] : in.AsDict().items) out.push_back(Value::MakeList({k, v}, true));
  return ctx.NewList(std::move(out));
}

StatusOr<Value> List(RenderContext& ctx, Value in, CallArgs&) {
  FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in));
  return ctx.NewList(std::move(items));
}

StatusOr<Value> First(RenderContext&, Value in, CallArgs&) {
  FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in));
  if (items.empty()) return Value::Undefined("No first item, sequence was empty.");
  return items.front();
}

StatusOr<Value> Last(RenderContext&, Value in, CallArgs&) {
  FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in));
  if (items.empty()) return Value::Undefined("No last item, sequence was empty.");
  return items.back();
}

// Case-insensitive for strings, as jinja2's unique (case_sensitive=False).
StatusOr<Value> Unique(RenderContext& ctx, Value in, CallArgs&) {
  FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in));
  std::vector<Value> out;
  for (const Value& x : items) {
    FOUNDRY_RETURN_IF_ERROR(ctx.CountIteration());
    bool seen = false;
    for (const Value& y : out) {
      if (x.IsString() && y.IsString() ? ToLower(x.AsString()) == ToLower(y.AsString())
                                       : Equal(x, y)) {
        seen = true;
        break;
      }
    }
    if (!seen) out.push_back(x);
  }
  return ctx.NewList(std::move(out));
}

StatusOr<Value> Reverse(RenderContext& ctx, Value in, CallArgs&) {
  if (in.IsString()) {
    std::vector<uint32_t> cps = DecodeUtf8(in.AsString());
    std::reverse(cps.begin(), cps.end());
    return Value::String(EncodeUtf8(cps, 0, cps.size()));
  }
  FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in));
  std::reverse(items.begin(), items.end());
  return ctx.NewList(std::move(items));
}

// sort, dictsort, min and max order by the same key: the item (or its `attribute`), strings
// compared case-insensitively; dictsort orders (key, value) pairs by key.
enum class Ordering { kSort, kDictSort, kMin, kMax };

StatusOr<Value> Sorted(RenderContext& ctx, const Value& in, const CallArgs& args, Ordering how) {
  std::vector<Value> items;
  if (how == Ordering::kDictSort) {
    if (!in.IsDict()) return InvalidArgument("You can only sort by either 'key' or 'value'");
    for (const auto& [k, v] : in.AsDict().items) items.push_back(Value::MakeList({k, v}, true));
  } else {
    FOUNDRY_ASSIGN_OR_RETURN(items, Iterate(in));
  }
  const Value* reverse = how == Ordering::kSort ? Arg(args, 0, "reverse") : nullptr;
  const Value* attribute = Kwarg(args, "attribute");
  std::vector<Value> keys;
  for (const Value& x : items) {
    Value k = x;
    if (attribute != nullptr) {
      FOUNDRY_ASSIGN_OR_RETURN(k, GetItem(ctx, x, *attribute));
    }
    if (k.IsString()) k = Value::String(ToLower(k.AsString()));  // case_sensitive=False
    if (how == Ordering::kDictSort) {
      Value key = x.Items()[0];
      if (key.IsString()) key = Value::String(ToLower(key.AsString()));
      k = key;
    }
    keys.push_back(std::move(k));
  }
  std::vector<size_t> idx(items.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  Status err;
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    auto o = Order(CompareOp::kLt, keys[a], keys[b]);
    if (!o.ok()) {
      err = o.status();
      return false;
    }
    return *o == -1;
  });
  FOUNDRY_RETURN_IF_ERROR(err);
  if (how == Ordering::kMin || how == Ordering::kMax) {
    if (idx.empty()) return Value::Undefined("No aggregated item, sequence was empty.");
    return how == Ordering::kMin ? items[idx.front()] : items[idx.back()];
  }
  if (reverse != nullptr && reverse->Truthy()) std::reverse(idx.begin(), idx.end());
  std::vector<Value> out;
  for (size_t i : idx) out.push_back(items[i]);
  return ctx.NewList(std::move(out));
}

template <Ordering kHow>
StatusOr<Value> SortFilter(RenderContext& ctx, Value in, CallArgs& args) {
  return Sorted(ctx, in, args, kHow);
}

constexpr Filter kSequenceFilters[] = {
    {"length", Length},
    {"count", Length},
    {"join", Join},
    {"select", Select},
    {"reject", Reject},
    {"selectattr", SelectAttr},
    {"rejectattr", RejectAttr},
    {"map", Map},
    {"items", Items},
    {"list", List},
    {"first", First},
    {"last", Last},
    {"unique", Unique},
    {"reverse", Reverse},
    {"sort", SortFilter<Ordering::kSort>},
    {"dictsort", SortFilter<Ordering::kDictSort>},
    {"min", SortFilter<Ordering::kMin>},
    {"max", SortFilter<Ordering::kMax>},
};

}  // namespace

std::span<const Filter> SequenceFilters() { return kSequenceFilters; }

}  // namespace foundry::jinja
