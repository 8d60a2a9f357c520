// Python semantics of the expression operators (jinja2 evaluates them with Python's), with
// Python's TypeError wording. Arithmetic that would overflow int64 is an error, not a wrap.
#pragma once

#include "base/status.h"
#include "chat/jinja_operator.h"
#include "chat/jinja_render_context.h"
#include "chat/jinja_value.h"

namespace foundry::jinja {

StatusOr<Value> ApplyUnary(UnaryOp op, const Value& v);
// Every operator but the short-circuit kAnd and kOr.
StatusOr<Value> ApplyBinary(RenderContext& ctx, BinaryOp op, const Value& l, const Value& r);
StatusOr<bool> Compare(CompareOp op, const Value& l, const Value& r);
// Python `item in container`.
StatusOr<bool> Contains(const Value& container, const Value& item);
// -1, 0, 1 for l <=> r under Python ordering, 2 when unordered (NaN), or Python's TypeError
// naming `op`.
StatusOr<int> Order(CompareOp op, const Value& l, const Value& r);

}  // namespace foundry::jinja
