// Writing answers into cpp-httplib responses (the routes' one way to answer).
#pragma once

#include <httplib.h>

#include <string>

#include "server/api/error.h"

namespace foundry {

inline void ReplyJson(httplib::Response& res, std::string json_text) {
  res.status = 200;
  res.set_content(std::move(json_text), "application/json");
}

inline void ReplyError(httplib::Response& res, const ApiError& e) {
  res.status = e.http;
  if (e.http == 503) res.set_header("Retry-After", "1");
  res.set_content(ErrorBody(e), "application/json");
}

// A query parameter, or nullopt when the request has none.
inline std::optional<std::string> QueryParam(const httplib::Request& req, const char* key) {
  if (!req.has_param(key)) return std::nullopt;
  return req.get_param_value(key);
}

}  // namespace foundry
