// Render() and the statements: output, if, for, set, macros, call and filter blocks.
#include "chat/jinja_interpreter.h"

#include <algorithm>
#include <utility>

#include "chat/jinja_access.h"
#include "chat/jinja_errors.h"
#include "chat/jinja_evaluator.h"
#include "chat/jinja_filters.h"
#include "chat/jinja_globals.h"
#include "chat/jinja_native_function.h"

namespace foundry::jinja {

namespace {

// A macro (or a call block's body, as `caller`) as a function value.
class MacroFunction : public Callable {
 public:
  MacroFunction(Evaluator* evaluator, const Node* node) : evaluator_(evaluator), node_(node) {}
  StatusOr<Value> Call(CallArgs& args) override {
    Value caller;
    for (auto it = args.kwargs.begin(); it != args.kwargs.end(); ++it) {
      if (it->first == "caller") {
        caller = it->second;
        args.kwargs.erase(it);
        break;
      }
    }
    return evaluator_->CallMacro(*node_, args, caller);
  }
  std::string_view Name() const override { return node_->text; }

 private:
  Evaluator* evaluator_;
  const Node* node_;
};

// The `loop` variable of iteration i of n.
Value LoopVariable(const std::vector<Value>& items, int64_t i) {
  const int64_t len = static_cast<int64_t>(items.size());
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
  loop.Set("cycle", MakeFunction("cycle", [i](CallArgs& a) -> StatusOr<Value> {
             if (a.positional.empty()) return InvalidArgument("no items for cycling given");
             return a.positional[static_cast<size_t>(i) % a.positional.size()];
           }));
  return loop;
}

}  // namespace

StatusOr<std::string> Render(const Program& program, const Globals& globals,
                             const RenderOptions& options) {
  Evaluator evaluator(globals, options);
  return evaluator.Run(program);
}

Evaluator::Evaluator(const Globals& globals, const RenderOptions& options) : ctx_(options) {
  for (const auto& [k, v] : globals) globals_[k] = v;
  AddGlobalFunctions(ctx_, globals_);
  scopes_.push_back(std::make_shared<Scope>());
}

StatusOr<std::string> Evaluator::Run(const Program& program) {
  FOUNDRY_RETURN_IF_ERROR(ExecBody(program.body));
  if (control_ != LoopControl::kNone) {
    return InvalidArgument("'break' or 'continue' outside of a loop");
  }
  return std::move(out_);
}

Status Evaluator::CheckDepth() const {
  if (depth_ > ctx_.limits().max_depth) {
    return OutOfRange("chat template nesting exceeds the depth limit");
  }
  return OkStatus();
}

Status Evaluator::Emit(std::string_view s) {
  FOUNDRY_RETURN_IF_ERROR(ctx_.Charge(s.size()));
  if (out_.size() + s.size() > ctx_.limits().max_output_bytes) {
    return OutOfRange("chat template output exceeds the size limit");
  }
  out_.append(s);
  return OkStatus();
}

// ---- scopes ----

Value Evaluator::Lookup(const std::string& name) const {
  for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
    auto f = (*it)->find(name);
    if (f != (*it)->end()) return f->second;
  }
  auto g = globals_.find(name);
  if (g != globals_.end()) return g->second;
  return Value::Undefined("'" + name + "' is undefined");
}

void Evaluator::Assign(const std::string& name, Value v) { (*scopes_.back())[name] = std::move(v); }

Status Evaluator::AssignTarget(const Expr& target, Value v) {
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
    FOUNDRY_RETURN_IF_ERROR(RenderContext::CheckValueDepth(ns));
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

// ---- statements ----

Status Evaluator::ExecBody(const Body& body) {
  for (const NodePtr& n : body) {
    FOUNDRY_RETURN_IF_ERROR(Exec(*n));
    if (control_ != LoopControl::kNone) return OkStatus();
  }
  return OkStatus();
}

Status Evaluator::Exec(const Node& n) {
  DepthGuard g(depth_);
  FOUNDRY_RETURN_IF_ERROR(CheckDepth());
  switch (n.kind) {
    case Node::Kind::kText:
      return Emit(n.text);
    case Node::Kind::kOutput: {
      FOUNDRY_ASSIGN_OR_RETURN(Value v, Eval(*n.expr));
      if (v.IsString()) return Emit(v.AsString());
      FOUNDRY_ASSIGN_OR_RETURN(std::string s, ctx_.Str(v));
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
      FOUNDRY_ASSIGN_OR_RETURN(std::string text, ctx_.Str(v));
      return Emit(text);
    }
    case Node::Kind::kBreak:
      control_ = LoopControl::kBreak;
      return OkStatus();
    case Node::Kind::kContinue:
      control_ = LoopControl::kContinue;
      return OkStatus();
    case Node::Kind::kScope:
      return ExecBody(n.body);
  }
  return Internal("unknown node");
}

StatusOr<std::string> Evaluator::Capture(const Body& body) {
  std::string saved;
  std::swap(saved, out_);
  Status st = ExecBody(body);
  std::swap(saved, out_);
  FOUNDRY_RETURN_IF_ERROR(st);
  return saved;
}

StatusOr<Value> Evaluator::EvalFilterChain(const Expr& f, Value input) {
  if (f.kind != Expr::Kind::kFilter) return input;
  FOUNDRY_ASSIGN_OR_RETURN(Value in, EvalFilterChain(*f.children[0], std::move(input)));
  FOUNDRY_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(f, 1));
  return ApplyFilter(ctx_, f.name, std::move(in), args);
}

Status Evaluator::ExecFor(const Node& n) {
  FOUNDRY_ASSIGN_OR_RETURN(Value seq, Eval(*n.expr));
  FOUNDRY_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(seq));
  if (n.filter) {
    std::vector<Value> kept;
    for (Value& item : items) {
      FOUNDRY_RETURN_IF_ERROR(ctx_.CountIteration());
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
    FOUNDRY_RETURN_IF_ERROR(ctx_.CountIteration());
    scopes_.push_back(std::make_shared<Scope>());
    (*scopes_.back())["loop"] = LoopVariable(items, i);
    Status st = AssignTarget(*n.target, items[static_cast<size_t>(i)]);
    if (st.ok()) st = ExecBody(n.body);
    scopes_.pop_back();
    FOUNDRY_RETURN_IF_ERROR(st);
    if (control_ == LoopControl::kBreak) {
      control_ = LoopControl::kNone;
      break;
    }
    control_ = LoopControl::kNone;
  }
  return OkStatus();
}

Status Evaluator::ExecCallBlock(const Node& n) {
  const Expr& call = *n.expr;
  FOUNDRY_ASSIGN_OR_RETURN(Value callee, Eval(*call.children[0]));
  FOUNDRY_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(call, 1));
  Value caller = MakeMacro(n);
  args.kwargs.emplace_back("caller", caller);
  FOUNDRY_ASSIGN_OR_RETURN(Value v, CallValue(callee, args));
  FOUNDRY_ASSIGN_OR_RETURN(std::string s, ctx_.Str(v));
  return Emit(s);
}

// ---- macros ----

Value Evaluator::MakeMacro(const Node& n) {
  return Value::Function(std::make_shared<MacroFunction>(this, &n));
}

StatusOr<Value> Evaluator::CallMacro(const Node& macro, CallArgs& args, Value caller) {
  if (macro_depth_ >= ctx_.limits().max_macro_depth) {
    return OutOfRange("chat template macro recursion exceeds the depth limit");
  }
  const std::string name = macro.kind == Node::Kind::kMacro ? macro.text : "caller";
  if (args.positional.size() > macro.params.size()) {
    return InvalidArgument("macro '" + name + "' takes not more than " +
                           std::to_string(macro.params.size()) + " argument(s)");
  }
  // A macro sees the template's top-level scope and its own, not its caller's.
  auto scope = std::make_shared<Scope>();
  std::vector<std::shared_ptr<Scope>> saved = {scopes_.front(), scope};
  std::swap(saved, scopes_);
  struct Restore {
    Evaluator* evaluator;
    std::vector<std::shared_ptr<Scope>>* saved;
    ~Restore() { std::swap(*saved, evaluator->scopes_); }
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
  const LoopControl saved_control = control_;
  control_ = LoopControl::kNone;
  StatusOr<std::string> body = Capture(macro.body);
  control_ = saved_control;
  --macro_depth_;
  if (!body.ok()) return body.status();
  return Value::String(std::move(*body));
}

}  // namespace foundry::jinja
