// JSON Schema -> GBNF (gbnf_parser.h): the grammar of the JSON texts a schema accepts, for
// response_format json_schema and for tool-call arguments. Follows llama.cpp's
// json-schema-to-grammar for the shape of objects (required properties first, then optional
// ones, each group in schema order; no properties beyond those listed unless the schema lists
// none) and its bounded-whitespace rule, but refuses what it cannot enforce: every keyword
// outside the documented subset (docs/structured-output.md) is an InvalidArgument naming it and
// where it is, never ignored.
//
// Supported: type (object, array, string, number, integer, boolean, null, or a list of them),
// properties, required, additionalProperties (false, or a schema when there are no
// properties), minProperties and maxProperties (maps only), enum, const, items, minItems, maxItems,
// anyOf, oneOf, $ref to #/$defs/... or
// #/definitions/..., minLength, maxLength, format (date, time, date-time, uuid), minimum,
// maximum, exclusiveMinimum, exclusiveMaximum; annotations (title, description, default,
// examples, $schema, $id, $comment, deprecated, readOnly, writeOnly) are accepted.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/status.h"

namespace foundry {

// Literal text around the JSON value, e.g. "<tool_call>\n" and "\n</tool_call>".
struct GrammarWrap {
  std::string prefix;
  std::string suffix;
};

// GBNF whose `root` matches prefix, a JSON text valid against `schema`, then suffix. The schema
// must be parsed with its key order kept (ordered_json): properties are generated in it.
StatusOr<std::string> JsonSchemaToGbnf(const nlohmann::ordered_json& schema,
                                       const GrammarWrap& wrap = {});
// The same from schema text (parse errors are InvalidArgument).
StatusOr<std::string> JsonSchemaTextToGbnf(std::string_view schema_json,
                                           const GrammarWrap& wrap = {});

// GBNF for response_format {"type": "json_object"}: any JSON object.
std::string JsonObjectGbnf();

// A GBNF string literal ("...", escaped) for arbitrary bytes.
std::string GbnfLiteral(std::string_view bytes);

}  // namespace foundry
