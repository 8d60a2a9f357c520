// jinja2's tests (`x is defined`, `x is divisibleby 3`): a table of {name, function}.
// Adding a test is one function and one table row.
#pragma once

#include <span>
#include <string_view>

#include "base/status.h"
#include "chat/jinja_render_context.h"
#include "chat/jinja_value.h"

namespace foundry::jinja {

// `name` is the name the template used, for messages ("test 'eq' needs an argument").
using TestFn = StatusOr<bool> (*)(RenderContext& ctx, std::string_view name, const Value& v,
                                  const CallArgs& args);

struct Test {
  std::string_view name;
  TestFn fn;
};

std::span<const Test> Tests();

// `v is name(args)`; an unknown name is jinja2's "No test named ..." error.
StatusOr<bool> ApplyTest(RenderContext& ctx, std::string_view name, const Value& v,
                         const CallArgs& args);

}  // namespace foundry::jinja
