// Reading values the way jinja2's sandbox does: attributes (`x.name`, methods included),
// items (`x[key]`), slices (`x[a:b:c]`) and iteration. A missing attribute or item is an
// Undefined carrying jinja2's message, an error only once it is used.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "chat/jinja_render_context.h"
#include "chat/jinja_value.h"

namespace foundry::jinja {

StatusOr<Value> GetAttr(RenderContext& ctx, const Value& obj, const std::string& name);
StatusOr<Value> GetItem(RenderContext& ctx, const Value& obj, const Value& key);
// obj[start:stop:step] with Python's index rules; absent bounds are nullopt.
StatusOr<Value> GetSlice(RenderContext& ctx, const Value& obj, std::optional<int64_t> start,
                         std::optional<int64_t> stop, int64_t step);
// The items of `for x in v`: list items, dict keys, string characters; nothing for Undefined.
StatusOr<std::vector<Value>> Iterate(const Value& v);

}  // namespace foundry::jinja
