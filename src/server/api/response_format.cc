#include "server/api/response_format.h"

#include "grammar/gbnf_parser.h"
#include "grammar/json_schema_grammar.h"

namespace foundry {
namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

// The GBNF for a json_schema response format, or the error naming what is wrong.
std::optional<ApiError> SchemaGrammar(const json& spec, std::string_view body, std::string* gbnf) {
  const char* kParam = "response_format.json_schema";
  if (!spec.is_object())
    return InvalidRequest(kParam, "'response_format.json_schema' must be an object");
  for (const auto& [key, value] : spec.items()) {
    if (key == "name" || key == "description") {
      if (!value.is_string())
        return InvalidRequest(kParam, "'json_schema." + key + "' must be a string");
    } else if (key == "strict") {
      if (!value.is_boolean() && !value.is_null()) {
        return InvalidRequest(kParam, "'json_schema.strict' must be a boolean");
      }
    } else if (key != "schema") {
      return InvalidRequest(kParam, "'json_schema." + key + "' is not supported");
    }
  }
  if (!spec.contains("schema") || spec["schema"].is_null()) {
    *gbnf = JsonObjectGbnf();  // OpenAI's schema is optional: then any JSON object
    return std::nullopt;
  }
  if (!spec["schema"].is_object() && !spec["schema"].is_boolean()) {
    return InvalidRequest(kParam, "'json_schema.schema' must be a JSON Schema object");
  }
  // Again with the key order kept: properties are generated in schema order.
  const ordered_json ordered = ordered_json::parse(body, nullptr, false);
  auto compiled = JsonSchemaToGbnf(ordered["response_format"]["json_schema"]["schema"]);
  if (!compiled.ok()) return InvalidRequest(kParam, compiled.status().message());
  *gbnf = std::move(compiled).value();
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> ParseResponseFormat(const json& j, std::string_view body,
                                            SamplingParams* out) {
  std::string gbnf;
  const char* param = "";
  auto rf = j.find("response_format");
  if (rf != j.end() && !rf->is_null()) {
    param = "response_format";
    auto type = rf->is_object() ? rf->find("type") : rf->end();
    if (!rf->is_object() || type == rf->end() || !type->is_string()) {
      return InvalidRequest(param, "'response_format' must be an object with a string 'type'");
    }
    const std::string t = type->get<std::string>();
    for (const auto& [key, value] : rf->items()) {
      if (key != "type" && !(t == "json_schema" && key == "json_schema")) {
        return InvalidRequest(
            param, "'response_format." + key + "' is not supported with type '" + t + "'");
      }
    }
    if (t == "json_object") {
      gbnf = JsonObjectGbnf();
    } else if (t == "json_schema") {
      auto spec = rf->find("json_schema");
      if (spec == rf->end()) {
        return InvalidRequest("response_format.json_schema",
                              "'response_format.json_schema' is required with type 'json_schema'");
      }
      if (auto e = SchemaGrammar(*spec, body, &gbnf)) return e;
    } else if (t != "text") {
      return InvalidRequest(param,
                            "'response_format.type' must be text, json_object or json_schema");
    }
  }
  auto g = j.find("grammar");
  if (g != j.end() && !g->is_null()) {
    if (!g->is_string()) return InvalidRequest("grammar", "'grammar' must be a string (GBNF)");
    if (!gbnf.empty()) {
      return InvalidRequest("grammar", "give 'grammar' or a JSON 'response_format', not both");
    }
    gbnf = g->get<std::string>();
    param = "grammar";
  }
  if (gbnf.empty()) return std::nullopt;
  // Parsed here too, so that a bad grammar is a 400 naming it before the model is touched.
  auto parsed = ParseGbnf(gbnf);
  if (!parsed.ok()) return InvalidRequest(param, parsed.status().message());
  out->grammar = std::move(gbnf);
  return std::nullopt;
}

}  // namespace foundry
