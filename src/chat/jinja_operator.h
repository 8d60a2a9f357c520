// Operators of the template expression language. The parser decides which operator a token
// is once and stores the enum in the syntax tree, so evaluation switches on it instead of
// comparing spellings; the spelling is kept for jinja2's error messages.
#pragma once

#include <cstdint>
#include <string_view>

namespace foundry::jinja {

enum class UnaryOp : uint8_t { kNot, kPlus, kMinus };

enum class BinaryOp : uint8_t {
  kAnd,  // short-circuit: evaluated by the interpreter, never by ApplyBinary
  kOr,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kFloorDiv,
  kMod,
  kPow,
  kConcat,  // ~
};

enum class CompareOp : uint8_t { kEq, kNe, kLt, kGt, kLe, kGe, kIn, kNotIn };

constexpr std::string_view Spelling(UnaryOp op) {
  switch (op) {
    case UnaryOp::kNot:
      return "not";
    case UnaryOp::kPlus:
      return "+";
    case UnaryOp::kMinus:
      return "-";
  }
  return "?";
}

constexpr std::string_view Spelling(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAnd:
      return "and";
    case BinaryOp::kOr:
      return "or";
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kFloorDiv:
      return "//";
    case BinaryOp::kMod:
      return "%";
    case BinaryOp::kPow:
      return "**";
    case BinaryOp::kConcat:
      return "~";
  }
  return "?";
}

constexpr std::string_view Spelling(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "==";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGe:
      return ">=";
    case CompareOp::kIn:
      return "in";
    case CompareOp::kNotIn:
      return "not in";
  }
  return "?";
}

}  // namespace foundry::jinja
