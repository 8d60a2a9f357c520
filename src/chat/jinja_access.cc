#include "chat/jinja_access.h"

#include <algorithm>
#include <utility>

#include "chat/jinja_errors.h"
#include "chat/jinja_methods.h"

namespace foundry::jinja {

namespace {

// Python slice indices for a sequence of length n.
struct SliceBounds {
  int64_t start, stop;
};
SliceBounds ResolveSlice(int64_t n, std::optional<int64_t> a, std::optional<int64_t> b,
                         int64_t step) {
  int64_t start, stop;
  if (step > 0) {
    start = a ? *a : 0;
    stop = b ? *b : n;
    if (start < 0) start = std::max<int64_t>(0, start + n);
    if (stop < 0) stop = std::max<int64_t>(0, stop + n);
    start = std::min(start, n);
    stop = std::min(stop, n);
  } else {
    start = a ? *a : n - 1;
    stop = b ? *b : -1 - n;  // sentinel: before the first element
    if (a && start < 0) start = std::max<int64_t>(-1, start + n);
    if (b && stop < 0) stop = std::max<int64_t>(-1, stop + n);
    if (!b) stop = -1;
    start = std::min(start, n - 1);
  }
  return {start, stop};
}

// The elements of `items` a slice selects, in order.
template <typename T>
std::vector<T> SliceOf(const std::vector<T>& items, std::optional<int64_t> a,
                       std::optional<int64_t> b, int64_t step) {
  const SliceBounds r = ResolveSlice(static_cast<int64_t>(items.size()), a, b, step);
  std::vector<T> out;
  for (int64_t i = r.start; step > 0 ? i < r.stop : i > r.stop; i += step) {
    out.push_back(items[static_cast<size_t>(i)]);
  }
  return out;
}

}  // namespace

StatusOr<Value> GetAttr(RenderContext& ctx, const Value& obj, const std::string& name) {
  if (obj.IsUndefined()) return UndefinedError(obj);
  if (const Method* m = FindMethod(obj.kind(), name)) return BindMethod(ctx, obj, *m);
  if (IsUnsafeMethod(obj.kind(), name)) {
    return InvalidArgument("access to attribute '" + name + "' of '" + obj.TypeName() +
                           "' object is unsafe.");
  }
  if (obj.IsDict() || obj.IsNamespace()) {
    const Value* v = obj.AsDict().Find(std::string_view(name));
    if (v != nullptr) return *v;
  }
  return NoAttribute(obj, name);
}

StatusOr<Value> GetItem(RenderContext& ctx, const Value& obj, const Value& key) {
  if (obj.IsUndefined()) return UndefinedError(obj);
  if (obj.IsDict()) {
    const Value* v = obj.AsDict().Find(key);
    if (v != nullptr) return *v;
  } else if ((obj.IsList() || obj.IsString()) && (key.IsInt() || key.IsBool())) {
    int64_t i = key.AsInt();
    if (obj.IsList()) {
      const int64_t n = static_cast<int64_t>(obj.Items().size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return obj.Items()[static_cast<size_t>(i)];
    } else {
      const std::vector<uint32_t> cps = DecodeUtf8(obj.AsString());
      const int64_t n = static_cast<int64_t>(cps.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) {
        return Value::String(EncodeUtf8(cps, static_cast<size_t>(i), static_cast<size_t>(i) + 1));
      }
    }
    return Value::Undefined(TypeRepr(obj) + " has no element " + KeyRepr(key));
  }
  if (key.IsString()) return GetAttr(ctx, obj, key.AsString());
  if (key.IsUndefined()) return Value::Undefined(TypeRepr(obj) + " has no element Undefined");
  return Value::Undefined(TypeRepr(obj) + " has no element " + KeyRepr(key));
}

StatusOr<Value> GetSlice(RenderContext& ctx, const Value& obj, std::optional<int64_t> start,
                         std::optional<int64_t> stop, int64_t step) {
  if (step == 0) return InvalidArgument("slice step cannot be zero");
  if (obj.IsUndefined()) return UndefinedError(obj);
  if (obj.IsString()) {
    const std::vector<uint32_t> out = SliceOf(DecodeUtf8(obj.AsString()), start, stop, step);
    return Value::String(EncodeUtf8(out, 0, out.size()));
  }
  if (obj.IsList()) return ctx.NewList(SliceOf(obj.Items(), start, stop, step), obj.IsTuple());
  return Value::Undefined(TypeRepr(obj) + " has no element slice");
}

StatusOr<std::vector<Value>> Iterate(const Value& v) {
  if (v.IsList()) return v.Items();
  if (v.IsUndefined()) return std::vector<Value>();
  if (v.IsDict()) {
    std::vector<Value> keys;
    for (const auto& kv : v.AsDict().items) keys.push_back(kv.first);
    return keys;
  }
  if (v.IsString()) {
    const std::vector<uint32_t> cps = DecodeUtf8(v.AsString());
    std::vector<Value> out;
    for (size_t i = 0; i < cps.size(); ++i) out.push_back(Value::String(EncodeUtf8(cps, i, i + 1)));
    return out;
  }
  return InvalidArgument(QuotedTypeName(v) + " object is not iterable");
}

}  // namespace foundry::jinja
