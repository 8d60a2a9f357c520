#include "chat/jinja_errors.h"

#include <utility>

namespace foundry::jinja {

std::string QuoteRepr(const std::string& s) { return KeyRepr(Value::String(s)); }

std::string KeyRepr(const Value& v) {
  std::string out;
  (void)AppendRepr(v, out, 1 << 20);
  return out;
}

std::string QuotedTypeName(const Value& v) {
  std::string out = "'";
  out += v.TypeName();
  out += '\'';
  return out;
}

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

Status UndefinedError(const Value& undefined) {
  return InvalidArgument(undefined.AsString().empty() ? "'undefined' is undefined"
                                                      : undefined.AsString());
}

}  // namespace foundry::jinja
