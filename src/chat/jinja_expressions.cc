// Expression evaluation: literals, names, displays, access, calls, filters, tests, operators.
#include <algorithm>
#include <optional>
#include <utility>

#include "chat/jinja_access.h"
#include "chat/jinja_errors.h"
#include "chat/jinja_evaluator.h"
#include "chat/jinja_filters.h"
#include "chat/jinja_lexer.h"
#include "chat/jinja_operations.h"
#include "chat/jinja_tests.h"

namespace foundry::jinja {

StatusOr<CallArgs> Evaluator::EvalArgs(const Expr& e, size_t first) {
  CallArgs a;
  for (size_t i = first; i < e.children.size(); ++i) {
    FOUNDRY_ASSIGN_OR_RETURN(Value v, Eval(*e.children[i]));
    a.positional.push_back(std::move(v));
  }
  for (const auto& [k, x] : e.kwargs) {
    FOUNDRY_ASSIGN_OR_RETURN(Value v, Eval(*x));
    a.kwargs.emplace_back(k, std::move(v));
  }
  return a;
}

StatusOr<Value> Evaluator::Eval(const Expr& e) {
  DepthGuard g(depth_);
  FOUNDRY_RETURN_IF_ERROR(CheckDepth());
  switch (e.kind) {
    case Expr::Kind::kLiteral:
      return e.value;
    case Expr::Kind::kName:
      return Lookup(e.name);
    case Expr::Kind::kList:
    case Expr::Kind::kTuple: {
      std::vector<Value> items;
      for (const ExprPtr& c : e.children) {
        FOUNDRY_ASSIGN_OR_RETURN(Value v, Eval(*c));
        items.push_back(std::move(v));
      }
      return ctx_.NewList(std::move(items), e.kind == Expr::Kind::kTuple);
    }
    case Expr::Kind::kDict:
      return EvalDict(e);
    case Expr::Kind::kGetAttr: {
      FOUNDRY_ASSIGN_OR_RETURN(Value obj, Eval(*e.children[0]));
      return GetAttr(ctx_, obj, e.name);
    }
    case Expr::Kind::kGetItem: {
      FOUNDRY_ASSIGN_OR_RETURN(Value obj, Eval(*e.children[0]));
      FOUNDRY_ASSIGN_OR_RETURN(Value key, Eval(*e.children[1]));
      return GetItem(ctx_, obj, key);
    }
    case Expr::Kind::kSlice:
      return EvalSlice(e);
    case Expr::Kind::kCall: {
      FOUNDRY_ASSIGN_OR_RETURN(Value callee, Eval(*e.children[0]));
      FOUNDRY_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e, 1));
      return CallValue(callee, args);
    }
    case Expr::Kind::kFilter: {
      FOUNDRY_ASSIGN_OR_RETURN(Value in, Eval(*e.children[0]));
      FOUNDRY_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e, 1));
      return ApplyFilter(ctx_, e.name, std::move(in), args);
    }
    case Expr::Kind::kTest: {
      FOUNDRY_ASSIGN_OR_RETURN(Value in, Eval(*e.children[0]));
      FOUNDRY_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e, 1));
      FOUNDRY_ASSIGN_OR_RETURN(bool r, ApplyTest(ctx_, e.name, in, args));
      return Value::Bool(r != e.negated);
    }
    case Expr::Kind::kUnary: {
      FOUNDRY_ASSIGN_OR_RETURN(Value v, Eval(*e.children[0]));
      return ApplyUnary(e.unary_op, v);
    }
    case Expr::Kind::kBinary:
      return EvalBinary(e);
    case Expr::Kind::kCompare:
      return EvalCompare(e);
    case Expr::Kind::kCondExpr: {
      FOUNDRY_ASSIGN_OR_RETURN(Value c, Eval(*e.children[1]));
      if (c.Truthy()) return Eval(*e.children[0]);
      if (e.children[2]) return Eval(*e.children[2]);
      return Value::Undefined("the inline if-expression on " + Where(e.line, e.col) +
                              " evaluated to false and no else section was defined.");
    }
  }
  return Internal("unknown expression");
}

StatusOr<Value> Evaluator::EvalDict(const Expr& e) {
  Value d = Value::MakeDict();
  int depth = 0;
  for (size_t i = 0; i + 1 < e.children.size(); i += 2) {
    FOUNDRY_ASSIGN_OR_RETURN(Value k, Eval(*e.children[i]));
    FOUNDRY_ASSIGN_OR_RETURN(Value v, Eval(*e.children[i + 1]));
    if (k.IsList() && !k.IsTuple()) return InvalidArgument("unhashable type: 'list'");
    if (k.IsDict()) return InvalidArgument("unhashable type: 'dict'");
    depth = std::max(depth, v.Depth());
    d.MutableDict().Set(std::move(k), std::move(v));
  }
  d.SetDepth(depth + 1);
  FOUNDRY_RETURN_IF_ERROR(RenderContext::CheckValueDepth(d));
  return d;
}

StatusOr<Value> Evaluator::EvalBinary(const Expr& e) {
  FOUNDRY_ASSIGN_OR_RETURN(Value l, Eval(*e.children[0]));
  // `and` and `or` return an operand and evaluate the right one only when needed.
  if (e.binary_op == BinaryOp::kAnd) {
    if (!l.Truthy()) return l;
    return Eval(*e.children[1]);
  }
  if (e.binary_op == BinaryOp::kOr) {
    if (l.Truthy()) return l;
    return Eval(*e.children[1]);
  }
  FOUNDRY_ASSIGN_OR_RETURN(Value r, Eval(*e.children[1]));
  return ApplyBinary(ctx_, e.binary_op, l, r);
}

// a < b < c: each comparison with its neighbours, stopping at the first false one.
StatusOr<Value> Evaluator::EvalCompare(const Expr& e) {
  FOUNDRY_ASSIGN_OR_RETURN(Value l, Eval(*e.children[0]));
  for (size_t i = 0; i < e.compare_ops.size(); ++i) {
    FOUNDRY_ASSIGN_OR_RETURN(Value r, Eval(*e.children[i + 1]));
    FOUNDRY_ASSIGN_OR_RETURN(bool ok, Compare(e.compare_ops[i], l, r));
    if (!ok) return Value::Bool(false);
    l = std::move(r);
  }
  return Value::Bool(true);
}

StatusOr<Value> Evaluator::CallValue(const Value& callee, CallArgs& args) {
  if (callee.IsUndefined()) return UndefinedError(callee);
  if (!callee.IsCallable()) {
    return InvalidArgument(QuotedTypeName(callee) + " object is not callable");
  }
  return callee.AsCallable().Call(args);
}

StatusOr<std::optional<int64_t>> Evaluator::EvalSliceIndex(const Expr* e) {
  if (e == nullptr) return std::optional<int64_t>();
  FOUNDRY_ASSIGN_OR_RETURN(Value v, Eval(*e));
  if (v.IsNone()) return std::optional<int64_t>();
  if (!v.IsInt() && !v.IsBool()) {
    return InvalidArgument("slice indices must be integers or None or have an __index__ method");
  }
  return std::optional<int64_t>(v.AsInt());
}

StatusOr<Value> Evaluator::EvalSlice(const Expr& e) {
  FOUNDRY_ASSIGN_OR_RETURN(Value obj, Eval(*e.children[0]));
  FOUNDRY_ASSIGN_OR_RETURN(auto start, EvalSliceIndex(e.children[1].get()));
  FOUNDRY_ASSIGN_OR_RETURN(auto stop, EvalSliceIndex(e.children[2].get()));
  FOUNDRY_ASSIGN_OR_RETURN(auto step, EvalSliceIndex(e.children[3].get()));
  return GetSlice(ctx_, obj, start, stop, step ? *step : 1);
}

}  // namespace foundry::jinja
