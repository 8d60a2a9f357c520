// Foundry Local's management requests to native ones: pure functions from query parameters or
// a body to a struct or an OpenAI-shaped error naming the parameter at fault.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/api/error.h"

namespace foundry {

// GET /openai/load/{name}?ttl=S&unload=B (parameters absent: nullopt).
struct LoadQuery {
  int64_t ttl_s = -1;  // < 0: keep the model's TTL (the default for a new one)
  // false: never unloaded for being idle (Foundry Local's unload=false); absent: unchanged.
  std::optional<bool> unload_when_idle;
};
std::optional<ApiError> ParseLoadQuery(const std::optional<std::string>& ttl,
                                       const std::optional<std::string>& unload, LoadQuery* out);
// /openai/load's `ctx` (our addition, for `model load --ctx-size`): positions per slot,
// 1 to 2^20; absent leaves *n_ctx 0 (the model's default).
std::optional<ApiError> ParseLoadContext(const std::optional<std::string>& ctx, int64_t* n_ctx);

// GET /openai/unload/{name}?force=B: only checked (requests in flight always finish first).
std::optional<ApiError> CheckUnloadQuery(const std::optional<std::string>& force);

// POST /openai/download: {"model": {"Name": NAME, ...}} as Foundry Local's SDK sends it (other
// keys ignored), or {"model": NAME}.
std::optional<ApiError> ParseDownloadRequest(std::string_view body, std::string* name);

}  // namespace foundry
