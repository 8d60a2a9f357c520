// Function values implemented in C++: global functions, bound methods, loop.cycle.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "base/status.h"
#include "chat/jinja_value.h"

namespace foundry::jinja {

class NativeFunction : public Callable {
 public:
  using Fn = std::function<StatusOr<Value>(CallArgs&)>;
  NativeFunction(std::string name, Fn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  StatusOr<Value> Call(CallArgs& args) override { return fn_(args); }
  std::string_view Name() const override { return name_; }

 private:
  std::string name_;
  Fn fn_;
};

inline Value MakeFunction(std::string name, NativeFunction::Fn fn) {
  return Value::Function(std::make_shared<NativeFunction>(std::move(name), std::move(fn)));
}

// Argument `i` if given positionally, else keyword `name`; nullptr when absent (Python's
// binding of one parameter).
inline const Value* Arg(const CallArgs& a, size_t i, std::string_view name) {
  if (i < a.positional.size()) return &a.positional[i];
  for (const auto& [k, v] : a.kwargs) {
    if (k == name) return &v;
  }
  return nullptr;
}

}  // namespace foundry::jinja
