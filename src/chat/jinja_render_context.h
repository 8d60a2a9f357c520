// What one render shares between the interpreter, operators, filters, tests, methods and
// global functions: its options and the budgets every value built during the render is
// charged against (work bytes, loop iterations, list sizes, nesting).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "chat/jinja_interpreter.h"
#include "chat/jinja_value.h"

namespace foundry::jinja {

// Deepest list/dict nesting a render may build (printing and destruction recurse).
constexpr int kMaxValueDepth = 500;

class RenderContext {
 public:
  explicit RenderContext(const RenderOptions& options) : options_(options) {}
  ~RenderContext();
  RenderContext(const RenderContext&) = delete;
  RenderContext& operator=(const RenderContext&) = delete;

  const RenderOptions& options() const { return options_; }
  const RenderLimits& limits() const { return options_.limits; }

  // Counts `bytes` of strings built; fails past the work limit or for one oversized value.
  Status Charge(size_t bytes);
  // Counts one loop or per-item filter iteration.
  Status CountIteration();
  // Python str(v), charged.
  StatusOr<std::string> Str(const Value& v);
  // A list (or tuple) within the size, work and nesting budgets.
  StatusOr<Value> NewList(std::vector<Value> items, bool tuple = false);
  // Checks a value's nesting depth against kMaxValueDepth.
  static Status CheckValueDepth(const Value& v);
  // Namespaces can hold themselves; those registered here have their cycles broken when the
  // render ends so that nothing leaks.
  void KeepNamespace(Value ns) { namespaces_.push_back(std::move(ns)); }

 private:
  const RenderOptions& options_;
  std::vector<Value> namespaces_;
  int64_t iterations_ = 0;
  uint64_t work_ = 0;
};

}  // namespace foundry::jinja
