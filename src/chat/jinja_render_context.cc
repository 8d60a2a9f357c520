#include "chat/jinja_render_context.h"

#include <utility>

namespace foundry::jinja {

RenderContext::~RenderContext() {
  for (Value& ns : namespaces_) ns.MutableDict().items.clear();
}

Status RenderContext::Charge(size_t bytes) {
  work_ += bytes;
  if (work_ > limits().max_work_bytes) {
    return OutOfRange("chat template render exceeds the work limit");
  }
  if (bytes > limits().max_output_bytes) {
    return OutOfRange("chat template value exceeds the size limit");
  }
  return OkStatus();
}

Status RenderContext::CountIteration() {
  if (++iterations_ > limits().max_loop_iterations) {
    return OutOfRange("chat template exceeds the loop iteration limit");
  }
  return OkStatus();
}

StatusOr<std::string> RenderContext::Str(const Value& v) {
  std::string s;
  FOUNDRY_RETURN_IF_ERROR(AppendStr(v, s, limits().max_output_bytes));
  FOUNDRY_RETURN_IF_ERROR(Charge(s.size()));
  return s;
}

StatusOr<Value> RenderContext::NewList(std::vector<Value> items, bool tuple) {
  if (items.size() > static_cast<size_t>(limits().max_loop_iterations)) {
    return OutOfRange("chat template list exceeds the size limit");
  }
  FOUNDRY_RETURN_IF_ERROR(Charge(items.size() * 16));
  Value v = Value::MakeList(std::move(items), tuple);
  FOUNDRY_RETURN_IF_ERROR(CheckValueDepth(v));
  return v;
}

Status RenderContext::CheckValueDepth(const Value& v) {
  if (v.Depth() > kMaxValueDepth) return OutOfRange("chat template value nested too deeply");
  return OkStatus();
}

}  // namespace foundry::jinja
