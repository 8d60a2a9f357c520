// JSON in and out of the service's request and response bodies (the api layer's own helpers;
// nothing below src/server sees JSON).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "server/api/error.h"

namespace foundry {

// Compact JSON text; invalid UTF-8 in strings (a model may stream any bytes) becomes U+FFFD
// instead of throwing.
std::string JsonText(const nlohmann::json& j);

// Parses a request body that must be a JSON object. Bodies nested deeper than kMaxJsonDepth
// are refused before parsing (the parser recurses).
constexpr int kMaxJsonDepth = 64;
std::optional<ApiError> ParseJsonObject(std::string_view body, nlohmann::json* out);

// The request's "model": a non-empty string. The one place that checks it.
std::optional<ApiError> RequireModel(const nlohmann::json& j, std::string* out);

// Optional fields (absent or null: *out untouched). Out of [lo, hi] or of the wrong type: an
// error naming the field in `param`.
std::optional<ApiError> OptNumber(const nlohmann::json& j, const char* key, double lo, double hi,
                                  std::optional<double>* out);
std::optional<ApiError> OptInteger(const nlohmann::json& j, const char* key, int64_t lo, int64_t hi,
                                   std::optional<int64_t>* out);
std::optional<ApiError> OptBool(const nlohmann::json& j, const char* key, bool* out);

}  // namespace foundry
