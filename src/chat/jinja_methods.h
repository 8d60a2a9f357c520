// Methods of values (`s.strip()`, `d.items()`, `l.index(x)`): one table of {name, function}
// per type. Adding a method is one function and one table row. The sandbox refuses the
// mutating methods of lists and dicts, which get their own table of names.
#pragma once

#include <span>
#include <string_view>

#include "base/status.h"
#include "chat/jinja_render_context.h"
#include "chat/jinja_value.h"

namespace foundry::jinja {

// `name` is the method's own name, for Python's messages ("strip arg must be None or str").
using MethodFn = StatusOr<Value> (*)(RenderContext& ctx, std::string_view name, const Value& self,
                                     CallArgs& args);

struct Method {
  std::string_view name;
  MethodFn fn;
};

// The tables, one per type (jinja_string_methods.cc, jinja_methods.cc).
std::span<const Method> StringMethods();
std::span<const Method> DictMethods();
std::span<const Method> ListMethods();

// The method `name` of values of `kind`; nullptr when there is none.
const Method* FindMethod(Value::Kind kind, std::string_view name);
// Whether `name` is a mutating method of `kind` that the sandbox refuses.
bool IsUnsafeMethod(Value::Kind kind, std::string_view name);
// `self.name` as a function value bound to `self`.
Value BindMethod(RenderContext& ctx, const Value& self, const Method& method);

}  // namespace foundry::jinja
