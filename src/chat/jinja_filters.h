// jinja2's filters (`x | trim`, `x | tojson(indent=2)`): a table of {name, function}.
// Adding a filter is one function and one table row; aliases are rows naming the same function.
#pragma once

#include <span>
#include <string_view>

#include "base/status.h"
#include "chat/jinja_render_context.h"
#include "chat/jinja_value.h"

namespace foundry::jinja {

using FilterFn = StatusOr<Value> (*)(RenderContext& ctx, Value in, CallArgs& args);

struct Filter {
  std::string_view name;
  FilterFn fn;
};

// The tables: filters of strings, numbers and any value (jinja_filters.cc) and of
// iterables (jinja_sequence_filters.cc).
std::span<const Filter> ValueFilters();
std::span<const Filter> SequenceFilters();

// `in | name(args)`; an unknown name is jinja2's "No filter named ..." error.
StatusOr<Value> ApplyFilter(RenderContext& ctx, std::string_view name, Value in, CallArgs& args);

}  // namespace foundry::jinja
