#include "chat/jinja_parser.h"

#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>

#include "chat/jinja_lexer.h"

namespace foundry::jinja {

namespace {

constexpr int kMaxNesting = 200;

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  StatusOr<std::shared_ptr<const Program>> Run() {
    auto program = std::make_shared<Program>();
    std::string end;
    FOUNDRY_RETURN_IF_ERROR(ParseBody(program->body, {}, end));
    return std::shared_ptr<const Program>(std::move(program));
  }

 private:
  // --- token helpers -------------------------------------------------------------------
  const Token& Cur() const { return t_[pos_]; }
  const Token& Peek(size_t k = 1) const { return t_[std::min(pos_ + k, t_.size() - 1)]; }
  void Advance() {
    if (pos_ + 1 < t_.size()) ++pos_;
  }
  bool IsOp(const char* op) const { return Cur().kind == TokenKind::kOp && Cur().text == op; }
  bool IsName(const char* name) const {
    return Cur().kind == TokenKind::kName && Cur().text == name;
  }
  bool AcceptOp(const char* op) {
    if (!IsOp(op)) return false;
    Advance();
    return true;
  }
  bool AcceptName(const char* name) {
    if (!IsName(name)) return false;
    Advance();
    return true;
  }
  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::kText:
        return "template data";
      case TokenKind::kVarBegin:
        return "'{{'";
      case TokenKind::kVarEnd:
        return "end of print statement";
      case TokenKind::kBlockBegin:
        return "'{%'";
      case TokenKind::kBlockEnd:
        return "end of statement block";
      case TokenKind::kName:
        return "'" + t.text + "'";
      case TokenKind::kString:
        return "string";
      case TokenKind::kInt:
      case TokenKind::kFloat:
        return "number";
      case TokenKind::kOp:
        return "'" + t.text + "'";
      case TokenKind::kEof:
        return "end of template";
    }
    return "token";
  }
  Status Error(const Token& t, const std::string& what) const {
    return InvalidArgument("chat template syntax error at " + Where(t.line, t.col) + ": " + what);
  }
  Status Unexpected(const std::string& expected) const {
    return Error(Cur(), "expected " + expected + ", got " + Describe(Cur()));
  }
  Status ExpectOp(const char* op) {
    if (!AcceptOp(op)) return Unexpected(std::string("'") + op + "'");
    return OkStatus();
  }
  Status ExpectBlockEnd() {
    if (Cur().kind != TokenKind::kBlockEnd) return Unexpected("end of statement block");
    Advance();
    return OkStatus();
  }
  StatusOr<std::string> ExpectName() {
    if (Cur().kind != TokenKind::kName) return Unexpected("a name");
    std::string s = Cur().text;
    Advance();
    return s;
  }

  struct Depth {
    explicit Depth(int& d) : d_(d) { ++d_; }
    ~Depth() { --d_; }
    int& d_;
  };
  Status CheckDepth() const {
    if (depth_ > kMaxNesting) return Error(Cur(), "template nested too deeply");
    return OkStatus();
  }

  // Comma-separated items up to and including `close`, a trailing comma allowed; `item`
  // parses one.
  template <typename ParseItem>
  Status ParseItems(const char* close, ParseItem item) {
    bool first = true;
    while (!IsOp(close)) {
      if (!first) FOUNDRY_RETURN_IF_ERROR(ExpectOp(","));
      first = false;
      if (IsOp(close)) break;
      FOUNDRY_RETURN_IF_ERROR(item());
    }
    Advance();
    return OkStatus();
  }

  ExprPtr NewExpr(Expr::Kind kind, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = at.line;
    e->col = at.col;
    return e;
  }

  // --- statements ----------------------------------------------------------------------
  // Parses nodes until a block tag whose keyword is in `ends` (left unconsumed past the
  // keyword: `end` receives it and the position is after the keyword), or end of template.
  Status ParseBody(Body& body, std::initializer_list<const char*> ends, std::string& end) {
    Depth d(depth_);
    FOUNDRY_RETURN_IF_ERROR(CheckDepth());
    while (true) {
      const Token& tok = Cur();
      switch (tok.kind) {
        case TokenKind::kEof:
          if (ends.size() != 0) {
            std::string list;
            for (const char* e : ends)
              list += std::string(list.empty() ? "" : " or ") + "'" + e + "'";
            return Error(tok, "unexpected end of template, expected " + list);
          }
          end.clear();
          return OkStatus();
        case TokenKind::kText: {
          auto n = std::make_unique<Node>();
          n->kind = Node::Kind::kText;
          n->text = tok.text;
          body.push_back(std::move(n));
          Advance();
          break;
        }
        case TokenKind::kVarBegin: {
          Advance();
          auto n = std::make_unique<Node>();
          n->kind = Node::Kind::kOutput;
          n->line = tok.line;
          n->col = tok.col;
          FOUNDRY_ASSIGN_OR_RETURN(n->expr, ParseTuple(true));
          if (Cur().kind != TokenKind::kVarEnd) return Unexpected("end of print statement");
          Advance();
          body.push_back(std::move(n));
          break;
        }
        case TokenKind::kBlockBegin: {
          const Token& kw = Peek();
          if (kw.kind != TokenKind::kName) {
            Advance();
            return Unexpected("statement name");
          }
          for (const char* e : ends) {
            if (kw.text == e) {
              Advance();
              Advance();
              end = e;
              return OkStatus();
            }
          }
          static const char* const kEndTags[] = {"elif",   "else",         "endif",   "endfor",
                                                 "endset", "endmacro",     "endcall", "endfilter",
                                                 "endraw", "endgeneration"};
          for (const char* e : kEndTags) {
            if (kw.text == e) {
              std::string list;
              for (const char* x : ends) {
                list += std::string(list.empty() ? "" : " or ") + "'" + x + "'";
              }
              return Error(
                  kw, "unexpected '" + kw.text + "'" + (list.empty() ? "" : ", expected " + list));
            }
          }
          Advance();
          FOUNDRY_RETURN_IF_ERROR(ParseStatement(body));
          break;
        }
        default:
          return Error(tok, "unexpected " + Describe(tok));
      }
    }
  }

  Status ParseStatement(Body& body) {
    const Token kw = Cur();
    Advance();
    auto n = std::make_unique<Node>();
    n->line = kw.line;
    n->col = kw.col;
    const std::string& k = kw.text;
    std::string end;
    if (k == "if") {
      n->kind = Node::Kind::kIf;
      FOUNDRY_ASSIGN_OR_RETURN(ExprPtr cond, ParseTuple(false));
      FOUNDRY_RETURN_IF_ERROR(ExpectBlockEnd());
      while (true) {
        n->conditions.push_back(std::move(cond));
        n->bodies.emplace_back();
        FOUNDRY_RETURN_IF_ERROR(ParseBody(n->bodies.back(), {"elif", "else", "endif"}, end));
        if (end == "elif") {
          FOUNDRY_ASSIGN_OR_RETURN(cond, ParseTuple(false));
          FOUNDRY_RETURN_IF_ERROR(ExpectBlockEnd());
          continue;
        }
        if (end == "else") {
          FOUNDRY_RETURN_IF_ERROR(ExpectBlockEnd());
          FOUNDRY_RETURN_IF_ERROR(ParseBody(n->else_body, {"endif"}, end));
        }
        break;
      }
      FOUNDRY_RETURN_IF_ERROR(ExpectBlockEnd());
    } else if (k == "for") {
      n->kind = Node::Kind::kFor;
      FOUNDRY_ASSIGN_OR_RETURN(n->target, ParseAssignTarget(false));
      if (!AcceptName("in")) return Unexpected("'in'");
      FOUNDRY_ASSIGN_OR_RETURN(n->expr, ParseTuple(false, /*for_iter=*/true));
      if (AcceptName("if")) {
        FOUNDRY_ASSIGN_OR_RETURN(n->filter, ParseExpression(true));
      }
      if (IsName("recursive")) return Error(Cur(), "recursive loops are not supported");
      FOUNDRY_RETURN_IF_ERROR(ExpectBlockEnd());
      FOUNDRY_RETURN_IF_ERROR(ParseBody(n->body, {"endfor", "else"}, end));
      if (end == "else") {
        FOUNDRY_RETURN_IF_ERROR(ExpectBlockEnd());
        FOUNDRY_RETURN_IF_ERROR(ParseBody(n->else_body, {"endfor"}, end));
      }
      FOUNDRY_RETURN_IF_ERROR(ExpectBlockEnd());
    } else if (k == "set") {
      FOUNDRY_ASSIGN_OR_RETURN(n->target, ParseAssignTarget(true));
      if (AcceptOp("=")) {
        n->kind = Node::Kind::kSet;
        FOUNDRY_ASSIGN_OR_RETURN(n->expr, ParseTuple(true));
        FOUNDRY_RETURN_IF_ERROR(ExpectBlockEnd());
      } else {
        if (n->target->kind != Expr::Kind::kName) return Unexpected("'='");
        n->kind = Node::Kind::kSetBlock;
        if (IsOp("|")) {
          auto placeholder = NewExpr(Expr::Kind::kLiteral, Cur());
          FOUNDRY_ASSIGN_OR_RETURN(n->filter, ParseFilterExpr(std::move(placeholder)));
        }
        FOUNDRY_RETURN_IF_ERROR(ExpectBlockEnd());
        FOUNDRY_RETURN_IF_ERROR(ParseBody(n->body, {"endset"}, end));
        FOUNDRY_RETURN_IF_ERROR(ExpectBlockEnd());
      }
    } else if (k == "macro") {
      n->kind = Node::Kind::kMacro;
      FOUNDRY_ASSIGN_OR_RETURN(n->text, ExpectName());
      FOUNDRY_RETURN_IF_ERROR(ParseParams(n->params));
      FOUNDRY_RETURN_IF_ERROR(ExpectBlockEnd());
      FOUNDRY_RETURN_IF_ERROR(ParseBody(n->body, {"endmacro"}, end));
      if (Cur().kind == TokenKind::kName) Advance();  // optional macro name after endmacro
      FOUNDRY_RETURN_IF_ERROR(ExpectBlockEnd());
    } else if (k == "call") {
      n->kind = Node::Kind::kCallBlock;
      if (IsOp("(")) FOUNDRY_RETURN_IF_ERROR(ParseParams(n->params));
      FOUNDRY_ASSIGN_OR_RETURN(n->expr, ParseExpression(true));
      if (n->expr->kind != Expr::Kind::kCall) return Error(kw, "expected a call after 'call'");
      FOUNDRY_RETURN_IF_ERROR(ExpectBlockEnd());
      FOUNDRY_RETURN_IF_ERROR(ParseBody(n->body, {"endcall"}, end));
      FOUNDRY_RETURN_IF_ERROR(ExpectBlockEnd());
    } else if (k == "filter") {
      n->kind = Node::Kind::kFilterBlock;
      auto placeholder = NewExpr(Expr::Kind::kLiteral, Cur());
      FOUNDRY_ASSIGN_OR_RETURN(n->filter, ParseFilter(std::move(placeholder)));
      while (IsOp("|")) {
        FOUNDRY_ASSIGN_OR_RETURN(n->filter, ParseFilter(std::move(n->filter)));
      }
      FOUNDRY_RETURN_IF_ERROR(ExpectBlockEnd());
      FOUNDRY_RETURN_IF_ERROR(ParseBody(n->body, {"endfilter"}, end));
      FOUNDRY_RETURN_IF_ERROR(ExpectBlockEnd());
    } else if (k == "break" || k == "continue") {
      if (loop_depth_ == 0) return Error(kw, "'" + k + "' outside of a loop");
      n->kind = k == "break" ? Node::Kind::kBreak : Node::Kind::kContinue;
      FOUNDRY_RETURN_IF_ERROR(ExpectBlockEnd());
    } else if (k == "generation") {
      n->kind = Node::Kind::kScope;
      FOUNDRY_RETURN_IF_ERROR(ExpectBlockEnd());
      FOUNDRY_RETURN_IF_ERROR(ParseBody(n->body, {"endgeneration"}, end));
      FOUNDRY_RETURN_IF_ERROR(ExpectBlockEnd());
    } else {
      return Error(kw, "unknown tag '" + k + "'");
    }
    body.push_back(std::move(n));
    return OkStatus();
  }

  Status ParseParams(std::vector<std::pair<std::string, ExprPtr>>& params) {
    FOUNDRY_RETURN_IF_ERROR(ExpectOp("("));
    return ParseItems(")", [&]() -> Status {
      FOUNDRY_ASSIGN_OR_RETURN(std::string name, ExpectName());
      ExprPtr def;
      if (AcceptOp("=")) {
        FOUNDRY_ASSIGN_OR_RETURN(def, ParseExpression(true));
      }
      params.emplace_back(std::move(name), std::move(def));
      return OkStatus();
    });
  }

  // for/set targets: name, ns.attr (set only), or a tuple of names.
  StatusOr<ExprPtr> ParseAssignTarget(bool allow_attr) {
    const Token start = Cur();
    const bool paren = AcceptOp("(");
    std::vector<ExprPtr> names;
    while (true) {
      const Token at = Cur();
      FOUNDRY_ASSIGN_OR_RETURN(std::string name, ExpectName());
      auto e = NewExpr(Expr::Kind::kName, at);
      e->name = name;
      if (allow_attr && names.empty() && !paren && IsOp(".")) {
        Advance();
        FOUNDRY_ASSIGN_OR_RETURN(std::string attr, ExpectName());
        auto g = NewExpr(Expr::Kind::kGetAttr, at);
        g->name = attr;
        g->children.push_back(std::move(e));
        return g;
      }
      names.push_back(std::move(e));
      if (!AcceptOp(",")) break;
      if (paren && IsOp(")")) break;
    }
    if (paren) FOUNDRY_RETURN_IF_ERROR(ExpectOp(")"));
    if (names.size() == 1 && !paren) return std::move(names[0]);
    auto t = NewExpr(Expr::Kind::kTuple, start);
    t->children = std::move(names);
    return t;
  }

  // --- expressions ---------------------------------------------------------------------
  bool IsTupleEnd(bool for_iter) const {
    const Token& t = Cur();
    if (t.kind == TokenKind::kVarEnd || t.kind == TokenKind::kBlockEnd ||
        t.kind == TokenKind::kEof) {
      return true;
    }
    if (t.kind == TokenKind::kOp && (t.text == ")" || t.text == "]" || t.text == "}")) return true;
    if (for_iter && t.kind == TokenKind::kName && (t.text == "if" || t.text == "recursive")) {
      return true;
    }
    return false;
  }

  StatusOr<ExprPtr> ParseTuple(bool with_condexpr, bool for_iter = false) {
    const Token start = Cur();
    FOUNDRY_ASSIGN_OR_RETURN(ExprPtr first, ParseExpression(with_condexpr));
    if (!IsOp(",")) return first;
    auto t = NewExpr(Expr::Kind::kTuple, start);
    t->children.push_back(std::move(first));
    while (AcceptOp(",")) {
      if (IsTupleEnd(for_iter)) break;
      FOUNDRY_ASSIGN_OR_RETURN(ExprPtr e, ParseExpression(with_condexpr));
      t->children.push_back(std::move(e));
    }
    return t;
  }

  StatusOr<ExprPtr> ParseExpression(bool with_condexpr) {
    Depth d(depth_);
    FOUNDRY_RETURN_IF_ERROR(CheckDepth());
    if (!with_condexpr) return ParseOr();
    const Token start = Cur();
    FOUNDRY_ASSIGN_OR_RETURN(ExprPtr e, ParseOr());
    while (AcceptName("if")) {
      auto c = NewExpr(Expr::Kind::kCondExpr, start);
      FOUNDRY_ASSIGN_OR_RETURN(ExprPtr cond, ParseOr());
      ExprPtr other;
      if (AcceptName("else")) {
        FOUNDRY_ASSIGN_OR_RETURN(other, ParseExpression(true));
      }
      c->children.push_back(std::move(e));
      c->children.push_back(std::move(cond));
      c->children.push_back(std::move(other));
      e = std::move(c);
    }
    return e;
  }

  // Operators of one precedence level and the enum each spelling stands for. Keywords (and,
  // or) are name tokens, symbols are op tokens; no spelling is both.
  struct Spelled {
    std::string_view text;
    BinaryOp op;
  };
  static constexpr Spelled kOrOps[] = {{"or", BinaryOp::kOr}};
  static constexpr Spelled kAndOps[] = {{"and", BinaryOp::kAnd}};
  static constexpr Spelled kAddOps[] = {{"+", BinaryOp::kAdd}, {"-", BinaryOp::kSub}};
  static constexpr Spelled kConcatOps[] = {{"~", BinaryOp::kConcat}};
  static constexpr Spelled kMulOps[] = {{"*", BinaryOp::kMul},
                                        {"/", BinaryOp::kDiv},
                                        {"//", BinaryOp::kFloorDiv},
                                        {"%", BinaryOp::kMod}};
  static constexpr Spelled kPowOps[] = {{"**", BinaryOp::kPow}};

  const BinaryOp* MatchBinary(std::span<const Spelled> ops) const {
    if (Cur().kind != TokenKind::kOp && Cur().kind != TokenKind::kName) return nullptr;
    for (const Spelled& o : ops) {
      if (Cur().text == o.text) return &o.op;
    }
    return nullptr;
  }

  // A left-associative chain `operand (op operand)*` of one precedence level.
  using Level = StatusOr<ExprPtr> (Parser::*)();
  StatusOr<ExprPtr> ParseLeftAssociative(Level operand, std::span<const Spelled> ops) {
    FOUNDRY_ASSIGN_OR_RETURN(ExprPtr l, (this->*operand)());
    while (const BinaryOp* op = MatchBinary(ops)) {
      auto b = NewExpr(Expr::Kind::kBinary, Cur());
      b->binary_op = *op;
      Advance();
      FOUNDRY_ASSIGN_OR_RETURN(ExprPtr r, (this->*operand)());
      b->children.push_back(std::move(l));
      b->children.push_back(std::move(r));
      l = std::move(b);
    }
    return l;
  }

  StatusOr<ExprPtr> ParseOr() { return ParseLeftAssociative(&Parser::ParseAnd, kOrOps); }
  StatusOr<ExprPtr> ParseAnd() { return ParseLeftAssociative(&Parser::ParseNot, kAndOps); }

  StatusOr<ExprPtr> ParseNot() {
    if (IsName("not")) {
      Depth d(depth_);
      FOUNDRY_RETURN_IF_ERROR(CheckDepth());
      auto u = NewExpr(Expr::Kind::kUnary, Cur());
      Advance();
      u->unary_op = UnaryOp::kNot;
      FOUNDRY_ASSIGN_OR_RETURN(ExprPtr e, ParseNot());
      u->children.push_back(std::move(e));
      return u;
    }
    return ParseCompare();
  }

  // The comparison operator at the cursor, consuming it; nullopt when there is none.
  std::optional<CompareOp> AcceptCompareOp() {
    static constexpr std::pair<std::string_view, CompareOp> kSymbols[] = {
        {"==", CompareOp::kEq}, {"!=", CompareOp::kNe}, {"<", CompareOp::kLt},
        {">", CompareOp::kGt},  {"<=", CompareOp::kLe}, {">=", CompareOp::kGe}};
    if (Cur().kind == TokenKind::kOp) {
      for (const auto& [text, op] : kSymbols) {
        if (Cur().text == text) {
          Advance();
          return op;
        }
      }
      return std::nullopt;
    }
    if (AcceptName("in")) return CompareOp::kIn;
    if (IsName("not") && Peek().kind == TokenKind::kName && Peek().text == "in") {
      Advance();
      Advance();
      return CompareOp::kNotIn;
    }
    return std::nullopt;
  }

  StatusOr<ExprPtr> ParseCompare() {
    const Token start = Cur();
    FOUNDRY_ASSIGN_OR_RETURN(ExprPtr e, ParseMath1());
    ExprPtr cmp;
    while (std::optional<CompareOp> op = AcceptCompareOp()) {
      if (!cmp) {
        cmp = NewExpr(Expr::Kind::kCompare, start);
        cmp->children.push_back(std::move(e));
      }
      FOUNDRY_ASSIGN_OR_RETURN(ExprPtr r, ParseMath1());
      cmp->compare_ops.push_back(*op);
      cmp->children.push_back(std::move(r));
    }
    if (cmp) return cmp;
    return e;
  }

  StatusOr<ExprPtr> ParseMath1() { return ParseLeftAssociative(&Parser::ParseConcat, kAddOps); }
  StatusOr<ExprPtr> ParseConcat() { return ParseLeftAssociative(&Parser::ParseMath2, kConcatOps); }
  StatusOr<ExprPtr> ParseMath2() { return ParseLeftAssociative(&Parser::ParsePow, kMulOps); }
  StatusOr<ExprPtr> ParsePow() {
    return ParseLeftAssociative(&Parser::ParseUnaryWithFilters, kPowOps);
  }
  StatusOr<ExprPtr> ParseUnaryWithFilters() { return ParseUnary(true); }

  StatusOr<ExprPtr> ParseUnary(bool with_filter) {
    Depth d(depth_);
    FOUNDRY_RETURN_IF_ERROR(CheckDepth());
    ExprPtr node;
    if (IsOp("-") || IsOp("+")) {
      auto u = NewExpr(Expr::Kind::kUnary, Cur());
      u->unary_op = IsOp("-") ? UnaryOp::kMinus : UnaryOp::kPlus;
      Advance();
      FOUNDRY_ASSIGN_OR_RETURN(ExprPtr e, ParseUnary(false));
      u->children.push_back(std::move(e));
      node = std::move(u);
    } else {
      FOUNDRY_ASSIGN_OR_RETURN(node, ParsePrimary());
    }
    FOUNDRY_ASSIGN_OR_RETURN(node, ParsePostfix(std::move(node)));
    if (with_filter) return ParseFilterExpr(std::move(node));
    return node;
  }

  StatusOr<ExprPtr> ParsePrimary() {
    Depth d(depth_);
    FOUNDRY_RETURN_IF_ERROR(CheckDepth());
    const Token tok = Cur();
    switch (tok.kind) {
      case TokenKind::kName: {
        Advance();
        auto e = NewExpr(Expr::Kind::kLiteral, tok);
        if (tok.text == "true" || tok.text == "True") {
          e->value = Value::Bool(true);
        } else if (tok.text == "false" || tok.text == "False") {
          e->value = Value::Bool(false);
        } else if (tok.text == "none" || tok.text == "None") {
          e->value = Value::None();
        } else {
          e->kind = Expr::Kind::kName;
          e->name = tok.text;
        }
        return e;
      }
      case TokenKind::kString: {
        std::string s;
        while (Cur().kind == TokenKind::kString) {
          s += Cur().text;
          Advance();
        }
        auto e = NewExpr(Expr::Kind::kLiteral, tok);
        e->value = Value::String(std::move(s));
        return e;
      }
      case TokenKind::kInt: {
        Advance();
        auto e = NewExpr(Expr::Kind::kLiteral, tok);
        e->value = Value::Int(tok.int_value);
        return e;
      }
      case TokenKind::kFloat: {
        Advance();
        auto e = NewExpr(Expr::Kind::kLiteral, tok);
        e->value = Value::Float(tok.float_value);
        return e;
      }
      case TokenKind::kOp:
        if (tok.text == "(") {
          Advance();
          if (AcceptOp(")")) return NewExpr(Expr::Kind::kTuple, tok);
          FOUNDRY_ASSIGN_OR_RETURN(ExprPtr first, ParseExpression(true));
          if (AcceptOp(")")) return first;
          auto t = NewExpr(Expr::Kind::kTuple, tok);
          t->children.push_back(std::move(first));
          while (AcceptOp(",")) {
            if (IsOp(")")) break;
            FOUNDRY_ASSIGN_OR_RETURN(ExprPtr e, ParseExpression(true));
            t->children.push_back(std::move(e));
          }
          FOUNDRY_RETURN_IF_ERROR(ExpectOp(")"));
          return t;
        }
        if (tok.text == "[") {
          Advance();
          auto l = NewExpr(Expr::Kind::kList, tok);
          FOUNDRY_RETURN_IF_ERROR(ParseItems("]", [&]() -> Status {
            FOUNDRY_ASSIGN_OR_RETURN(ExprPtr e, ParseExpression(true));
            l->children.push_back(std::move(e));
            return OkStatus();
          }));
          return l;
        }
        if (tok.text == "{") {
          Advance();
          auto m = NewExpr(Expr::Kind::kDict, tok);
          FOUNDRY_RETURN_IF_ERROR(ParseItems("}", [&]() -> Status {
            FOUNDRY_ASSIGN_OR_RETURN(ExprPtr k, ParseExpression(true));
            FOUNDRY_RETURN_IF_ERROR(ExpectOp(":"));
            FOUNDRY_ASSIGN_OR_RETURN(ExprPtr v, ParseExpression(true));
            m->children.push_back(std::move(k));
            m->children.push_back(std::move(v));
            return OkStatus();
          }));
          return m;
        }
        break;
      default:
        break;
    }
    return Error(tok, "unexpected " + Describe(tok));
  }

  StatusOr<ExprPtr> ParsePostfix(ExprPtr node) {
    while (true) {
      const Token at = Cur();
      if (IsOp(".")) {
        Advance();
        if (Cur().kind == TokenKind::kName) {
          auto g = NewExpr(Expr::Kind::kGetAttr, at);
          g->name = Cur().text;
          Advance();
          g->children.push_back(std::move(node));
          node = std::move(g);
        } else if (Cur().kind == TokenKind::kInt) {
          auto g = NewExpr(Expr::Kind::kGetItem, at);
          auto idx = NewExpr(Expr::Kind::kLiteral, Cur());
          idx->value = Value::Int(Cur().int_value);
          Advance();
          g->children.push_back(std::move(node));
          g->children.push_back(std::move(idx));
          node = std::move(g);
        } else {
          return Unexpected("attribute name");
        }
      } else if (IsOp("[")) {
        Advance();
        FOUNDRY_ASSIGN_OR_RETURN(node, ParseSubscript(std::move(node), at));
      } else if (IsOp("(")) {
        FOUNDRY_ASSIGN_OR_RETURN(node, ParseCall(std::move(node)));
      } else {
        return node;
      }
    }
  }

  StatusOr<ExprPtr> ParseSubscript(ExprPtr obj, const Token& at) {
    ExprPtr parts[3];
    int n = 0;
    bool slice = false;
    if (!IsOp(":")) {
      FOUNDRY_ASSIGN_OR_RETURN(parts[0], ParseExpression(true));
    }
    while (IsOp(":") && n < 2) {
      slice = true;
      Advance();
      ++n;
      if (!IsOp(":") && !IsOp("]")) {
        FOUNDRY_ASSIGN_OR_RETURN(parts[n], ParseExpression(true));
      }
    }
    FOUNDRY_RETURN_IF_ERROR(ExpectOp("]"));
    if (!slice) {
      auto g = NewExpr(Expr::Kind::kGetItem, at);
      g->children.push_back(std::move(obj));
      g->children.push_back(std::move(parts[0]));
      return g;
    }
    auto s = NewExpr(Expr::Kind::kSlice, at);
    s->children.push_back(std::move(obj));
    for (auto& p : parts) s->children.push_back(std::move(p));
    return s;
  }

  Status ParseArgs(Expr& call) {
    FOUNDRY_RETURN_IF_ERROR(ExpectOp("("));
    return ParseItems(")", [&]() -> Status {
      if (Cur().kind == TokenKind::kName && Peek().kind == TokenKind::kOp && Peek().text == "=") {
        std::string key = Cur().text;
        Advance();
        Advance();
        FOUNDRY_ASSIGN_OR_RETURN(ExprPtr v, ParseExpression(true));
        call.kwargs.emplace_back(std::move(key), std::move(v));
        return OkStatus();
      }
      if (!call.kwargs.empty()) return Error(Cur(), "positional argument after keyword argument");
      FOUNDRY_ASSIGN_OR_RETURN(ExprPtr v, ParseExpression(true));
      call.children.push_back(std::move(v));
      return OkStatus();
    });
  }

  StatusOr<ExprPtr> ParseCall(ExprPtr callee) {
    auto c = NewExpr(Expr::Kind::kCall, Cur());
    c->children.push_back(std::move(callee));
    FOUNDRY_RETURN_IF_ERROR(ParseArgs(*c));
    return c;
  }

  StatusOr<ExprPtr> ParseFilter(ExprPtr input) {
    // Cur() is '|' (or the filter name in a filter block).
    if (IsOp("|")) Advance();
    const Token at = Cur();
    FOUNDRY_ASSIGN_OR_RETURN(std::string name, ExpectName());
    while (IsOp(".") && Peek().kind == TokenKind::kName) {
      Advance();
      name += "." + Cur().text;
      Advance();
    }
    auto f = NewExpr(Expr::Kind::kFilter, at);
    f->name = name;
    f->children.push_back(std::move(input));
    if (IsOp("(")) FOUNDRY_RETURN_IF_ERROR(ParseArgs(*f));
    return f;
  }

  StatusOr<ExprPtr> ParseFilterExpr(ExprPtr node) {
    while (true) {
      if (IsOp("|")) {
        FOUNDRY_ASSIGN_OR_RETURN(node, ParseFilter(std::move(node)));
      } else if (IsName("is")) {
        Advance();
        auto t = NewExpr(Expr::Kind::kTest, Cur());
        t->negated = AcceptName("not");
        FOUNDRY_ASSIGN_OR_RETURN(t->name, ExpectName());
        while (IsOp(".") && Peek().kind == TokenKind::kName) {
          Advance();
          t->name += "." + Cur().text;
          Advance();
        }
        t->children.push_back(std::move(node));
        const Token& c = Cur();
        if (IsOp("(")) {
          FOUNDRY_RETURN_IF_ERROR(ParseArgs(*t));
        } else if ((c.kind == TokenKind::kName || c.kind == TokenKind::kString ||
                    c.kind == TokenKind::kInt || c.kind == TokenKind::kFloat || IsOp("[") ||
                    IsOp("{")) &&
                   !(c.kind == TokenKind::kName &&
                     (c.text == "else" || c.text == "or" || c.text == "and"))) {
          if (IsName("is")) return Error(c, "You cannot chain multiple tests with is");
          FOUNDRY_ASSIGN_OR_RETURN(ExprPtr arg, ParsePrimary());
          FOUNDRY_ASSIGN_OR_RETURN(arg, ParsePostfix(std::move(arg)));
          t->children.push_back(std::move(arg));
        }
        node = std::move(t);
      } else if (IsOp("(")) {
        FOUNDRY_ASSIGN_OR_RETURN(node, ParseCall(std::move(node)));
      } else {
        return node;
      }
    }
  }

  std::vector<Token> t_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 1;  // break/continue are checked at run time (loops nest through macros)
};

}  // namespace

StatusOr<std::shared_ptr<const Program>> ParseTemplate(std::string_view source) {
  FOUNDRY_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(source));
  return Parser(std::move(tokens)).Run();
}

}  // namespace foundry::jinja
