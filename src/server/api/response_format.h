// Constrained output fields of /v1/chat/completions and /v1/completions, into
// SamplingParams::grammar (docs/structured-output.md):
//   response_format {"type": "text"}                    no constraint
//   response_format {"type": "json_object"}             any JSON object
//   response_format {"type": "json_schema", "json_schema": {"name", "schema", "strict",
//                    "description"}}                   JSON valid against the schema
//   grammar "root ::= ..."                              a GBNF grammar, as llama-server takes
// A schema outside the supported subset, a bad grammar or an unknown field is a 400 naming it.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "foundry/sampling_params.h"
#include "server/api/error.h"

namespace foundry {

// `j` is the parsed body; `body` its text, parsed again keeping key order when a schema is
// given (properties are generated in schema order).
std::optional<ApiError> ParseResponseFormat(const nlohmann::json& j, std::string_view body,
                                            SamplingParams* out);

}  // namespace foundry
