#include "chat/jinja_operations.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_errors.h"

namespace foundry::jinja {

namespace {

std::string OperandTypes(BinaryOp op, const Value& l, const Value& r) {
  return "unsupported operand type(s) for " + std::string(Spelling(op)) + ": '" + l.TypeName() +
         "' and '" + r.TypeName() + "'";
}

bool BothNumbers(const Value& l, const Value& r) { return l.IsNumber() && r.IsNumber(); }
bool BothInts(const Value& l, const Value& r) {
  return BothNumbers(l, r) && !l.IsFloat() && !r.IsFloat();
}

Status Overflow() { return OutOfRange("integer overflow"); }

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

StatusOr<Value> Concat(RenderContext& ctx, const Value& l, const Value& r) {
  FOUNDRY_ASSIGN_OR_RETURN(std::string a, ctx.Str(l));
  FOUNDRY_ASSIGN_OR_RETURN(std::string b, ctx.Str(r));
  FOUNDRY_RETURN_IF_ERROR(ctx.Charge(a.size() + b.size()));
  return Value::String(a + b);
}

StatusOr<Value> Add(RenderContext& ctx, const Value& l, const Value& r) {
  if (BothInts(l, r)) {
    int64_t out;
    if (__builtin_add_overflow(l.AsInt(), r.AsInt(), &out)) return Overflow();
    return Value::Int(out);
  }
  if (BothNumbers(l, r)) return Value::Float(l.AsDouble() + r.AsDouble());
  if (l.IsString() && r.IsString()) {
    FOUNDRY_RETURN_IF_ERROR(ctx.Charge(l.AsString().size() + r.AsString().size()));
    return Value::String(l.AsString() + r.AsString());
  }
  if (l.IsList() && r.IsList() && l.IsTuple() == r.IsTuple()) {
    std::vector<Value> items = l.Items();
    items.insert(items.end(), r.Items().begin(), r.Items().end());
    return ctx.NewList(std::move(items), l.IsTuple());
  }
  if (l.IsString() || l.IsList()) {
    return InvalidArgument("can only concatenate " + l.TypeName() + " (not \"" + r.TypeName() +
                           "\") to " + l.TypeName());
  }
  return InvalidArgument(OperandTypes(BinaryOp::kAdd, l, r));
}

StatusOr<Value> Sub(const Value& l, const Value& r) {
  if (BothInts(l, r)) {
    int64_t out;
    if (__builtin_sub_overflow(l.AsInt(), r.AsInt(), &out)) return Overflow();
    return Value::Int(out);
  }
  if (BothNumbers(l, r)) return Value::Float(l.AsDouble() - r.AsDouble());
  return InvalidArgument(OperandTypes(BinaryOp::kSub, l, r));
}

// seq * n for a string or list `seq`, within the size budgets.
StatusOr<Value> Repeat(RenderContext& ctx, const Value& seq, int64_t n) {
  n = std::max<int64_t>(0, n);
  // An empty sequence repeats to itself at once (the size checks below cannot bound n then).
  if (seq.IsString() && seq.AsString().empty()) return Value::String("");
  if (seq.IsList() && seq.Items().empty()) return ctx.NewList({}, seq.IsTuple());
  if (seq.IsString()) {
    const size_t unit = seq.AsString().size();
    if (unit != 0 && static_cast<uint64_t>(n) > ctx.limits().max_output_bytes / unit) {
      return OutOfRange("chat template value exceeds the size limit");
    }
    FOUNDRY_RETURN_IF_ERROR(ctx.Charge(unit * static_cast<size_t>(n)));
    std::string out;
    for (int64_t i = 0; i < n; ++i) out += seq.AsString();
    return Value::String(std::move(out));
  }
  const size_t unit = seq.Items().size();
  if (unit != 0 &&
      static_cast<uint64_t>(n) > static_cast<uint64_t>(ctx.limits().max_loop_iterations) / unit) {
    return OutOfRange("chat template list exceeds the size limit");
  }
  std::vector<Value> out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.Items().begin(), seq.Items().end());
  return ctx.NewList(std::move(out), seq.IsTuple());
}

StatusOr<Value> Mul(RenderContext& ctx, const Value& l, const Value& r) {
  if (BothInts(l, r)) {
    int64_t out;
    if (__builtin_mul_overflow(l.AsInt(), r.AsInt(), &out)) return Overflow();
    return Value::Int(out);
  }
  if (BothNumbers(l, r)) return Value::Float(l.AsDouble() * r.AsDouble());
  const Value* seq =
      (l.IsString() || l.IsList()) ? &l : ((r.IsString() || r.IsList()) ? &r : nullptr);
  const Value* count = seq == &l ? &r : &l;
  if (seq != nullptr && (count->IsInt() || count->IsBool())) {
    return Repeat(ctx, *seq, count->AsInt());
  }
  if (seq != nullptr) {
    return InvalidArgument("can't multiply sequence by non-int of type '" + count->TypeName() +
                           "'");
  }
  return InvalidArgument(OperandTypes(BinaryOp::kMul, l, r));
}

StatusOr<Value> Div(const Value& l, const Value& r) {
  if (!BothNumbers(l, r)) return InvalidArgument(OperandTypes(BinaryOp::kDiv, l, r));
  if (r.AsDouble() == 0) return InvalidArgument("division by zero");
  return Value::Float(l.AsDouble() / r.AsDouble());
}

// Python's // and %: the quotient rounds toward negative infinity, the remainder takes the
// sign of the divisor.
StatusOr<Value> FloorDivOrMod(BinaryOp op, const Value& l, const Value& r) {
  const bool mod = op == BinaryOp::kMod;
  if (!BothNumbers(l, r)) {
    if (mod && l.IsString()) {
      return Unimplemented("printf-style string formatting ('%') is not supported");
    }
    return InvalidArgument(OperandTypes(op, l, r));
  }
  if (BothInts(l, r)) {
    if (r.AsInt() == 0) return InvalidArgument("integer division or modulo by zero");
    if (l.AsInt() == INT64_MIN && r.AsInt() == -1) {
      if (mod) return Value::Int(0);
      return Overflow();
    }
    const int64_t q = FloorDiv(l.AsInt(), r.AsInt());
    if (!mod) return Value::Int(q);
    return Value::Int(l.AsInt() - q * r.AsInt());
  }
  const double a = l.AsDouble(), b = r.AsDouble();
  if (b == 0) return InvalidArgument(mod ? "float modulo" : "float floor division by zero");
  if (!mod) return Value::Float(std::floor(a / b));
  double m = std::fmod(a, b);
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  return Value::Float(m);
}

StatusOr<Value> Pow(const Value& l, const Value& r) {
  if (!BothNumbers(l, r)) {
    return InvalidArgument("unsupported operand type(s) for ** or pow(): '" + l.TypeName() +
                           "' and '" + r.TypeName() + "'");
  }
  if (BothInts(l, r) && r.AsInt() >= 0) {
    int64_t result = 1, base = l.AsInt(), e = r.AsInt();
    while (e > 0) {
      if ((e & 1) && __builtin_mul_overflow(result, base, &result)) return Overflow();
      e >>= 1;
      if (e > 0 && __builtin_mul_overflow(base, base, &base)) return Overflow();
    }
    return Value::Int(result);
  }
  if (l.AsDouble() == 0 && r.AsDouble() < 0) {
    return InvalidArgument("0.0 cannot be raised to a negative power");
  }
  return Value::Float(std::pow(l.AsDouble(), r.AsDouble()));
}

}  // namespace

StatusOr<Value> ApplyUnary(UnaryOp op, const Value& v) {
  if (op == UnaryOp::kNot) return Value::Bool(!v.Truthy());
  if (v.IsUndefined()) return UndefinedError(v);
  if (!v.IsNumber()) {
    return InvalidArgument("bad operand type for unary " + std::string(Spelling(op)) + ": '" +
                           v.TypeName() + "'");
  }
  if (op == UnaryOp::kPlus) return v.IsFloat() ? v : Value::Int(v.AsInt());
  if (v.IsFloat()) return Value::Float(-v.AsDouble());
  if (v.AsInt() == INT64_MIN) return Overflow();
  return Value::Int(-v.AsInt());
}

StatusOr<Value> ApplyBinary(RenderContext& ctx, BinaryOp op, const Value& l, const Value& r) {
  // ~ converts its operands to strings, Undefined included; the others reject Undefined.
  if (op == BinaryOp::kConcat) return Concat(ctx, l, r);
  if (l.IsUndefined()) return UndefinedError(l);
  if (r.IsUndefined()) return UndefinedError(r);
  switch (op) {
    case BinaryOp::kAdd:
      return Add(ctx, l, r);
    case BinaryOp::kSub:
      return Sub(l, r);
    case BinaryOp::kMul:
      return Mul(ctx, l, r);
    case BinaryOp::kDiv:
      return Div(l, r);
    case BinaryOp::kFloorDiv:
    case BinaryOp::kMod:
      return FloorDivOrMod(op, l, r);
    case BinaryOp::kPow:
      return Pow(l, r);
    case BinaryOp::kAnd:
    case BinaryOp::kOr:
    case BinaryOp::kConcat:
      break;
  }
  return Internal("unknown operator " + std::string(Spelling(op)));
}

StatusOr<int> Order(CompareOp op, const Value& l, const Value& r) {
  if (l.IsUndefined()) return UndefinedError(l);
  if (r.IsUndefined()) return UndefinedError(r);
  if (l.IsNumber() && r.IsNumber()) {
    if (!l.IsFloat() && !r.IsFloat()) {
      return l.AsInt() < r.AsInt() ? -1 : (l.AsInt() > r.AsInt() ? 1 : 0);
    }
    const double a = l.AsDouble(), b = r.AsDouble();
    if (std::isnan(a) || std::isnan(b)) return 2;  // every comparison false
    return a < b ? -1 : (a > b ? 1 : 0);
  }
  if (l.IsString() && r.IsString()) {
    const int c = l.AsString().compare(r.AsString());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (l.IsList() && r.IsList() && l.IsTuple() == r.IsTuple()) {
    const auto& a = l.Items();
    const auto& b = r.Items();
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
      if (Equal(a[i], b[i])) continue;
      return Order(op, a[i], b[i]);
    }
    return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
  }
  std::string msg = "'";
  msg += Spelling(op);
  msg += "' not supported between instances of " + QuotedTypeName(l) + " and " + QuotedTypeName(r);
  return InvalidArgument(msg);
}

StatusOr<bool> Contains(const Value& c, const Value& item) {
  switch (c.kind()) {
    case Value::Kind::kString:
      if (!item.IsString()) {
        if (item.IsUndefined()) return UndefinedError(item);
        return InvalidArgument("'in <string>' requires string as left operand, not " +
                               item.TypeName());
      }
      return c.AsString().find(item.AsString()) != std::string::npos;
    case Value::Kind::kList:
      for (const Value& x : c.Items()) {
        if (Equal(x, item)) return true;
      }
      return false;
    case Value::Kind::kDict:
    case Value::Kind::kNamespace:
      if (item.IsList() && !item.IsTuple()) return InvalidArgument("unhashable type: 'list'");
      return c.AsDict().Find(item) != nullptr;
    case Value::Kind::kUndefined:
      return false;
    default:
      return InvalidArgument("argument of type '" + c.TypeName() + "' is not iterable");
  }
}

StatusOr<bool> Compare(CompareOp op, const Value& l, const Value& r) {
  switch (op) {
    case CompareOp::kEq:
      return Equal(l, r);
    case CompareOp::kNe:
      return !Equal(l, r);
    case CompareOp::kIn:
      return Contains(r, l);
    case CompareOp::kNotIn: {
      FOUNDRY_ASSIGN_OR_RETURN(bool in, Contains(r, l));
      return !in;
    }
    case CompareOp::kLt:
    case CompareOp::kGt:
    case CompareOp::kLe:
    case CompareOp::kGe:
      break;
  }
  FOUNDRY_ASSIGN_OR_RETURN(int c, Order(op, l, r));
  if (c == 2) return false;
  switch (op) {
    case CompareOp::kLt:
      return c < 0;
    case CompareOp::kGt:
      return c > 0;
    case CompareOp::kLe:
      return c <= 0;
    case CompareOp::kGe:
      return c >= 0;
    default:
      return Internal("unknown comparison " + std::string(Spelling(op)));
  }
}

}  // namespace foundry::jinja
