#include "server/api/foundry_request.h"

#include <cerrno>
#include <cstdlib>

#include "server/api/json_text.h"

namespace foundry {
namespace {

// true/false as Foundry Local's .NET service reads them (also 1/0).
std::optional<bool> ParseBool(const std::string& v) {
  if (v == "true" || v == "True" || v == "1") return true;
  if (v == "false" || v == "False" || v == "0") return false;
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> ParseLoadQuery(const std::optional<std::string>& ttl,
                                       const std::optional<std::string>& unload, LoadQuery* out) {
  if (ttl) {
    char* end = nullptr;
    errno = 0;
    const long long t = std::strtoll(ttl->c_str(), &end, 10);
    if (ttl->empty() || *end != '\0' || errno != 0 || t < 0 || t > INT64_MAX / 1000) {
      return InvalidRequest("ttl", "'ttl' must be a non-negative number of seconds");
    }
    out->ttl_s = t;
  }
  if (unload) {
    out->unload_when_idle = ParseBool(*unload);
    if (!out->unload_when_idle) return InvalidRequest("unload", "'unload' must be true or false");
  }
  return std::nullopt;
}

std::optional<ApiError> ParseLoadContext(const std::optional<std::string>& ctx, int64_t* n_ctx) {
  *n_ctx = 0;
  if (!ctx) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long n = std::strtoll(ctx->c_str(), &end, 10);
  if (ctx->empty() || *end != '\0' || errno != 0 || n < 1 || n > (1 << 20)) {
    return InvalidRequest("ctx", "'ctx' must be a context size from 1 to 1048576 tokens");
  }
  *n_ctx = n;
  return std::nullopt;
}

std::optional<ApiError> CheckUnloadQuery(const std::optional<std::string>& force) {
  if (force && !ParseBool(*force)) return InvalidRequest("force", "'force' must be true or false");
  return std::nullopt;
}

std::optional<ApiError> ParseDownloadRequest(std::string_view body, std::string* name) {
  nlohmann::json j;
  if (auto e = ParseJsonObject(body, &j)) return e;
  if (auto m = j.find("model"); m != j.end() && m->is_object()) {
    if (auto n = m->find("Name"); n != m->end() && n->is_string()) *name = n->get<std::string>();
  } else if (m != j.end() && m->is_string()) {
    *name = m->get<std::string>();
  }
  if (name->empty()) {
    return InvalidRequest("model", "'model' must be an object with a string 'Name'");
  }
  return std::nullopt;
}

}  // namespace foundry
