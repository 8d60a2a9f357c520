// The global functions transformers gives chat templates (raise_exception, strftime_now)
// and jinja2's (range, dict, namespace): a table of {name, function}.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"
#include "chat/jinja_render_context.h"
#include "chat/jinja_value.h"

namespace foundry::jinja {

using GlobalFn = StatusOr<Value> (*)(RenderContext& ctx, CallArgs& args);

struct GlobalFunction {
  std::string_view name;
  GlobalFn fn;
};

std::span<const GlobalFunction> GlobalFunctions();

// Adds every global function that `globals` does not already define (a caller's variable of
// the same name wins).
void AddGlobalFunctions(RenderContext& ctx, std::unordered_map<std::string, Value>& globals);

}  // namespace foundry::jinja
