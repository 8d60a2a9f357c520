#include "server/api/json_text.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace foundry {

using json = nlohmann::json;

std::string JsonText(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

// Nesting depth of a JSON text (brackets outside strings).
int JsonDepth(std::string_view s) {
  int depth = 0, max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

}  // namespace

std::optional<ApiError> ParseJsonObject(std::string_view body, json* out) {
  if (JsonDepth(body) > kMaxJsonDepth) {
    return InvalidRequest(
        "", "the request body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidRequest("", "the request body is not valid JSON");
  if (!j.is_object()) return InvalidRequest("", "the request body must be a JSON object");
  *out = std::move(j);
  return std::nullopt;
}

std::optional<ApiError> RequireModel(const json& j, std::string* out) {
  auto model = j.find("model");
  if (model == j.end() || !model->is_string() || model->get_ref<const std::string&>().empty()) {
    return InvalidRequest("model", "'model' must be a non-empty string");
  }
  *out = model->get<std::string>();
  return std::nullopt;
}

std::optional<ApiError> OptNumber(const json& j, const char* key, double lo, double hi,
                                  std::optional<double>* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) return InvalidRequest(key, std::string("'") + key + "' must be a number");
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi) {
    return InvalidRequest(key, std::string("'") + key + "' must be between " + json(lo).dump() +
                                   " and " + json(hi).dump());
  }
  *out = v;
  return std::nullopt;
}

std::optional<ApiError> OptInteger(const json& j, const char* key, int64_t lo, int64_t hi,
                                   std::optional<int64_t>* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) {
    return InvalidRequest(key, std::string("'") + key + "' must be an integer");
  }
  int64_t v = 0;
  if (it->is_number_unsigned()) {
    const uint64_t u = it->get<uint64_t>();
    v = u > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(u);
  } else {
    v = it->get<int64_t>();
  }
  if (v < lo || v > hi) {
    return InvalidRequest(key, std::string("'") + key + "' must be between " + std::to_string(lo) +
                                   " and " + std::to_string(hi));
  }
  *out = v;
  return std::nullopt;
}

std::optional<ApiError> OptBool(const json& j, const char* key, bool* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) return InvalidRequest(key, std::string("'") + key + "' must be a boolean");
  *out = it->get<bool>();
  return std::nullopt;
}

}  // namespace foundry
