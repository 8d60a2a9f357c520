#include "chat/jinja_methods.h"

#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_name_table.h"
#include "chat/jinja_native_function.h"

namespace foundry::jinja {

namespace {

// ---- dict ----

StatusOr<Value> DictGet(RenderContext&, std::string_view, const Value& self, CallArgs& a) {
  const Value* key = Arg(a, 0, "key");
  if (key == nullptr) return InvalidArgument("get expected at least 1 argument, got 0");
  const Value* found = self.AsDict().Find(*key);
  if (found != nullptr) return *found;
  const Value* def = Arg(a, 1, "default");
  return def != nullptr ? *def : Value::None();
}

StatusOr<Value> DictItems(RenderContext& ctx, std::string_view, const Value& self, CallArgs&) {
  std::vector<Value> out;
  for (const auto& [k, v] : self.AsDict().items) out.push_back(Value::MakeList({k, v}, true));
  return ctx.NewList(std::move(out));
}

StatusOr<Value> DictKeys(RenderContext& ctx, std::string_view, const Value& self, CallArgs&) {
  std::vector<Value> out;
  for (const auto& kv : self.AsDict().items) out.push_back(kv.first);
  return ctx.NewList(std::move(out));
}

StatusOr<Value> DictValues(RenderContext& ctx, std::string_view, const Value& self, CallArgs&) {
  std::vector<Value> out;
  for (const auto& kv : self.AsDict().items) out.push_back(kv.second);
  return ctx.NewList(std::move(out));
}

constexpr Method kDictMethods[] = {
    {"items", DictItems},
    {"keys", DictKeys},
    {"values", DictValues},
    {"get", DictGet},
};
constexpr std::string_view kUnsafeDictMethods[] = {"pop", "popitem", "setdefault", "update",
                                                   "clear"};

// ---- list ----

// list.index(x) and list.count(x).
StatusOr<Value> ListFind(std::string_view name, const Value& self, CallArgs& a, bool index) {
  const Value* x = Arg(a, 0, "value");
  if (x == nullptr) {
    return InvalidArgument(std::string(name) + "() takes exactly one argument (0 given)");
  }
  int64_t count = 0;
  const auto& items = self.Items();
  for (size_t i = 0; i < items.size(); ++i) {
    if (Equal(items[i], *x)) {
      if (index) return Value::Int(static_cast<int64_t>(i));
      ++count;
    }
  }
  if (index) return InvalidArgument("list.index(x): x not in list");
  return Value::Int(count);
}

StatusOr<Value> ListIndex(RenderContext&, std::string_view name, const Value& self, CallArgs& a) {
  return ListFind(name, self, a, /*index=*/true);
}

StatusOr<Value> ListCount(RenderContext&, std::string_view name, const Value& self, CallArgs& a) {
  return ListFind(name, self, a, /*index=*/false);
}

constexpr Method kListMethods[] = {
    {"index", ListIndex},
    {"count", ListCount},
};
constexpr std::string_view kUnsafeListMethods[] = {"append", "pop",   "insert", "extend",
                                                   "remove", "clear", "sort",   "reverse"};

std::span<const Method> MethodsOf(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kString:
      return StringMethods();
    case Value::Kind::kDict:
      return DictMethods();
    case Value::Kind::kList:
      return ListMethods();
    default:
      return {};
  }
}

}  // namespace

std::span<const Method> DictMethods() { return kDictMethods; }
std::span<const Method> ListMethods() { return kListMethods; }

const Method* FindMethod(Value::Kind kind, std::string_view name) {
  return FindByName(MethodsOf(kind), name);
}

bool IsUnsafeMethod(Value::Kind kind, std::string_view name) {
  std::span<const std::string_view> unsafe;
  if (kind == Value::Kind::kDict) unsafe = kUnsafeDictMethods;
  if (kind == Value::Kind::kList) unsafe = kUnsafeListMethods;
  for (std::string_view u : unsafe) {
    if (u == name) return true;
  }
  return false;
}

Value BindMethod(RenderContext& ctx, const Value& self, const Method& method) {
  return MakeFunction(std::string(method.name),
                      [ctx = &ctx, self, fn = method.fn, name = method.name](CallArgs& a) {
                        return fn(*ctx, name, self, a);
                      });
}

}  // namespace foundry::jinja
