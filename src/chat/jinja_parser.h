// Syntax tree of a chat template and the parser that builds it from tokens.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "chat/jinja_operator.h"
#include "chat/jinja_value.h"

namespace foundry::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,   // value
    kName,      // name
    kList,      // children
    kTuple,     // children
    kDict,      // children: key, value, key, value, ...
    kGetAttr,   // children[0].name
    kGetItem,   // children[0][children[1]]
    kSlice,     // children[0][children[1]:children[2]:children[3]] (null parts allowed)
    kCall,      // children[0](children[1:], kwargs)
    kFilter,    // children[0] | name(children[1:], kwargs)
    kTest,      // children[0] is [not] name(children[1:])
    kUnary,     // unary_op children[0]
    kBinary,    // children[0] binary_op children[1]
    kCompare,   // children[0] compare_ops[0] children[1] compare_ops[1] ...
    kCondExpr,  // children[0] if children[1] else children[2] (may be null)
  };
  Kind kind;
  int line = 0;
  int col = 0;
  Value value;
  std::string name;  // variable, attribute, filter or test name
  bool negated = false;
  UnaryOp unary_op = UnaryOp::kNot;
  BinaryOp binary_op = BinaryOp::kAnd;
  std::vector<ExprPtr> children;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<CompareOp> compare_ops;
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

struct Node {
  enum class Kind {
    kText,         // text
    kOutput,       // {{ expr }}
    kIf,           // conditions[i] -> bodies[i]; else_body
    kFor,          // for targets in expr [if filter] body [else else_body]
    kSet,          // set target = expr (target: expr of kind kName, kTuple or kGetAttr)
    kSetBlock,     // set name [| filters] %} body {% endset
    kMacro,        // macro name(params) body
    kCallBlock,    // call expr body (caller())
    kFilterBlock,  // filter f %} body {% endfilter
    kBreak,
    kContinue,
    kScope,  // generation blocks: just the body
  };
  Kind kind;
  int line = 0;
  int col = 0;
  std::string text;  // text, or the macro/set name
  ExprPtr expr;
  ExprPtr target;
  ExprPtr filter;
  std::vector<ExprPtr> conditions;
  std::vector<Body> bodies;
  Body body;
  Body else_body;
  std::vector<std::pair<std::string, ExprPtr>> params;  // macro parameters and defaults
};

struct Program {
  Body body;
};

StatusOr<std::shared_ptr<const Program>> ParseTemplate(std::string_view source);

}  // namespace foundry::jinja
