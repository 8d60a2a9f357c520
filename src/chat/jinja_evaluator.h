// The tree-walking evaluator behind Render(): statements and macros (jinja_interpreter.cc),
// expressions (jinja_expressions.cc). Operators, attribute access, filters, tests, methods
// and global functions live in their own files and share the render's RenderContext.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "chat/jinja_interpreter.h"
#include "chat/jinja_parser.h"
#include "chat/jinja_render_context.h"
#include "chat/jinja_value.h"

namespace foundry::jinja {

class Evaluator {
 public:
  Evaluator(const Globals& globals, const RenderOptions& options);
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  StatusOr<std::string> Run(const Program& program);
  // Calls a macro (or a call block's caller) with `args`; `caller` is Undefined when none.
  StatusOr<Value> CallMacro(const Node& macro, CallArgs& args, Value caller);

 private:
  using Scope = std::unordered_map<std::string, Value>;
  // Set by break/continue; unwinds bodies up to the enclosing loop.
  enum class LoopControl { kNone, kBreak, kContinue };

  struct DepthGuard {
    explicit DepthGuard(int& d) : d_(d) { ++d_; }
    ~DepthGuard() { --d_; }
    int& d_;
  };
  Status CheckDepth() const;
  Status Emit(std::string_view s);

  // ---- scopes ----
  Value Lookup(const std::string& name) const;
  void Assign(const std::string& name, Value v);
  Status AssignTarget(const Expr& target, Value v);

  // ---- statements (jinja_interpreter.cc) ----
  Status ExecBody(const Body& body);
  Status Exec(const Node& n);
  Status ExecFor(const Node& n);
  Status ExecCallBlock(const Node& n);
  StatusOr<std::string> Capture(const Body& body);
  // Re-evaluates a filter chain whose innermost input is a placeholder literal.
  StatusOr<Value> EvalFilterChain(const Expr& f, Value input);
  Value MakeMacro(const Node& n);

  // ---- expressions (jinja_expressions.cc) ----
  StatusOr<Value> Eval(const Expr& e);
  StatusOr<CallArgs> EvalArgs(const Expr& e, size_t first);
  StatusOr<Value> EvalDict(const Expr& e);
  StatusOr<Value> EvalBinary(const Expr& e);
  StatusOr<Value> EvalCompare(const Expr& e);
  StatusOr<Value> EvalSlice(const Expr& e);
  StatusOr<std::optional<int64_t>> EvalSliceIndex(const Expr* e);
  StatusOr<Value> CallValue(const Value& callee, CallArgs& args);

  RenderContext ctx_;
  std::unordered_map<std::string, Value> globals_;
  std::vector<std::shared_ptr<Scope>> scopes_;
  std::string out_;
  LoopControl control_ = LoopControl::kNone;
  int depth_ = 0;
  int macro_depth_ = 0;
};

}  // namespace foundry::jinja
