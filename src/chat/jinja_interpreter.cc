#include "chat/jinja_interpreter.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <functional>
#include <memory>
#include <unordered_map>

#include "chat/jinja_lexer.h"

namespace foundry::jinja {

namespace {

using Scope = std::unordered_map<std::string, Value>;

// ---------------------------------------------------------------------------------------
// String helpers (Python semantics over code points; case mapping is ASCII only).

bool PySpace(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

// strip/lstrip/rstrip; chars == nullptr: whitespace.
std::string Strip(const std::string& s, const std::string* chars, bool left, bool right) {
  const std::vector<uint32_t> cps = DecodeUtf8(s);
  std::vector<uint32_t> set;
  if (chars != nullptr) set = DecodeUtf8(*chars);
  auto strip = [&](uint32_t c) {
    return chars == nullptr ? PySpace(c) : std::find(set.begin(), set.end(), c) != set.end();
  };
  size_t b = 0, e = cps.size();
  if (left) {
    while (b < e && strip(cps[b])) ++b;
  }
  if (right) {
    while (e > b && strip(cps[e - 1])) --e;
  }
  return EncodeUtf8(cps, b, e);
}

// Case mapping: ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic (the simple 1:1 maps);
// other scripts pass through unchanged.
uint32_t UpperCp(uint32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c < 0x80) return c;
  if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 32;
  if (c == 0xFF) return 0x178;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 &&
      c != 0x17F) {
    const bool odd_lower = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (odd_lower ? (c % 2 == 0) : (c % 2 == 1)) return c - 1;
    return c;
  }
  if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}
uint32_t LowerCp(uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0x80) return c;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;
  if (c == 0x178) return 0xFF;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 &&
      c != 0x17F) {
    const bool odd_lower = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (odd_lower ? (c % 2 == 1) : (c % 2 == 0)) return c + 1;
    return c;
  }
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}
bool IsCased(uint32_t c) { return UpperCp(c) != c || LowerCp(c) != c; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

template <typename F>
std::string MapCps(const std::string& s, F f) {
  std::vector<uint32_t> cps = DecodeUtf8(s);
  for (size_t i = 0; i < cps.size(); ++i) cps[i] = f(i, cps);
  return EncodeUtf8(cps, 0, cps.size());
}

std::string ToUpper(const std::string& s) {
  return MapCps(s, [](size_t i, const std::vector<uint32_t>& c) { return UpperCp(c[i]); });
}
std::string ToLower(const std::string& s) {
  return MapCps(s, [](size_t i, const std::vector<uint32_t>& c) { return LowerCp(c[i]); });
}
std::string Capitalize(const std::string& s) {
  return MapCps(s, [](size_t i, const std::vector<uint32_t>& c) {
    return i == 0 ? UpperCp(c[i]) : LowerCp(c[i]);
  });
}
// Python str.title(): a cased letter after an uncased character is upper-cased, others lowered.
std::string PyTitle(const std::string& s) {
  std::vector<uint32_t> cps = DecodeUtf8(s);
  bool prev_cased = false;
  for (uint32_t& c : cps) {
    const bool cased = IsCased(c);
    if (cased) c = prev_cased ? LowerCp(c) : UpperCp(c);
    prev_cased = cased;
  }
  return EncodeUtf8(cps, 0, cps.size());
}
// jinja2's title filter: words begin after runs of [-\s({[<].
std::string JinjaTitle(const std::string& s) {
  std::vector<uint32_t> cps = DecodeUtf8(s);
  bool word_start = true;
  for (uint32_t& c : cps) {
    const bool sep = c == '-' || PySpace(c) || c == '(' || c == '{' || c == '[' || c == '<';
    if (sep) {
      word_start = true;
    } else {
      c = word_start ? UpperCp(c) : LowerCp(c);
      word_start = false;
    }
  }
  return EncodeUtf8(cps, 0, cps.size());
}

std::string Replace(const std::string& s, const std::string& from, const std::string& to,
                    int64_t count) {
  if (count < 0) count = INT64_MAX;
  std::string out;
  if (from.empty()) {
    // Python inserts `to` around every code point.
    const std::vector<uint32_t> cps = DecodeUtf8(s);
    int64_t done = 0;
    for (size_t i = 0; i <= cps.size(); ++i) {
      if (done < count) {
        out += to;
        ++done;
      }
      if (i < cps.size()) out += EncodeUtf8(cps, i, i + 1);
    }
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (done < count) {
    const size_t f = s.find(from, pos);
    if (f == std::string::npos) break;
    out.append(s, pos, f - pos);
    out += to;
    pos = f + from.size();
    ++done;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

// Python slice indices for a sequence of length n.
struct SliceIdx {
  int64_t start, stop, step;
};
SliceIdx ResolveSlice(int64_t n, std::optional<int64_t> a, std::optional<int64_t> b, int64_t step) {
  int64_t start, stop;
  if (step > 0) {
    start = a ? *a : 0;
    stop = b ? *b : n;
    if (start < 0) start = std::max<int64_t>(0, start + n);
    if (stop < 0) stop = std::max<int64_t>(0, stop + n);
    start = std::min(start, n);
    stop = std::min(stop, n);
  } else {
    start = a ? *a : n - 1;
    stop = b ? *b : -1 - n;  // sentinel: before the first element
    if (a && start < 0) start = std::max<int64_t>(-1, start + n);
    if (b && stop < 0) stop = std::max<int64_t>(-1, stop + n);
    if (!b) stop = -1;
    start = std::min(start, n - 1);
  }
  return {start, stop, step};
}

std::string QuoteRepr(const std::string& s) {
  std::string out;
  (void)AppendRepr(Value::String(s), out, 1 << 20);
  return out;
}

std::string KeyRepr(const Value& v) {
  std::string out;
  (void)AppendRepr(v, out, 1 << 20);
  return out;
}

// jinja2's object_type_repr.
std::string TypeRepr(const Value& v) {
  if (v.IsNone()) return "None";
  if (v.IsNamespace()) return "jinja2.utils.Namespace object";
  return v.TypeName() + " object";
}

Value NoAttribute(const Value& obj, const std::string& name) {
  std::string msg = "'";
  msg += TypeRepr(obj);
  msg += "' has no attribute ";
  msg += QuoteRepr(name);
  return Value::Undefined(std::move(msg));
}

Status UndefinedError(const Value& u) {
  return InvalidArgument(u.AsString().empty() ? "'undefined' is undefined" : u.AsString());
}

// ---------------------------------------------------------------------------------------

class Interpreter;

class NativeFn : public Callable {
 public:
  using Fn = std::function<StatusOr<Value>(CallArgs&)>;
  NativeFn(std::string name, Fn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  StatusOr<Value> Call(CallArgs& args) override { return fn_(args); }
  std::string_view Name() const override { return name_; }

 private:
  std::string name_;
  Fn fn_;
};

Value MakeFn(std::string name, NativeFn::Fn fn) {
  return Value::Function(std::make_shared<NativeFn>(std::move(name), std::move(fn)));
}

// Looks up argument `i` (positional) or keyword `name`; nullptr when absent.
const Value* Arg(const CallArgs& a, size_t i, const char* name) {
  if (i < a.positional.size()) return &a.positional[i];
  for (const auto& [k, v] : a.kwargs) {
    if (k == name) return &v;
  }
  return nullptr;
}

enum class Ctl { kNone, kBreak, kContinue };

class Interpreter {
 public:
  Interpreter(const Globals& globals, const RenderOptions& options)
      : options_(options), limits_(options.limits) {
    for (const auto& [k, v] : globals) globals_[k] = v;
    InstallBuiltins();
    scopes_.push_back(std::make_shared<Scope>());
  }

  ~Interpreter() {
    // Namespaces can hold themselves; break such cycles so that nothing leaks.
    for (auto& ns : namespaces_) ns.MutableDict().items.clear();
  }

  StatusOr<std::string> Run(const Program& program) {
    FOUNDRY_RETURN_IF_ERROR(ExecBody(program.body));
    if (ctl_ != Ctl::kNone) return InvalidArgument("'break' or 'continue' outside of a loop");
    return std::move(out_);
  }

  StatusOr<Value> CallMacro(const Node& macro, CallArgs& args, Value caller);

 private:
  struct DepthGuard {
    explicit DepthGuard(int& d) : d_(d) { ++d_; }
    ~DepthGuard() { --d_; }
    int& d_;
  };

  Status CheckDepth() const {
    if (depth_ > limits_.max_depth)
      return OutOfRange("chat template nesting exceeds the depth limit");
    return OkStatus();
  }

  Status Charge(size_t bytes) {
    work_ += bytes;
    if (work_ > limits_.max_work_bytes) {
      return OutOfRange("chat template render exceeds the work limit");
    }
    if (bytes > limits_.max_output_bytes) {
      return OutOfRange("chat template value exceeds the size limit");
    }
    return OkStatus();
  }

  Status CountIteration() {
    if (++iterations_ > limits_.max_loop_iterations) {
      return OutOfRange("chat template exceeds the loop iteration limit");
    }
    return OkStatus();
  }

  Status Emit(std::string_view s) {
    FOUNDRY_RETURN_IF_ERROR(Charge(s.size()));
    if (out_.size() + s.size() > limits_.max_output_bytes) {
      return OutOfRange("chat template output exceeds the size limit");
    }
    out_.append(s);
    return OkStatus();
  }

  StatusOr<std::string> Str(const Value& v) {
    std::string s;
    FOUNDRY_RETURN_IF_ERROR(AppendStr(v, s, limits_.max_output_bytes));
    FOUNDRY_RETURN_IF_ERROR(Charge(s.size()));
    return s;
  }

  StatusOr<Value> NewList(std::vector<Value> items, bool tuple = false) {
    if (items.size() > static_cast<size_t>(limits_.max_loop_iterations)) {
      return OutOfRange("chat template list exceeds the size limit");
    }
    FOUNDRY_RETURN_IF_ERROR(Charge(items.size() * 16));
    Value v = Value::MakeList(std::move(items), tuple);
    if (v.Depth() > 500) return OutOfRange("chat template value nested too deeply");
    return v;
  }

  // ---- scopes ----
  Value Lookup(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto f = (*it)->find(name);
      if (f != (*it)->end()) return f->second;
    }
    auto g = globals_.find(name);
    if (g != globals_.end()) return g->second;
    return Value::Undefined("'" + name + "' is undefined");
  }

  void Assign(const std::string& name, Value v) { (*scopes_.back())[name] = std::move(v); }

  // ---- statements ----
  Status ExecBody(const Body& body) {
    for (const NodePtr& n : body) {
      FOUNDRY_RETURN_IF_ERROR(Exec(*n));
      if (ctl_ != Ctl::kNone) return OkStatus();
    }
    return OkStatus();
  }

  Status Exec(const Node& n) {
    DepthGuard g(depth_);
    FOUNDRY_RETURN_IF_ERROR(CheckDepth());
    switch (n.kind) {
      case Node::Kind::kText:
        return Emit(n.text);
      case Node::Kind::kOutput: {
        FOUNDRY_ASSIGN_OR_RETURN(Value v, Eval(*n.expr));
        if (v.IsString()) return Emit(v.AsString());
        FOUNDRY_ASSIGN_OR_RETURN(std::string s, Str(v));
        return Emit(s);
      }
      case Node::Kind::kIf:
        for (size_t i = 0; i < n.conditions.size(); ++i) {
          FOUNDRY_ASSIGN_OR_RETURN(Value c, Eval(*n.conditions[i]));
          if (c.Truthy()) return ExecBody(n.bodies[i]);
        }
        return ExecBody(n.else_body);
      case Node::Kind::kFor:
        return ExecFor(n);
      case Node::Kind::kSet: {
        FOUNDRY_ASSIGN_OR_RETURN(Value v, Eval(*n.expr));
        return AssignTarget(*n.target, std::move(v));
      }
      case Node::Kind::kSetBlock: {
        FOUNDRY_ASSIGN_OR_RETURN(std::string s, Capture(n.body));
        Value v = Value::String(std::move(s));
        if (n.filter) {
          FOUNDRY_ASSIGN_OR_RETURN(v, EvalFilterChain(*n.filter, std::move(v)));
        }
        Assign(n.target->name, std::move(v));
        return OkStatus();
      }
      case Node::Kind::kMacro:
        Assign(n.text, MakeMacro(n));
        return OkStatus();
      case Node::Kind::kCallBlock:
        return ExecCallBlock(n);
      case Node::Kind::kFilterBlock: {
        FOUNDRY_ASSIGN_OR_RETURN(std::string s, Capture(n.body));
        FOUNDRY_ASSIGN_OR_RETURN(Value v, EvalFilterChain(*n.filter, Value::String(std::move(s))));
        FOUNDRY_ASSIGN_OR_RETURN(std::string text, Str(v));
        return Emit(text);
      }
      case Node::Kind::kBreak:
        ctl_ = Ctl::kBreak;
        return OkStatus();
      case Node::Kind::kContinue:
        ctl_ = Ctl::kContinue;
        return OkStatus();
      case Node::Kind::kScope:
        return ExecBody(n.body);
    }
    return Internal("unknown node");
  }

  StatusOr<std::string> Capture(const Body& body) {
    std::string saved;
    std::swap(saved, out_);
    Status st = ExecBody(body);
    std::swap(saved, out_);
    FOUNDRY_RETURN_IF_ERROR(st);
    return saved;
  }

  // Re-evaluates a filter chain whose innermost input is a placeholder literal.
  StatusOr<Value> EvalFilterChain(const Expr& f, Value input) {
    if (f.kind != Expr::Kind::kFilter) return input;
    FOUNDRY_ASSIGN_OR_RETURN(Value in, EvalFilterChain(*f.children[0], std::move(input)));
    FOUNDRY_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(f, 1));
    return ApplyFilter(f.name, std::move(in), args);
  }

  Status AssignTarget(const Expr& target, Value v) {
    if (target.kind == Expr::Kind::kName) {
      Assign(target.name, std::move(v));
      return OkStatus();
    }
    if (target.kind == Expr::Kind::kGetAttr) {
      Value ns = Lookup(target.children[0]->name);
      if (!ns.IsNamespace()) {
        return InvalidArgument("Cannot assign attribute on non-namespace object");
      }
      ns.SetDepth(std::max(ns.Depth(), v.Depth() + 1));
      if (ns.Depth() > 500) return OutOfRange("chat template value nested too deeply");
      ns.MutableDict().Set(Value::String(target.name), std::move(v));
      return OkStatus();
    }
    // Tuple unpacking.
    FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
    const size_t want = target.children.size();
    if (items.size() > want) {
      return InvalidArgument("too many values to unpack (expected " + std::to_string(want) + ")");
    }
    if (items.size() < want) {
      return InvalidArgument("not enough values to unpack (expected " + std::to_string(want) +
                             ", got " + std::to_string(items.size()) + ")");
    }
    for (size_t i = 0; i < want; ++i) {
      FOUNDRY_RETURN_IF_ERROR(AssignTarget(*target.children[i], std::move(items[i])));
    }
    return OkStatus();
  }

  Status ExecFor(const Node& n) {
    FOUNDRY_ASSIGN_OR_RETURN(Value seq, Eval(*n.expr));
    FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(seq));
    if (n.filter) {
      std::vector<Value> kept;
      for (Value& item : items) {
        FOUNDRY_RETURN_IF_ERROR(CountIteration());
        scopes_.push_back(std::make_shared<Scope>());
        Status st = AssignTarget(*n.target, item);
        StatusOr<Value> keep = st.ok() ? Eval(*n.filter) : StatusOr<Value>(st);
        scopes_.pop_back();
        if (!keep.ok()) return keep.status();
        if (keep->Truthy()) kept.push_back(std::move(item));
      }
      items = std::move(kept);
    }
    if (items.empty()) return ExecBody(n.else_body);
    const int64_t len = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < len; ++i) {
      FOUNDRY_RETURN_IF_ERROR(CountIteration());
      Value loop = Value::MakeDict();
      loop.Set("index0", Value::Int(i));
      loop.Set("index", Value::Int(i + 1));
      loop.Set("revindex0", Value::Int(len - i - 1));
      loop.Set("revindex", Value::Int(len - i));
      loop.Set("first", Value::Bool(i == 0));
      loop.Set("last", Value::Bool(i == len - 1));
      loop.Set("length", Value::Int(len));
      loop.Set("depth", Value::Int(1));
      loop.Set("depth0", Value::Int(0));
      loop.Set("previtem", i > 0 ? items[static_cast<size_t>(i - 1)]
                                 : Value::Undefined("there is no previous item"));
      loop.Set("nextitem", i + 1 < len ? items[static_cast<size_t>(i + 1)]
                                       : Value::Undefined("there is no next item"));
      loop.Set("cycle", MakeFn("cycle", [i](CallArgs& a) -> StatusOr<Value> {
                 if (a.positional.empty()) return InvalidArgument("no items for cycling given");
                 return a.positional[static_cast<size_t>(i) % a.positional.size()];
               }));
      scopes_.push_back(std::make_shared<Scope>());
      (*scopes_.back())["loop"] = std::move(loop);
      Status st = AssignTarget(*n.target, items[static_cast<size_t>(i)]);
      if (st.ok()) st = ExecBody(n.body);
      scopes_.pop_back();
      FOUNDRY_RETURN_IF_ERROR(st);
      if (ctl_ == Ctl::kBreak) {
        ctl_ = Ctl::kNone;
        break;
      }
      ctl_ = Ctl::kNone;
    }
    return OkStatus();
  }

  Value MakeMacro(const Node& n);

  Status ExecCallBlock(const Node& n) {
    const Expr& call = *n.expr;
    FOUNDRY_ASSIGN_OR_RETURN(Value callee, Eval(*call.children[0]));
    FOUNDRY_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(call, 1));
    Value caller = MakeMacro(n);
    args.kwargs.emplace_back("caller", caller);
    FOUNDRY_ASSIGN_OR_RETURN(Value v, CallValue(callee, args));
    FOUNDRY_ASSIGN_OR_RETURN(std::string s, Str(v));
    return Emit(s);
  }

  // ---- expressions ----
  StatusOr<CallArgs> EvalArgs(const Expr& e, size_t first) {
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

  StatusOr<Value> Eval(const Expr& e) {
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
        return NewList(std::move(items), e.kind == Expr::Kind::kTuple);
      }
      case Expr::Kind::kDict: {
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
        if (d.Depth() > 500) return OutOfRange("chat template value nested too deeply");
        return d;
      }
      case Expr::Kind::kGetAttr: {
        FOUNDRY_ASSIGN_OR_RETURN(Value obj, Eval(*e.children[0]));
        return GetAttr(obj, e.name);
      }
      case Expr::Kind::kGetItem: {
        FOUNDRY_ASSIGN_OR_RETURN(Value obj, Eval(*e.children[0]));
        FOUNDRY_ASSIGN_OR_RETURN(Value key, Eval(*e.children[1]));
        return GetItem(obj, key);
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
        return ApplyFilter(e.name, std::move(in), args);
      }
      case Expr::Kind::kTest: {
        FOUNDRY_ASSIGN_OR_RETURN(Value in, Eval(*e.children[0]));
        FOUNDRY_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e, 1));
        FOUNDRY_ASSIGN_OR_RETURN(bool r, ApplyTest(e.name, in, args));
        return Value::Bool(r != e.negated);
      }
      case Expr::Kind::kUnary: {
        FOUNDRY_ASSIGN_OR_RETURN(Value v, Eval(*e.children[0]));
        if (e.name == "not") return Value::Bool(!v.Truthy());
        if (v.IsUndefined()) return UndefinedError(v);
        if (!v.IsNumber()) {
          return InvalidArgument("bad operand type for unary " + e.name + ": '" + v.TypeName() +
                                 "'");
        }
        if (e.name == "+") return v.IsFloat() ? v : Value::Int(v.AsInt());
        if (v.IsFloat()) return Value::Float(-v.AsDouble());
        if (v.AsInt() == INT64_MIN) return OutOfRange("integer overflow");
        return Value::Int(-v.AsInt());
      }
      case Expr::Kind::kBinary: {
        FOUNDRY_ASSIGN_OR_RETURN(Value l, Eval(*e.children[0]));
        if (e.name == "and") {
          if (!l.Truthy()) return l;
          return Eval(*e.children[1]);
        }
        if (e.name == "or") {
          if (l.Truthy()) return l;
          return Eval(*e.children[1]);
        }
        FOUNDRY_ASSIGN_OR_RETURN(Value r, Eval(*e.children[1]));
        return BinaryOp(e.name, l, r);
      }
      case Expr::Kind::kCompare: {
        FOUNDRY_ASSIGN_OR_RETURN(Value l, Eval(*e.children[0]));
        for (size_t i = 0; i < e.ops.size(); ++i) {
          FOUNDRY_ASSIGN_OR_RETURN(Value r, Eval(*e.children[i + 1]));
          FOUNDRY_ASSIGN_OR_RETURN(bool ok, Compare(e.ops[i], l, r));
          if (!ok) return Value::Bool(false);
          l = std::move(r);
        }
        return Value::Bool(true);
      }
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

  StatusOr<Value> CallValue(const Value& callee, CallArgs& args) {
    if (callee.IsUndefined()) return UndefinedError(callee);
    if (!callee.IsCallable()) {
      return InvalidArgument("'" + callee.TypeName() + "' object is not callable");
    }
    return callee.AsCallable().Call(args);
  }

  StatusOr<std::optional<int64_t>> SliceIndex(const Expr* e) {
    if (e == nullptr) return std::optional<int64_t>();
    FOUNDRY_ASSIGN_OR_RETURN(Value v, Eval(*e));
    if (v.IsNone()) return std::optional<int64_t>();
    if (!v.IsInt() && !v.IsBool()) {
      return InvalidArgument("slice indices must be integers or None or have an __index__ method");
    }
    return std::optional<int64_t>(v.AsInt());
  }

  StatusOr<Value> EvalSlice(const Expr& e) {
    FOUNDRY_ASSIGN_OR_RETURN(Value obj, Eval(*e.children[0]));
    FOUNDRY_ASSIGN_OR_RETURN(auto a, SliceIndex(e.children[1].get()));
    FOUNDRY_ASSIGN_OR_RETURN(auto b, SliceIndex(e.children[2].get()));
    FOUNDRY_ASSIGN_OR_RETURN(auto s, SliceIndex(e.children[3].get()));
    const int64_t step = s ? *s : 1;
    if (step == 0) return InvalidArgument("slice step cannot be zero");
    if (obj.IsUndefined()) return UndefinedError(obj);
    if (obj.IsString()) {
      const std::vector<uint32_t> cps = DecodeUtf8(obj.AsString());
      const SliceIdx r = ResolveSlice(static_cast<int64_t>(cps.size()), a, b, step);
      std::vector<uint32_t> out;
      for (int64_t i = r.start; step > 0 ? i < r.stop : i > r.stop; i += step) {
        out.push_back(cps[static_cast<size_t>(i)]);
      }
      return Value::String(EncodeUtf8(out, 0, out.size()));
    }
    if (obj.IsList()) {
      const auto& items = obj.Items();
      const SliceIdx r = ResolveSlice(static_cast<int64_t>(items.size()), a, b, step);
      std::vector<Value> out;
      for (int64_t i = r.start; step > 0 ? i < r.stop : i > r.stop; i += step) {
        out.push_back(items[static_cast<size_t>(i)]);
      }
      return NewList(std::move(out), obj.IsTuple());
    }
    return Value::Undefined(TypeRepr(obj) + " has no element slice");
  }

  // ---- attribute and item access ----
  StatusOr<Value> GetAttr(const Value& obj, const std::string& name);
  StatusOr<Value> GetItem(const Value& obj, const Value& key);
  StatusOr<Value> StringMethod(const Value& obj, const std::string& name);

  // ---- operators ----
  StatusOr<Value> BinaryOp(const std::string& op, const Value& l, const Value& r);
  StatusOr<bool> Compare(const std::string& op, const Value& l, const Value& r);
  StatusOr<bool> Contains(const Value& container, const Value& item);
  StatusOr<int> Order(const std::string& op, const Value& l, const Value& r);

  StatusOr<std::vector<Value>> Iterate(const Value& v) {
    if (v.IsList()) return v.Items();
    if (v.IsUndefined()) return std::vector<Value>();
    if (v.IsDict()) {
      std::vector<Value> keys;
      for (const auto& kv : v.AsDict().items) keys.push_back(kv.first);
      return keys;
    }
    if (v.IsString()) {
      const std::vector<uint32_t> cps = DecodeUtf8(v.AsString());
      std::vector<Value> out;
      for (size_t i = 0; i < cps.size(); ++i)
        out.push_back(Value::String(EncodeUtf8(cps, i, i + 1)));
      return out;
    }
    return InvalidArgument("'" + v.TypeName() + "' object is not iterable");
  }

  // ---- filters and tests ----
  StatusOr<Value> ApplyFilter(const std::string& name, Value in, CallArgs& args);
  StatusOr<bool> ApplyTest(const std::string& name, const Value& v, const CallArgs& args);
  StatusOr<Value> SelectOrReject(const Value& in, CallArgs& args, bool select, bool attr);
  StatusOr<Value> ToJson(const Value& v, const CallArgs& args);

  void InstallBuiltins();

  const RenderOptions& options_;
  const RenderLimits& limits_;
  std::unordered_map<std::string, Value> globals_;
  std::vector<std::shared_ptr<Scope>> scopes_;
  std::vector<Value> namespaces_;
  std::string out_;
  Ctl ctl_ = Ctl::kNone;
  int depth_ = 0;
  int macro_depth_ = 0;
  int64_t iterations_ = 0;
  uint64_t work_ = 0;
};

// ---------------------------------------------------------------------------------------
// Macros

class MacroFn : public Callable {
 public:
  MacroFn(Interpreter* in, const Node* node) : in_(in), node_(node) {}
  StatusOr<Value> Call(CallArgs& args) override {
    Value caller;
    for (auto it = args.kwargs.begin(); it != args.kwargs.end(); ++it) {
      if (it->first == "caller") {
        caller = it->second;
        args.kwargs.erase(it);
        break;
      }
    }
    return in_->CallMacro(*node_, args, caller);
  }
  std::string_view Name() const override { return node_->text; }

 private:
  Interpreter* in_;
  const Node* node_;
};

Value Interpreter::MakeMacro(const Node& n) {
  return Value::Function(std::make_shared<MacroFn>(this, &n));
}

StatusOr<Value> Interpreter::CallMacro(const Node& macro, CallArgs& args, Value caller) {
  if (macro_depth_ >= limits_.max_macro_depth) {
    return OutOfRange("chat template macro recursion exceeds the depth limit");
  }
  const std::string name = macro.kind == Node::Kind::kMacro ? macro.text : "caller";
  if (args.positional.size() > macro.params.size()) {
    return InvalidArgument("macro '" + name + "' takes not more than " +
                           std::to_string(macro.params.size()) + " argument(s)");
  }
  auto scope = std::make_shared<Scope>();
  std::vector<std::shared_ptr<Scope>> saved = {scopes_.front(), scope};
  std::swap(saved, scopes_);
  struct Restore {
    Interpreter* in;
    std::vector<std::shared_ptr<Scope>>* saved;
    ~Restore() { std::swap(*saved, in->scopes_); }
  } restore{this, &saved};
  for (const auto& [k, v] : args.kwargs) {
    bool known = false;
    for (const auto& p : macro.params) known = known || p.first == k;
    if (!known) {
      return InvalidArgument("macro '" + name + "' takes no keyword argument '" + k + "'");
    }
  }
  for (size_t i = 0; i < macro.params.size(); ++i) {
    const auto& [pname, def] = macro.params[i];
    const Value* given = i < args.positional.size() ? &args.positional[i] : nullptr;
    for (const auto& [k, v] : args.kwargs) {
      if (k == pname) given = &v;
    }
    if (given != nullptr) {
      (*scope)[pname] = *given;
    } else if (def) {
      FOUNDRY_ASSIGN_OR_RETURN(Value v, Eval(*def));
      (*scope)[pname] = std::move(v);
    } else {
      (*scope)[pname] = Value::Undefined("parameter " + QuoteRepr(pname) + " was not provided");
    }
  }
  if (!caller.IsUndefined()) (*scope)["caller"] = caller;
  ++macro_depth_;
  const Ctl saved_ctl = ctl_;
  ctl_ = Ctl::kNone;
  StatusOr<std::string> body = Capture(macro.body);
  ctl_ = saved_ctl;
  --macro_depth_;
  if (!body.ok()) return body.status();
  return Value::String(std::move(*body));
}

// ---------------------------------------------------------------------------------------
// Attribute and item access

StatusOr<Value> Interpreter::GetAttr(const Value& obj, const std::string& name) {
  switch (obj.kind()) {
    case Value::Kind::kUndefined:
      return UndefinedError(obj);
    case Value::Kind::kDict: {
      if (name == "items" || name == "keys" || name == "values" || name == "get") {
        Value self = obj;
        return MakeFn(name, [this, self, name](CallArgs& a) -> StatusOr<Value> {
          const Dict& d = self.AsDict();
          if (name == "get") {
            const Value* key = Arg(a, 0, "key");
            if (key == nullptr) return InvalidArgument("get expected at least 1 argument, got 0");
            const Value* found = d.Find(*key);
            if (found != nullptr) return *found;
            const Value* def = Arg(a, 1, "default");
            return def != nullptr ? *def : Value::None();
          }
          std::vector<Value> out;
          for (const auto& [k, v] : d.items) {
            if (name == "items") {
              out.push_back(Value::MakeList({k, v}, true));
            } else {
              out.push_back(name == "keys" ? k : v);
            }
          }
          return NewList(std::move(out));
        });
      }
      if (name == "pop" || name == "popitem" || name == "setdefault" || name == "update" ||
          name == "clear") {
        return InvalidArgument("access to attribute '" + name + "' of 'dict' object is unsafe.");
      }
      const Value* v = obj.AsDict().Find(std::string_view(name));
      if (v != nullptr) return *v;
      return NoAttribute(obj, name);
    }
    case Value::Kind::kNamespace: {
      const Value* v = obj.AsDict().Find(std::string_view(name));
      if (v != nullptr) return *v;
      return NoAttribute(obj, name);
    }
    case Value::Kind::kString:
      return StringMethod(obj, name);
    case Value::Kind::kList:
      if (name == "append" || name == "pop" || name == "insert" || name == "extend" ||
          name == "remove" || name == "clear" || name == "sort" || name == "reverse") {
        return InvalidArgument("access to attribute '" + name + "' of '" + obj.TypeName() +
                               "' object is unsafe.");
      }
      if (name == "index" || name == "count") {
        Value self = obj;
        return MakeFn(name, [self, name](CallArgs& a) -> StatusOr<Value> {
          const Value* x = Arg(a, 0, "value");
          if (x == nullptr)
            return InvalidArgument(name + "() takes exactly one argument (0 given)");
          int64_t count = 0;
          const auto& items = self.Items();
          for (size_t i = 0; i < items.size(); ++i) {
            if (Equal(items[i], *x)) {
              if (name == "index") return Value::Int(static_cast<int64_t>(i));
              ++count;
            }
          }
          if (name == "index") return InvalidArgument("list.index(x): x not in list");
          return Value::Int(count);
        });
      }
      return NoAttribute(obj, name);
    default:
      return NoAttribute(obj, name);
  }
}

StatusOr<Value> Interpreter::GetItem(const Value& obj, const Value& key) {
  if (obj.IsUndefined()) return UndefinedError(obj);
  if (obj.IsDict()) {
    const Value* v = obj.AsDict().Find(key);
    if (v != nullptr) return *v;
  } else if ((obj.IsList() || obj.IsString()) && (key.IsInt() || key.IsBool())) {
    int64_t i = key.AsInt();
    if (obj.IsList()) {
      const int64_t n = static_cast<int64_t>(obj.Items().size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return obj.Items()[static_cast<size_t>(i)];
    } else {
      const std::vector<uint32_t> cps = DecodeUtf8(obj.AsString());
      const int64_t n = static_cast<int64_t>(cps.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) {
        return Value::String(EncodeUtf8(cps, static_cast<size_t>(i), static_cast<size_t>(i) + 1));
      }
    }
    return Value::Undefined(TypeRepr(obj) + " has no element " + KeyRepr(key));
  }
  if (key.IsString()) return GetAttr(obj, key.AsString());
  if (key.IsUndefined()) return Value::Undefined(TypeRepr(obj) + " has no element Undefined");
  return Value::Undefined(TypeRepr(obj) + " has no element " + KeyRepr(key));
}

StatusOr<Value> Interpreter::StringMethod(const Value& obj, const std::string& name) {
  static const char* const kMethods[] = {
      "split",   "strip",   "lstrip",     "rstrip",  "startswith", "endswith",   "upper",
      "lower",   "title",   "capitalize", "replace", "find",       "count",      "join",
      "isdigit", "isalpha", "isspace",    "isupper", "islower",    "splitlines", "rsplit"};
  bool known = false;
  for (const char* m : kMethods) known = known || name == m;
  if (!known) return NoAttribute(obj, name);
  Value self = obj;
  return MakeFn(name, [this, self, name](CallArgs& a) -> StatusOr<Value> {
    const std::string& s = self.AsString();
    auto str_arg = [&](size_t i, const char* kw, std::optional<std::string>& out) -> Status {
      const Value* v = Arg(a, i, kw);
      if (v == nullptr || v->IsNone()) return OkStatus();
      if (!v->IsString()) {
        return InvalidArgument(name + " arg must be None or str");
      }
      out = v->AsString();
      return OkStatus();
    };
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
      std::optional<std::string> chars;
      FOUNDRY_RETURN_IF_ERROR(str_arg(0, "chars", chars));
      return Value::String(Strip(s, chars ? &*chars : nullptr, name != "rstrip", name != "lstrip"));
    }
    if (name == "upper") return Value::String(ToUpper(s));
    if (name == "lower") return Value::String(ToLower(s));
    if (name == "title") return Value::String(PyTitle(s));
    if (name == "capitalize") return Value::String(Capitalize(s));
    if (name == "isdigit" || name == "isalpha" || name == "isspace" || name == "isupper" ||
        name == "islower") {
      if (s.empty()) return Value::Bool(false);
      bool all = true, cased = false;
      for (char c : s) {
        if (name == "isdigit") all = all && c >= '0' && c <= '9';
        if (name == "isalpha") all = all && IsAlpha(c);
        if (name == "isspace") all = all && PySpace(static_cast<unsigned char>(c));
        if (name == "isupper") {
          all = all && !(c >= 'a' && c <= 'z');
          cased = cased || (c >= 'A' && c <= 'Z');
        }
        if (name == "islower") {
          all = all && !(c >= 'A' && c <= 'Z');
          cased = cased || (c >= 'a' && c <= 'z');
        }
      }
      if (name == "isupper" || name == "islower") all = all && cased;
      return Value::Bool(all);
    }
    if (name == "startswith" || name == "endswith") {
      const Value* p = Arg(a, 0, "prefix");
      if (p == nullptr) return InvalidArgument(name + "() takes at least 1 argument (0 given)");
      std::vector<std::string> options;
      if (p->IsString()) {
        options.push_back(p->AsString());
      } else if (p->IsTuple()) {
        for (const Value& x : p->Items()) {
          if (!x.IsString()) {
            return InvalidArgument("tuple for " + name + " must only contain str, not " +
                                   x.TypeName());
          }
          options.push_back(x.AsString());
        }
      } else {
        return InvalidArgument(name + " first arg must be str or a tuple of str, not " +
                               p->TypeName());
      }
      for (const std::string& o : options) {
        if (name == "startswith"
                ? s.compare(0, o.size(), o) == 0 && s.size() >= o.size()
                : s.size() >= o.size() && s.compare(s.size() - o.size(), o.size(), o) == 0) {
          return Value::Bool(true);
        }
      }
      return Value::Bool(false);
    }
    if (name == "replace") {
      const Value* from = Arg(a, 0, "old");
      const Value* to = Arg(a, 1, "new");
      const Value* count = Arg(a, 2, "count");
      if (from == nullptr || to == nullptr || !from->IsString() || !to->IsString()) {
        return InvalidArgument("replace() arguments must be str");
      }
      int64_t c = -1;
      if (count != nullptr) {
        if (!count->IsInt()) return InvalidArgument("replace() count must be an integer");
        c = count->AsInt();
      }
      std::string r = Replace(s, from->AsString(), to->AsString(), c);
      FOUNDRY_RETURN_IF_ERROR(Charge(r.size()));
      return Value::String(std::move(r));
    }
    if (name == "find" || name == "count") {
      const Value* sub = Arg(a, 0, "sub");
      if (sub == nullptr || !sub->IsString()) {
        return InvalidArgument("must be str, not " + (sub ? sub->TypeName() : "nothing"));
      }
      const std::string& t = sub->AsString();
      if (name == "find") {
        const size_t f = s.find(t);
        if (f == std::string::npos) return Value::Int(-1);
        return Value::Int(static_cast<int64_t>(Utf8Length(std::string_view(s).substr(0, f))));
      }
      if (t.empty()) return Value::Int(static_cast<int64_t>(Utf8Length(s)) + 1);
      int64_t n = 0;
      for (size_t p = s.find(t); p != std::string::npos; p = s.find(t, p + t.size())) ++n;
      return Value::Int(n);
    }
    if (name == "join") {
      const Value* seq = Arg(a, 0, "iterable");
      if (seq == nullptr) return InvalidArgument("join() takes exactly one argument (0 given)");
      FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(*seq));
      std::string out;
      for (size_t i = 0; i < items.size(); ++i) {
        if (!items[i].IsString()) {
          return InvalidArgument("sequence item " + std::to_string(i) +
                                 ": expected str instance, " + items[i].TypeName() + " found");
        }
        if (i > 0) out += s;
        out += items[i].AsString();
        FOUNDRY_RETURN_IF_ERROR(Charge(items[i].AsString().size() + s.size()));
      }
      return Value::String(std::move(out));
    }
    if (name == "splitlines") {
      std::vector<Value> out;
      size_t start = 0;
      for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\n' || s[i] == '\r') {
          out.push_back(Value::String(s.substr(start, i - start)));
          if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
          start = i + 1;
        }
      }
      if (start < s.size()) out.push_back(Value::String(s.substr(start)));
      return NewList(std::move(out));
    }
    // split / rsplit
    std::optional<std::string> sep;
    FOUNDRY_RETURN_IF_ERROR(str_arg(0, "sep", sep));
    int64_t maxsplit = -1;
    if (const Value* m = Arg(a, 1, "maxsplit"); m != nullptr) {
      if (!m->IsInt()) return InvalidArgument("maxsplit must be an integer");
      maxsplit = m->AsInt();
    }
    if (sep && sep->empty()) return InvalidArgument("empty separator");
    std::vector<std::string> parts;
    const bool reverse = name == "rsplit";
    if (sep) {
      if (!reverse) {
        size_t pos = 0;
        while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
          const size_t f = s.find(*sep, pos);
          if (f == std::string::npos) break;
          parts.push_back(s.substr(pos, f - pos));
          pos = f + sep->size();
        }
        parts.push_back(s.substr(pos));
      } else {
        size_t end = s.size();
        std::vector<std::string> rev;
        while (maxsplit < 0 || static_cast<int64_t>(rev.size()) < maxsplit) {
          if (end < sep->size()) break;
          const size_t f = s.rfind(*sep, end - sep->size());
          if (f == std::string::npos) break;
          rev.push_back(s.substr(f + sep->size(), end - f - sep->size()));
          end = f;
        }
        rev.push_back(s.substr(0, end));
        parts.assign(rev.rbegin(), rev.rend());
      }
    } else {
      const std::vector<uint32_t> cps = DecodeUtf8(s);
      if (!reverse) {
        size_t i = 0;
        while (true) {
          while (i < cps.size() && PySpace(cps[i])) ++i;
          if (i >= cps.size()) break;
          if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) >= maxsplit) {
            size_t e = cps.size();
            while (e > i && PySpace(cps[e - 1])) --e;
            parts.push_back(EncodeUtf8(cps, i, e));
            break;
          }
          size_t j = i;
          while (j < cps.size() && !PySpace(cps[j])) ++j;
          parts.push_back(EncodeUtf8(cps, i, j));
          i = j;
        }
      } else {
        size_t i = cps.size();
        std::vector<std::string> rev;
        while (true) {
          while (i > 0 && PySpace(cps[i - 1])) --i;
          if (i == 0) break;
          if (maxsplit >= 0 && static_cast<int64_t>(rev.size()) >= maxsplit) {
            size_t b = 0;
            while (b < i && PySpace(cps[b])) ++b;
            rev.push_back(EncodeUtf8(cps, b, i));
            break;
          }
          size_t j = i;
          while (j > 0 && !PySpace(cps[j - 1])) --j;
          rev.push_back(EncodeUtf8(cps, j, i));
          i = j;
        }
        parts.assign(rev.rbegin(), rev.rend());
      }
    }
    std::vector<Value> out;
    for (auto& p : parts) out.push_back(Value::String(std::move(p)));
    FOUNDRY_RETURN_IF_ERROR(Charge(s.size()));
    return NewList(std::move(out));
  });
}

// ---------------------------------------------------------------------------------------
// Operators

std::string OperandTypes(const std::string& op, const Value& l, const Value& r) {
  return "unsupported operand type(s) for " + op + ": '" + l.TypeName() + "' and '" + r.TypeName() +
         "'";
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

StatusOr<Value> Interpreter::BinaryOp(const std::string& op, const Value& l, const Value& r) {
  if (op == "~") {
    FOUNDRY_ASSIGN_OR_RETURN(std::string a, Str(l));
    FOUNDRY_ASSIGN_OR_RETURN(std::string b, Str(r));
    FOUNDRY_RETURN_IF_ERROR(Charge(a.size() + b.size()));
    return Value::String(a + b);
  }
  if (l.IsUndefined()) return UndefinedError(l);
  if (r.IsUndefined()) return UndefinedError(r);
  const bool nums = l.IsNumber() && r.IsNumber();
  const bool ints = nums && !l.IsFloat() && !r.IsFloat();
  if (op == "+") {
    if (ints) {
      int64_t out;
      if (__builtin_add_overflow(l.AsInt(), r.AsInt(), &out)) return OutOfRange("integer overflow");
      return Value::Int(out);
    }
    if (nums) return Value::Float(l.AsDouble() + r.AsDouble());
    if (l.IsString() && r.IsString()) {
      FOUNDRY_RETURN_IF_ERROR(Charge(l.AsString().size() + r.AsString().size()));
      return Value::String(l.AsString() + r.AsString());
    }
    if (l.IsList() && r.IsList() && l.IsTuple() == r.IsTuple()) {
      std::vector<Value> items = l.Items();
      items.insert(items.end(), r.Items().begin(), r.Items().end());
      return NewList(std::move(items), l.IsTuple());
    }
    if (l.IsString() || l.IsList()) {
      return InvalidArgument("can only concatenate " + l.TypeName() + " (not \"" + r.TypeName() +
                             "\") to " + l.TypeName());
    }
    return InvalidArgument(OperandTypes(op, l, r));
  }
  if (op == "-") {
    if (ints) {
      int64_t out;
      if (__builtin_sub_overflow(l.AsInt(), r.AsInt(), &out)) return OutOfRange("integer overflow");
      return Value::Int(out);
    }
    if (nums) return Value::Float(l.AsDouble() - r.AsDouble());
    return InvalidArgument(OperandTypes(op, l, r));
  }
  if (op == "*") {
    if (ints) {
      int64_t out;
      if (__builtin_mul_overflow(l.AsInt(), r.AsInt(), &out)) return OutOfRange("integer overflow");
      return Value::Int(out);
    }
    if (nums) return Value::Float(l.AsDouble() * r.AsDouble());
    const Value* seq =
        (l.IsString() || l.IsList()) ? &l : ((r.IsString() || r.IsList()) ? &r : nullptr);
    const Value* cnt = seq == &l ? &r : &l;
    if (seq != nullptr && (cnt->IsInt() || cnt->IsBool())) {
      const int64_t n = std::max<int64_t>(0, cnt->AsInt());
      if (seq->IsString()) {
        const size_t unit = seq->AsString().size();
        if (unit != 0 && static_cast<uint64_t>(n) > limits_.max_output_bytes / unit) {
          return OutOfRange("chat template value exceeds the size limit");
        }
        FOUNDRY_RETURN_IF_ERROR(Charge(unit * static_cast<size_t>(n)));
        std::string out;
        for (int64_t i = 0; i < n; ++i) out += seq->AsString();
        return Value::String(std::move(out));
      }
      const size_t unit = seq->Items().size();
      if (unit != 0 &&
          static_cast<uint64_t>(n) > static_cast<uint64_t>(limits_.max_loop_iterations) / unit) {
        return OutOfRange("chat template list exceeds the size limit");
      }
      std::vector<Value> out;
      for (int64_t i = 0; i < n; ++i)
        out.insert(out.end(), seq->Items().begin(), seq->Items().end());
      return NewList(std::move(out), seq->IsTuple());
    }
    if (seq != nullptr) {
      return InvalidArgument("can't multiply sequence by non-int of type '" + cnt->TypeName() +
                             "'");
    }
    return InvalidArgument(OperandTypes(op, l, r));
  }
  if (op == "/") {
    if (!nums) return InvalidArgument(OperandTypes(op, l, r));
    if (r.AsDouble() == 0) return InvalidArgument("division by zero");
    return Value::Float(l.AsDouble() / r.AsDouble());
  }
  if (op == "//" || op == "%") {
    if (!nums) {
      if (op == "%" && l.IsString()) {
        return Unimplemented("printf-style string formatting ('%') is not supported");
      }
      return InvalidArgument(OperandTypes(op, l, r));
    }
    if (ints) {
      if (r.AsInt() == 0) return InvalidArgument("integer division or modulo by zero");
      if (l.AsInt() == INT64_MIN && r.AsInt() == -1) {
        if (op == "%") return Value::Int(0);
        return OutOfRange("integer overflow");
      }
      const int64_t q = FloorDiv(l.AsInt(), r.AsInt());
      if (op == "//") return Value::Int(q);
      return Value::Int(l.AsInt() - q * r.AsInt());
    }
    const double a = l.AsDouble(), b = r.AsDouble();
    if (b == 0) {
      return InvalidArgument(op == "//" ? "float floor division by zero" : "float modulo");
    }
    if (op == "//") return Value::Float(std::floor(a / b));
    double m = std::fmod(a, b);
    if (m != 0 && ((m < 0) != (b < 0))) m += b;
    return Value::Float(m);
  }
  if (op == "**") {
    if (!nums)
      return InvalidArgument("unsupported operand type(s) for ** or pow(): '" + l.TypeName() +
                             "' and '" + r.TypeName() + "'");
    if (ints && r.AsInt() >= 0) {
      int64_t result = 1, base = l.AsInt(), e = r.AsInt();
      while (e > 0) {
        if (e & 1) {
          if (__builtin_mul_overflow(result, base, &result)) return OutOfRange("integer overflow");
        }
        e >>= 1;
        if (e > 0 && __builtin_mul_overflow(base, base, &base))
          return OutOfRange("integer overflow");
      }
      return Value::Int(result);
    }
    if (l.AsDouble() == 0 && r.AsDouble() < 0) {
      return InvalidArgument("0.0 cannot be raised to a negative power");
    }
    return Value::Float(std::pow(l.AsDouble(), r.AsDouble()));
  }
  return Internal("unknown operator " + op);
}

// -1, 0, 1 for l <=> r under Python ordering, or a TypeError.
StatusOr<int> Interpreter::Order(const std::string& op, const Value& l, const Value& r) {
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
  return InvalidArgument("'" + op + "' not supported between instances of '" + l.TypeName() +
                         "' and '" + r.TypeName() + "'");
}

StatusOr<bool> Interpreter::Contains(const Value& c, const Value& item) {
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

StatusOr<bool> Interpreter::Compare(const std::string& op, const Value& l, const Value& r) {
  if (op == "==") return Equal(l, r);
  if (op == "!=") return !Equal(l, r);
  if (op == "in") return Contains(r, l);
  if (op == "not in") {
    FOUNDRY_ASSIGN_OR_RETURN(bool in, Contains(r, l));
    return !in;
  }
  FOUNDRY_ASSIGN_OR_RETURN(int c, Order(op, l, r));
  if (c == 2) return false;
  if (op == "<") return c < 0;
  if (op == ">") return c > 0;
  if (op == "<=") return c <= 0;
  if (op == ">=") return c >= 0;
  return Internal("unknown comparison " + op);
}

// ---------------------------------------------------------------------------------------
// Tests

StatusOr<bool> Interpreter::ApplyTest(const std::string& name, const Value& v,
                                      const CallArgs& args) {
  const Value* arg = Arg(args, 0, "other");
  auto need_arg = [&]() -> Status {
    if (arg == nullptr) return InvalidArgument("test '" + name + "' needs an argument");
    return OkStatus();
  };
  if (name == "defined") return !v.IsUndefined();
  if (name == "undefined") return v.IsUndefined();
  if (name == "none") return v.IsNone();
  if (name == "true") return v.IsBool() && v.AsBool();
  if (name == "false") return v.IsBool() && !v.AsBool();
  if (name == "boolean") return v.IsBool();
  if (name == "integer") return v.IsInt();
  if (name == "float") return v.IsFloat();
  if (name == "number") return v.IsNumber();
  if (name == "string") return v.IsString();
  if (name == "mapping") return v.IsDict();
  if (name == "iterable") return v.IsString() || v.IsList() || v.IsDict() || v.IsUndefined();
  if (name == "sequence") return v.IsString() || v.IsList() || v.IsDict();
  if (name == "callable") return v.IsCallable();
  if (name == "escaped") return false;
  if (name == "lower" || name == "upper") {
    FOUNDRY_ASSIGN_OR_RETURN(std::string s, Str(v));
    return name == "lower" ? ToLower(s) == s : ToUpper(s) == s;
  }
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (!v.IsNumber() || v.IsFloat()) {
      if (v.IsUndefined()) return UndefinedError(v);
      if (!v.IsFloat())
        return InvalidArgument("unsupported operand type(s) for %: '" + v.TypeName() +
                               "' and 'int'");
    }
    if (name == "divisibleby") {
      FOUNDRY_RETURN_IF_ERROR(need_arg());
      FOUNDRY_ASSIGN_OR_RETURN(Value m, BinaryOp("%", v, *arg));
      return !m.Truthy();
    }
    FOUNDRY_ASSIGN_OR_RETURN(Value m, BinaryOp("%", v, Value::Int(2)));
    return (name == "odd") == m.Truthy();
  }
  static const std::pair<const char*, const char*> kCompareTests[] = {
      {"eq", "=="}, {"equalto", "=="},    {"==", "=="}, {"ne", "!="}, {"!=", "!="},
      {"lt", "<"},  {"lessthan", "<"},    {"<", "<"},   {"le", "<="}, {"<=", "<="},
      {"gt", ">"},  {"greaterthan", ">"}, {">", ">"},   {"ge", ">="}, {">=", ">="},
  };
  for (const auto& [t, op] : kCompareTests) {
    if (name == t) {
      FOUNDRY_RETURN_IF_ERROR(need_arg());
      return Compare(op, v, *arg);
    }
  }
  if (name == "in") {
    const Value* seq = Arg(args, 0, "seq");
    if (seq == nullptr) return InvalidArgument("test 'in' needs an argument");
    return Contains(*seq, v);
  }
  if (name == "sameas") {
    FOUNDRY_RETURN_IF_ERROR(need_arg());
    if (v.kind() != arg->kind()) return false;
    if (v.IsNone() || v.IsUndefined()) return v.kind() == arg->kind();
    if (v.IsBool()) return v.AsBool() == arg->AsBool();
    if (v.IsList() || v.IsDict() || v.IsNamespace() || v.IsCallable())
      return Equal(v, *arg) && v.Depth() == arg->Depth();
    return Equal(v, *arg);
  }
  return InvalidArgument("No test named " + QuoteRepr(name) + ".");
}

// ---------------------------------------------------------------------------------------
// Filters

StatusOr<Value> Interpreter::ToJson(const Value& v, const CallArgs& args) {
  // transformers: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
  int indent = -1;
  const Value* ind = Arg(args, 1, "indent");
  if (ind != nullptr && !ind->IsNone()) {
    if (!ind->IsInt()) return Unimplemented("tojson: only integer indent is supported");
    indent = static_cast<int>(std::clamp<int64_t>(ind->AsInt(), 0, 64));
  }
  const Value* ea = Arg(args, 0, "ensure_ascii");
  const Value* sep = Arg(args, 2, "separators");
  if (sep != nullptr && !sep->IsNone())
    return Unimplemented("tojson: separators are not supported");
  const Value* sk = Arg(args, 3, "sort_keys");
  Value src = v;
  if (sk != nullptr && sk->Truthy()) {
    std::function<StatusOr<Value>(const Value&, int)> sorted = [&](const Value& x,
                                                                   int d) -> StatusOr<Value> {
      if (x.IsList()) {
        std::vector<Value> items;
        for (const Value& i : x.Items()) {
          FOUNDRY_ASSIGN_OR_RETURN(Value s, sorted(i, d + 1));
          items.push_back(std::move(s));
        }
        return Value::MakeList(std::move(items), x.IsTuple());
      }
      if (!x.IsDict()) return x;
      std::vector<std::pair<Value, Value>> items = x.AsDict().items;
      Status err;
      std::stable_sort(items.begin(), items.end(), [&](const auto& a, const auto& b) {
        auto o = Order("<", a.first, b.first);
        if (!o.ok()) {
          err = o.status();
          return false;
        }
        return *o < 0;
      });
      FOUNDRY_RETURN_IF_ERROR(err);
      Value out = Value::MakeDict();
      for (auto& [k, val] : items) {
        FOUNDRY_ASSIGN_OR_RETURN(Value s, sorted(val, d + 1));
        out.MutableDict().items.emplace_back(k, std::move(s));
      }
      out.SetDepth(x.Depth());
      return out;
    };
    FOUNDRY_ASSIGN_OR_RETURN(src, sorted(v, 0));
  }
  std::string out;
  FOUNDRY_RETURN_IF_ERROR(AppendJson(src, indent, out, limits_.max_output_bytes));
  if (ea != nullptr && ea->Truthy()) {
    const std::vector<uint32_t> cps = DecodeUtf8(out);
    std::string ascii;
    char buf[16];
    for (uint32_t cp : cps) {
      if (cp < 0x80) {
        ascii += static_cast<char>(cp);
      } else if (cp < 0x10000) {
        std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
        ascii += buf;
      } else {
        const uint32_t c = cp - 0x10000;
        std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", 0xD800 + (c >> 10), 0xDC00 + (c & 0x3FF));
        ascii += buf;
      }
    }
    out = std::move(ascii);
  }
  FOUNDRY_RETURN_IF_ERROR(Charge(out.size()));
  return Value::String(std::move(out));
}

StatusOr<Value> Interpreter::SelectOrReject(const Value& in, CallArgs& args, bool select,
                                            bool attr) {
  FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in));
  size_t next = 0;
  std::string attribute;
  if (attr) {
    if (args.positional.empty() || !args.positional[0].IsString()) {
      return InvalidArgument("selectattr/rejectattr need an attribute name");
    }
    attribute = args.positional[0].AsString();
    next = 1;
  }
  std::string test;
  CallArgs test_args;
  if (next < args.positional.size()) {
    if (!args.positional[next].IsString()) return InvalidArgument("test name must be a string");
    test = args.positional[next].AsString();
    test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(next) + 1,
                                args.positional.end());
  }
  std::vector<Value> out;
  for (const Value& item : items) {
    FOUNDRY_RETURN_IF_ERROR(CountIteration());
    Value x = item;
    if (attr) {
      // jinja2's make_attrgetter: dotted path, integer parts index.
      size_t start = 0;
      while (true) {
        const size_t dot = attribute.find('.', start);
        const std::string part =
            attribute.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        bool digits = !part.empty();
        for (char c : part) digits = digits && c >= '0' && c <= '9';
        if (digits && part.size() < 18) {
          FOUNDRY_ASSIGN_OR_RETURN(x, GetItem(x, Value::Int(std::stoll(part))));
        } else {
          FOUNDRY_ASSIGN_OR_RETURN(x, GetItem(x, Value::String(part)));
        }
        if (dot == std::string::npos) break;
        start = dot + 1;
      }
    }
    bool keep;
    if (test.empty()) {
      keep = x.Truthy();
    } else {
      FOUNDRY_ASSIGN_OR_RETURN(keep, ApplyTest(test, x, test_args));
    }
    if (keep == select) out.push_back(item);
  }
  return NewList(std::move(out));
}

StatusOr<Value> Interpreter::ApplyFilter(const std::string& name, Value in, CallArgs& args) {
  auto str_in = [&]() { return Str(in); };
  if (name == "tojson") return ToJson(in, args);
  if (name == "trim") {
    FOUNDRY_ASSIGN_OR_RETURN(std::string s, str_in());
    const Value* chars = Arg(args, 0, "chars");
    if (chars != nullptr && chars->IsString()) {
      return Value::String(Strip(s, &chars->AsString(), true, true));
    }
    return Value::String(Strip(s, nullptr, true, true));
  }
  if (name == "length" || name == "count") {
    switch (in.kind()) {
      case Value::Kind::kString:
        return Value::Int(static_cast<int64_t>(Utf8Length(in.AsString())));
      case Value::Kind::kList:
        return Value::Int(static_cast<int64_t>(in.Items().size()));
      case Value::Kind::kDict:
        return Value::Int(static_cast<int64_t>(in.AsDict().items.size()));
      case Value::Kind::kUndefined:
        return Value::Int(0);
      default:
        return InvalidArgument("object of type '" + in.TypeName() + "' has no len()");
    }
  }
  if (name == "string") {
    FOUNDRY_ASSIGN_OR_RETURN(std::string s, str_in());
    return Value::String(std::move(s));
  }
  if (name == "safe") {
    if (in.IsString()) return in;
    FOUNDRY_ASSIGN_OR_RETURN(std::string s, str_in());
    return Value::String(std::move(s));
  }
  if (name == "e" || name == "escape" || name == "forceescape") {
    FOUNDRY_ASSIGN_OR_RETURN(std::string s, str_in());
    std::string out;
    for (char c : s) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&#34;";
          break;
        case '\'':
          out += "&#39;";
          break;
        default:
          out += c;
      }
    }
    FOUNDRY_RETURN_IF_ERROR(Charge(out.size()));
    return Value::String(std::move(out));
  }
  if (name == "upper" || name == "lower" || name == "capitalize" || name == "title") {
    FOUNDRY_ASSIGN_OR_RETURN(std::string s, str_in());
    if (name == "upper") return Value::String(ToUpper(s));
    if (name == "lower") return Value::String(ToLower(s));
    if (name == "capitalize") return Value::String(Capitalize(s));
    return Value::String(JinjaTitle(s));
  }
  if (name == "replace") {
    FOUNDRY_ASSIGN_OR_RETURN(std::string s, str_in());
    const Value* from = Arg(args, 0, "old");
    const Value* to = Arg(args, 1, "new");
    const Value* count = Arg(args, 2, "count");
    if (from == nullptr || to == nullptr) return InvalidArgument("replace needs two arguments");
    FOUNDRY_ASSIGN_OR_RETURN(std::string f, Str(*from));
    FOUNDRY_ASSIGN_OR_RETURN(std::string t, Str(*to));
    int64_t c = -1;
    if (count != nullptr && !count->IsNone()) {
      if (!count->IsInt()) return InvalidArgument("replace count must be an integer");
      c = count->AsInt();
    }
    std::string r = Replace(s, f, t, c);
    FOUNDRY_RETURN_IF_ERROR(Charge(r.size()));
    return Value::String(std::move(r));
  }
  if (name == "default" || name == "d") {
    const Value* def = Arg(args, 0, "default_value");
    const Value* boolean = Arg(args, 1, "boolean");
    const bool use_default =
        in.IsUndefined() || (boolean != nullptr && boolean->Truthy() && !in.Truthy());
    if (use_default) return def != nullptr ? *def : Value::String("");
    return in;
  }
  if (name == "join") {
    FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in));
    const Value* sep = Arg(args, 0, "d");
    const Value* attribute = Arg(args, 1, "attribute");
    std::string d;
    if (sep != nullptr) {
      FOUNDRY_ASSIGN_OR_RETURN(d, Str(*sep));
    }
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      Value x = items[i];
      if (attribute != nullptr && !attribute->IsNone()) {
        FOUNDRY_ASSIGN_OR_RETURN(x, GetItem(x, *attribute));
      }
      FOUNDRY_ASSIGN_OR_RETURN(std::string s, Str(x));
      if (i > 0) out += d;
      out += s;
      FOUNDRY_RETURN_IF_ERROR(Charge(d.size()));
      if (out.size() > limits_.max_output_bytes)
        return OutOfRange("chat template value exceeds the size limit");
    }
    return Value::String(std::move(out));
  }
  if (name == "select") return SelectOrReject(in, args, true, false);
  if (name == "reject") return SelectOrReject(in, args, false, false);
  if (name == "selectattr") return SelectOrReject(in, args, true, true);
  if (name == "rejectattr") return SelectOrReject(in, args, false, true);
  if (name == "map") {
    FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in));
    const Value* attribute = nullptr;
    const Value* def = nullptr;
    for (const auto& [k, v] : args.kwargs) {
      if (k == "attribute") attribute = &v;
      if (k == "default") def = &v;
    }
    std::vector<Value> out;
    if (attribute != nullptr) {
      for (const Value& item : items) {
        FOUNDRY_RETURN_IF_ERROR(CountIteration());
        FOUNDRY_ASSIGN_OR_RETURN(Value x, GetItem(item, *attribute));
        if (x.IsUndefined() && def != nullptr) x = *def;
        out.push_back(std::move(x));
      }
      return NewList(std::move(out));
    }
    if (args.positional.empty() || !args.positional[0].IsString()) {
      return InvalidArgument("map requires a filter argument");
    }
    const std::string filter = args.positional[0].AsString();
    CallArgs rest;
    rest.positional.assign(args.positional.begin() + 1, args.positional.end());
    rest.kwargs = args.kwargs;
    for (const Value& item : items) {
      FOUNDRY_RETURN_IF_ERROR(CountIteration());
      CallArgs a = rest;
      FOUNDRY_ASSIGN_OR_RETURN(Value x, ApplyFilter(filter, item, a));
      out.push_back(std::move(x));
    }
    return NewList(std::move(out));
  }
  if (name == "items") {
    if (in.IsUndefined()) return NewList({});
    if (!in.IsDict()) return InvalidArgument("Can only get item pairs from a mapping.");
    std::vector<Value> out;
    for (const auto& [k, v] : in.AsDict().items) out.push_back(Value::MakeList({k, v}, true));
    return NewList(std::move(out));
  }
  if (name == "list") {
    FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in));
    return NewList(std::move(items));
  }
  if (name == "first" || name == "last") {
    FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in));
    if (items.empty()) {
      return Value::Undefined(std::string("No ") + name + " item, sequence was empty.");
    }
    return name == "first" ? items.front() : items.back();
  }
  if (name == "unique") {
    FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in));
    std::vector<Value> out;
    for (const Value& x : items) {
      FOUNDRY_RETURN_IF_ERROR(CountIteration());
      bool seen = false;
      for (const Value& y : out) {
        if (x.IsString() && y.IsString() ? ToLower(x.AsString()) == ToLower(y.AsString())
                                         : Equal(x, y)) {
          seen = true;
          break;
        }
      }
      if (!seen) out.push_back(x);
    }
    return NewList(std::move(out));
  }
  if (name == "reverse") {
    if (in.IsString()) {
      std::vector<uint32_t> cps = DecodeUtf8(in.AsString());
      std::reverse(cps.begin(), cps.end());
      return Value::String(EncodeUtf8(cps, 0, cps.size()));
    }
    FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(in));
    std::reverse(items.begin(), items.end());
    return NewList(std::move(items));
  }
  if (name == "sort" || name == "dictsort" || name == "min" || name == "max") {
    std::vector<Value> items;
    if (name == "dictsort") {
      if (!in.IsDict()) return InvalidArgument("You can only sort by either 'key' or 'value'");
      for (const auto& [k, v] : in.AsDict().items) items.push_back(Value::MakeList({k, v}, true));
    } else {
      FOUNDRY_ASSIGN_OR_RETURN(items, Iterate(in));
    }
    const Value* reverse = name == "sort" ? Arg(args, 0, "reverse") : nullptr;
    const Value* attribute = nullptr;
    for (const auto& [k, v] : args.kwargs) {
      if (k == "attribute") attribute = &v;
    }
    std::vector<Value> keys;
    for (const Value& x : items) {
      Value k = x;
      if (attribute != nullptr) {
        FOUNDRY_ASSIGN_OR_RETURN(k, GetItem(x, *attribute));
      }
      if (k.IsString()) k = Value::String(ToLower(k.AsString()));  // case_sensitive=False
      if (name == "dictsort") {
        Value key = x.Items()[0];
        if (key.IsString()) key = Value::String(ToLower(key.AsString()));
        k = key;
      }
      keys.push_back(std::move(k));
    }
    std::vector<size_t> idx(items.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    Status err;
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
      auto o = Order("<", keys[a], keys[b]);
      if (!o.ok()) {
        err = o.status();
        return false;
      }
      return *o == -1;
    });
    FOUNDRY_RETURN_IF_ERROR(err);
    if (name == "min" || name == "max") {
      if (idx.empty()) return Value::Undefined("No aggregated item, sequence was empty.");
      return name == "min" ? items[idx.front()] : items[idx.back()];
    }
    if (reverse != nullptr && reverse->Truthy()) std::reverse(idx.begin(), idx.end());
    std::vector<Value> out;
    for (size_t i : idx) out.push_back(items[i]);
    return NewList(std::move(out));
  }
  if (name == "int") {
    const Value* def = Arg(args, 0, "default");
    const Value fallback = def != nullptr ? *def : Value::Int(0);
    if (in.IsInt() || in.IsBool()) return Value::Int(in.AsInt());
    if (in.IsFloat()) {
      const double d = in.AsDouble();
      if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return fallback;
      return Value::Int(static_cast<int64_t>(d));
    }
    if (in.IsString()) {
      const std::string s = Strip(in.AsString(), nullptr, true, true);
      char* end = nullptr;
      errno = 0;
      const long long v = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && end == s.c_str() + s.size() && errno == 0) return Value::Int(v);
      const double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(d) && std::fabs(d) < 9.2e18) {
        return Value::Int(static_cast<int64_t>(d));
      }
    }
    return fallback;
  }
  if (name == "float") {
    const Value* def = Arg(args, 0, "default");
    const Value fallback = def != nullptr ? *def : Value::Float(0.0);
    if (in.IsNumber()) return Value::Float(in.AsDouble());
    if (in.IsString()) {
      const std::string s = Strip(in.AsString(), nullptr, true, true);
      char* end = nullptr;
      const double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size()) return Value::Float(d);
    }
    return fallback;
  }
  if (name == "abs") {
    if (in.IsFloat()) return Value::Float(std::fabs(in.AsDouble()));
    if (in.IsNumber()) {
      if (in.AsInt() == INT64_MIN) return OutOfRange("integer overflow");
      return Value::Int(std::llabs(in.AsInt()));
    }
    if (in.IsUndefined()) return UndefinedError(in);
    return InvalidArgument("bad operand type for abs(): '" + in.TypeName() + "'");
  }
  if (name == "round") {
    if (in.IsUndefined()) return UndefinedError(in);
    if (!in.IsNumber())
      return InvalidArgument("type " + in.TypeName() + " doesn't define __round__ method");
    const Value* prec = Arg(args, 0, "precision");
    const Value* method = Arg(args, 1, "method");
    const int64_t p =
        prec != nullptr && prec->IsInt() ? std::clamp<int64_t>(prec->AsInt(), -300, 300) : 0;
    const std::string m = method != nullptr && method->IsString() ? method->AsString() : "common";
    const double scale = std::pow(10.0, static_cast<double>(p));
    const double x = in.AsDouble() * scale;
    double r;
    if (m == "ceil") {
      r = std::ceil(x);
    } else if (m == "floor") {
      r = std::floor(x);
    } else if (m == "common") {
      r = std::nearbyint(x);  // Python's round(): half to even
    } else {
      return InvalidArgument("method must be common, ceil or floor");
    }
    return Value::Float(r / scale);
  }
  if (name == "indent") {
    FOUNDRY_ASSIGN_OR_RETURN(std::string s, str_in());
    const Value* width = Arg(args, 0, "width");
    const Value* first = Arg(args, 1, "first");
    const Value* blank = Arg(args, 2, "blank");
    std::string pad = "    ";
    if (width != nullptr) {
      if (width->IsString()) {
        pad = width->AsString();
      } else if (width->IsInt()) {
        pad = std::string(static_cast<size_t>(std::clamp<int64_t>(width->AsInt(), 0, 256)), ' ');
      }
    }
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
      if (i == s.size() || s[i] == '\n') {
        lines.push_back(s.substr(start, i - start));
        start = i + 1;
      }
    }
    const bool trailing = !s.empty() && s.back() == '\n';
    if (trailing) lines.pop_back();
    std::string out;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i > 0) out += '\n';
      const bool is_blank = Strip(lines[i], nullptr, true, true).empty();
      if ((i > 0 || (first != nullptr && first->Truthy())) &&
          (!is_blank || (blank != nullptr && blank->Truthy()))) {
        out += pad;
      }
      out += lines[i];
    }
    if (trailing) out += '\n';
    FOUNDRY_RETURN_IF_ERROR(Charge(out.size()));
    return Value::String(std::move(out));
  }
  if (name == "attr") {
    const Value* n = Arg(args, 0, "name");
    if (n == nullptr || !n->IsString()) return InvalidArgument("attr needs a name");
    if (in.IsDict() && in.AsDict().Find(std::string_view(n->AsString())) != nullptr &&
        n->AsString() != "items" && n->AsString() != "keys" && n->AsString() != "values" &&
        n->AsString() != "get") {
      return NoAttribute(in, n->AsString());  // attr() is getattr only, never an item
    }
    return GetAttr(in, n->AsString());
  }
  if (name == "wordcount") {
    FOUNDRY_ASSIGN_OR_RETURN(std::string s, str_in());
    int64_t n = 0;
    bool in_word = false;
    for (char c : s) {
      const bool w =
          IsAlpha(c) || (c >= '0' && c <= '9') || c == '_' || static_cast<unsigned char>(c) >= 0x80;
      if (w && !in_word) ++n;
      in_word = w;
    }
    return Value::Int(n);
  }
  return InvalidArgument("No filter named " + QuoteRepr(name) + ".");
}

// ---------------------------------------------------------------------------------------
// Globals

void Interpreter::InstallBuiltins() {
  auto add = [&](const char* name, NativeFn::Fn fn) {
    if (globals_.find(name) == globals_.end()) globals_[name] = MakeFn(name, std::move(fn));
  };
  add("raise_exception", [](CallArgs& a) -> StatusOr<Value> {
    std::string msg;
    if (!a.positional.empty()) {
      if (a.positional[0].IsString()) {
        msg = a.positional[0].AsString();
      } else {
        (void)AppendStr(a.positional[0], msg, 4096);
      }
    }
    return InvalidArgument(msg);
  });
  add("strftime_now", [this](CallArgs& a) -> StatusOr<Value> {
    const Value* fmt = Arg(a, 0, "format");
    if (fmt == nullptr || !fmt->IsString())
      return InvalidArgument("strftime_now needs a format string");
    std::tm tm{};
    if (options_.now_unix_seconds) {
      const std::time_t t = static_cast<std::time_t>(*options_.now_unix_seconds);
      gmtime_r(&t, &tm);
    } else {
      const std::time_t t = std::time(nullptr);
      localtime_r(&t, &tm);
    }
    if (fmt->AsString().size() > 256) return InvalidArgument("strftime_now format too long");
    char buf[4096];
    const size_t n = std::strftime(buf, sizeof(buf), fmt->AsString().c_str(), &tm);
    return Value::String(std::string(buf, n));
  });
  add("range", [this](CallArgs& a) -> StatusOr<Value> {
    if (a.positional.empty() || a.positional.size() > 3) {
      return InvalidArgument("range expected at least 1 argument, got " +
                             std::to_string(a.positional.size()));
    }
    for (const Value& v : a.positional) {
      if (!v.IsInt() && !v.IsBool()) {
        return InvalidArgument("'" + v.TypeName() + "' object cannot be interpreted as an integer");
      }
    }
    int64_t start = 0, stop, step = 1;
    if (a.positional.size() == 1) {
      stop = a.positional[0].AsInt();
    } else {
      start = a.positional[0].AsInt();
      stop = a.positional[1].AsInt();
      if (a.positional.size() == 3) step = a.positional[2].AsInt();
    }
    if (step == 0) return InvalidArgument("range() arg 3 must not be zero");
    // Sandbox MAX_RANGE.
    const double count = std::ceil((static_cast<double>(stop) - static_cast<double>(start)) /
                                   static_cast<double>(step));
    if (count > 100000) {
      return OutOfRange("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
    }
    std::vector<Value> out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(Value::Int(i));
    return NewList(std::move(out));
  });
  add("dict", [](CallArgs& a) -> StatusOr<Value> {
    Value d = Value::MakeDict();
    int depth = 0;
    if (!a.positional.empty()) {
      if (!a.positional[0].IsDict()) return InvalidArgument("dict() argument must be a mapping");
      for (const auto& [k, v] : a.positional[0].AsDict().items) d.MutableDict().Set(k, v);
      depth = a.positional[0].Depth() - 1;
    }
    for (const auto& [k, v] : a.kwargs) {
      depth = std::max(depth, v.Depth());
      d.MutableDict().Set(Value::String(k), v);
    }
    d.SetDepth(depth + 1);
    if (d.Depth() > 500) return OutOfRange("chat template value nested too deeply");
    return d;
  });
  add("namespace", [this](CallArgs& a) -> StatusOr<Value> {
    Value ns = Value::MakeNamespace();
    int depth = 0;
    if (!a.positional.empty()) {
      if (!a.positional[0].IsDict())
        return InvalidArgument("namespace() argument must be a mapping");
      for (const auto& [k, v] : a.positional[0].AsDict().items) ns.MutableDict().Set(k, v);
      depth = a.positional[0].Depth() - 1;
    }
    for (const auto& [k, v] : a.kwargs) {
      depth = std::max(depth, v.Depth());
      ns.MutableDict().Set(Value::String(k), v);
    }
    ns.SetDepth(depth + 1);
    if (ns.Depth() > 500) return OutOfRange("chat template value nested too deeply");
    namespaces_.push_back(ns);
    return ns;
  });
}

}  // namespace

StatusOr<std::string> Render(const Program& program, const Globals& globals,
                             const RenderOptions& options) {
  Interpreter interp(globals, options);
  return interp.Run(program);
}

}  // namespace foundry::jinja
