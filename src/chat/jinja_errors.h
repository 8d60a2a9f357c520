// jinja2's wording for the errors and undefined values a render produces; the golden tests
// compare these messages byte for byte with Python.
#pragma once

#include <string>

#include "base/status.h"
#include "chat/jinja_value.h"

namespace foundry::jinja {

// Python repr() of a string or key, as messages quote them.
std::string QuoteRepr(const std::string& s);
std::string KeyRepr(const Value& v);
// Python's type name in quotes: "'str'" (built by appending: GCC 12's -Wrestrict misreads
// "'" + std::string in some inlining contexts).
std::string QuotedTypeName(const Value& v);
// jinja2's object_type_repr: "None", "str object", ...
std::string TypeRepr(const Value& v);

// The undefined value of a missing attribute ("'str object' has no attribute 'x'").
Value NoAttribute(const Value& obj, const std::string& name);
// The error of using an undefined value.
Status UndefinedError(const Value& undefined);

}  // namespace foundry::jinja
