#include "chat/jinja_tests.h"

#include <string>

#include "chat/jinja_errors.h"
#include "chat/jinja_name_table.h"
#include "chat/jinja_native_function.h"
#include "chat/jinja_operations.h"
#include "chat/jinja_text.h"

namespace foundry::jinja {

namespace {

// The test's one argument (`other`); an error naming the test when it is missing.
StatusOr<const Value*> Other(std::string_view name, const CallArgs& args) {
  const Value* arg = Arg(args, 0, "other");
  if (arg == nullptr) return InvalidArgument("test '" + std::string(name) + "' needs an argument");
  return arg;
}

// Tests that look at the value alone.
template <bool (*Pred)(const Value&)>
StatusOr<bool> Predicate(RenderContext&, std::string_view, const Value& v, const CallArgs&) {
  return Pred(v);
}
bool IsDefined(const Value& v) { return !v.IsUndefined(); }
bool IsUndefined(const Value& v) { return v.IsUndefined(); }
bool IsNone(const Value& v) { return v.IsNone(); }
bool IsTrue(const Value& v) { return v.IsBool() && v.AsBool(); }
bool IsFalse(const Value& v) { return v.IsBool() && !v.AsBool(); }
bool IsBoolean(const Value& v) { return v.IsBool(); }
bool IsInteger(const Value& v) { return v.IsInt(); }
bool IsFloat(const Value& v) { return v.IsFloat(); }
bool IsNumber(const Value& v) { return v.IsNumber(); }
bool IsString(const Value& v) { return v.IsString(); }
bool IsMapping(const Value& v) { return v.IsDict(); }
bool IsIterable(const Value& v) {
  return v.IsString() || v.IsList() || v.IsDict() || v.IsUndefined();
}
bool IsSequence(const Value& v) { return v.IsString() || v.IsList() || v.IsDict(); }
bool IsCallable(const Value& v) { return v.IsCallable(); }
bool IsEscaped(const Value&) { return false; }  // nothing is markup without autoescape

template <std::string (*Map)(const std::string&)>
StatusOr<bool> CaseIs(RenderContext& ctx, std::string_view, const Value& v, const CallArgs&) {
  FOUNDRY_ASSIGN_OR_RETURN(std::string s, ctx.Str(v));
  return Map(s) == s;
}

// odd, even and divisibleby take Python's `%`, so they share its type errors.
Status CheckModuloOperand(const Value& v) {
  if (!v.IsNumber() || v.IsFloat()) {
    if (v.IsUndefined()) return UndefinedError(v);
    if (!v.IsFloat()) {
      return InvalidArgument("unsupported operand type(s) for %: '" + v.TypeName() + "' and 'int'");
    }
  }
  return OkStatus();
}

template <bool kOdd>
StatusOr<bool> Parity(RenderContext& ctx, std::string_view, const Value& v, const CallArgs&) {
  FOUNDRY_RETURN_IF_ERROR(CheckModuloOperand(v));
  FOUNDRY_ASSIGN_OR_RETURN(Value m, ApplyBinary(ctx, BinaryOp::kMod, v, Value::Int(2)));
  return kOdd == m.Truthy();
}

StatusOr<bool> DivisibleBy(RenderContext& ctx, std::string_view name, const Value& v,
                           const CallArgs& args) {
  FOUNDRY_RETURN_IF_ERROR(CheckModuloOperand(v));
  FOUNDRY_ASSIGN_OR_RETURN(const Value* other, Other(name, args));
  FOUNDRY_ASSIGN_OR_RETURN(Value m, ApplyBinary(ctx, BinaryOp::kMod, v, *other));
  return !m.Truthy();
}

template <CompareOp kOp>
StatusOr<bool> Comparison(RenderContext&, std::string_view name, const Value& v,
                          const CallArgs& args) {
  FOUNDRY_ASSIGN_OR_RETURN(const Value* other, Other(name, args));
  return Compare(kOp, v, *other);
}

StatusOr<bool> In(RenderContext&, std::string_view, const Value& v, const CallArgs& args) {
  const Value* seq = Arg(args, 0, "seq");
  if (seq == nullptr) return InvalidArgument("test 'in' needs an argument");
  return Contains(*seq, v);
}

StatusOr<bool> SameAs(RenderContext&, std::string_view name, const Value& v, const CallArgs& args) {
  FOUNDRY_ASSIGN_OR_RETURN(const Value* other, Other(name, args));
  if (v.kind() != other->kind()) return false;
  if (v.IsNone() || v.IsUndefined()) return true;
  if (v.IsBool()) return v.AsBool() == other->AsBool();
  if (v.IsList() || v.IsDict() || v.IsNamespace() || v.IsCallable()) {
    return Equal(v, *other) && v.Depth() == other->Depth();
  }
  return Equal(v, *other);
}

constexpr Test kTests[] = {
    {"defined", Predicate<IsDefined>},
    {"undefined", Predicate<IsUndefined>},
    {"none", Predicate<IsNone>},
    {"true", Predicate<IsTrue>},
    {"false", Predicate<IsFalse>},
    {"boolean", Predicate<IsBoolean>},
    {"integer", Predicate<IsInteger>},
    {"float", Predicate<IsFloat>},
    {"number", Predicate<IsNumber>},
    {"string", Predicate<IsString>},
    {"mapping", Predicate<IsMapping>},
    {"iterable", Predicate<IsIterable>},
    {"sequence", Predicate<IsSequence>},
    {"callable", Predicate<IsCallable>},
    {"escaped", Predicate<IsEscaped>},
    {"lower", CaseIs<ToLower>},
    {"upper", CaseIs<ToUpper>},
    {"odd", Parity<true>},
    {"even", Parity<false>},
    {"divisibleby", DivisibleBy},
    {"eq", Comparison<CompareOp::kEq>},
    {"equalto", Comparison<CompareOp::kEq>},
    {"==", Comparison<CompareOp::kEq>},
    {"ne", Comparison<CompareOp::kNe>},
    {"!=", Comparison<CompareOp::kNe>},
    {"lt", Comparison<CompareOp::kLt>},
    {"lessthan", Comparison<CompareOp::kLt>},
    {"<", Comparison<CompareOp::kLt>},
    {"le", Comparison<CompareOp::kLe>},
    {"<=", Comparison<CompareOp::kLe>},
    {"gt", Comparison<CompareOp::kGt>},
    {"greaterthan", Comparison<CompareOp::kGt>},
    {">", Comparison<CompareOp::kGt>},
    {"ge", Comparison<CompareOp::kGe>},
    {">=", Comparison<CompareOp::kGe>},
    {"in", In},
    {"sameas", SameAs},
};

}  // namespace

std::span<const Test> Tests() { return kTests; }

StatusOr<bool> ApplyTest(RenderContext& ctx, std::string_view name, const Value& v,
                         const CallArgs& args) {
  const Test* test = FindByName(Tests(), name);
  if (test == nullptr)
    return InvalidArgument("No test named " + QuoteRepr(std::string(name)) + ".");
  return test->fn(ctx, name, v, args);
}

}  // namespace foundry::jinja
