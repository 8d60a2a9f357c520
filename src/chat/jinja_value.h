// Values of the chat-template language: Python's data model as far as chat templates use it
// (None, bool, int, float, str, list/tuple, insertion-ordered dict, jinja2 namespace, callable)
// plus jinja2's Undefined. Lists and dicts are shared by reference, as in Python.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace foundry::jinja {

class Value;

struct List {
  std::vector<Value> items;
  int depth = 1;  // nesting depth, bounded so that printing and destruction cannot overflow
};

struct Dict {
  std::vector<std::pair<Value, Value>> items;  // insertion order, unique keys
  int depth = 1;
  const Value* Find(const Value& key) const;
  const Value* Find(std::string_view key) const;
  void Set(Value key, Value value);
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> kwargs;
};

// A function value: globals such as range() and raise_exception(), bound methods, macros.
class Callable {
 public:
  virtual ~Callable() = default;
  virtual StatusOr<Value> Call(CallArgs& args) = 0;
  virtual std::string_view Name() const = 0;
};

class Value {
 public:
  enum class Kind : uint8_t {
    kUndefined,
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kList,  // also tuples (printed with parentheses)
    kDict,
    kNamespace,
    kCallable,
  };

  Value() = default;                              // undefined
  static Value Undefined(std::string hint = {});  // hint: jinja2's message when it is used
  static Value None();
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double f);
  static Value String(std::string s);
  static Value MakeList(std::vector<Value> items = {}, bool tuple = false);
  static Value MakeDict();
  static Value MakeNamespace();
  static Value Function(std::shared_ptr<Callable> fn);

  Value(std::string s) : Value(String(std::move(s))) {}  // NOLINT: convenience
  Value(const char* s) : Value(String(s)) {}             // NOLINT

  Kind kind() const { return kind_; }
  bool IsUndefined() const { return kind_ == Kind::kUndefined; }
  bool IsNone() const { return kind_ == Kind::kNone; }
  bool IsBool() const { return kind_ == Kind::kBool; }
  bool IsInt() const { return kind_ == Kind::kInt; }
  bool IsFloat() const { return kind_ == Kind::kFloat; }
  bool IsNumber() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat || IsBool(); }
  bool IsString() const { return kind_ == Kind::kString; }
  bool IsList() const { return kind_ == Kind::kList; }
  bool IsTuple() const { return kind_ == Kind::kList && tuple_; }
  bool IsDict() const { return kind_ == Kind::kDict; }
  bool IsNamespace() const { return kind_ == Kind::kNamespace; }
  bool IsCallable() const { return kind_ == Kind::kCallable; }

  bool AsBool() const { return b_; }
  int64_t AsInt() const { return kind_ == Kind::kBool ? (b_ ? 1 : 0) : i_; }
  double AsDouble() const;                            // for numbers
  const std::string& AsString() const { return s_; }  // string, or the undefined hint
  const std::vector<Value>& Items() const { return list_->items; }
  std::vector<Value>& MutableItems() { return list_->items; }
  const Dict& AsDict() const { return *dict_; }
  Dict& MutableDict() { return *dict_; }
  Callable& AsCallable() const { return *fn_; }
  int Depth() const;  // nesting depth of lists/dicts (0 for scalars)
  void SetDepth(int d);

  // Python truthiness (Undefined is false).
  bool Truthy() const;
  // Python's type name for messages: 'str', 'int', 'NoneType', 'list', 'dict', ...
  std::string TypeName() const;

  // Convenience for building dicts from C++.
  void Set(std::string key, Value v) { dict_->Set(String(std::move(key)), std::move(v)); }

 private:
  Kind kind_ = Kind::kUndefined;
  bool b_ = false;
  bool tuple_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  std::shared_ptr<List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Callable> fn_;
};

// Python ==.
bool Equal(const Value& a, const Value& b);

// Python str() / repr(), written to `out`; fail beyond `limit` bytes of output.
Status AppendStr(const Value& v, std::string& out, size_t limit);
Status AppendRepr(const Value& v, std::string& out, size_t limit);
// json.dumps(v, ensure_ascii=False, indent=indent (<0: None), sort_keys=false)
Status AppendJson(const Value& v, int indent, std::string& out, size_t limit);
// Python repr(float).
std::string FloatRepr(double d);

// Unicode code points of UTF-8 text (invalid bytes map to U+FFFD-like single units).
std::vector<uint32_t> DecodeUtf8(std::string_view s);
std::string EncodeUtf8(const std::vector<uint32_t>& cps, size_t begin, size_t end);
size_t Utf8Length(std::string_view s);

}  // namespace foundry::jinja
