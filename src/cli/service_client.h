// What CLI commands that work through the background service share: the model's name for the
// service (downloading a catalog model first), the running service's port (starting it), an HTTP
// client for it, its errors as Status, loading a model, and one streamed chat completion.
// `foundry model run|load|unload` and `foundry eval` use them.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog_options.h"
#include "cli/service_control.h"
#include "foundry/status.h"

namespace foundry::cli {

// The model's name for the service: a GGUF path as is, else the id of a cached model,
// downloading the catalog variant the alias resolves to when it is not cached yet.
StatusOr<std::string> EnsureCached(const CatalogOptions& options, const std::string& name);
// The running service, starting it first when needed.
StatusOr<RunningService> EnsureService(const std::filesystem::path& home);
// A client for it that sends its key, with timeouts for loading large models.
std::unique_ptr<httplib::Client> Client(const RunningService& service);
// An error answer of the service as a Status (its OpenAI-shaped message).
Status ServiceError(const httplib::Result& r, const std::string& what);
// Space for one path segment: the service's route takes the rest of the path as the name.
std::string PathName(const std::string& name);
// /openai/load/<id>, with a TTL in seconds when ttl >= 0 and a context size when n_ctx > 0.
Status LoadInService(httplib::Client& c, const std::string& id, int64_t ttl, int64_t n_ctx = 0);

struct ChatToolCall {
  std::string id, name, arguments;  // arguments: JSON text, as the service streamed it
};

struct ChatReply {
  std::string text;
  std::vector<ChatToolCall> tool_calls;  // delta.tool_calls reassembled, in index order
  bool cancelled = false;                              // keep_going said stop
  int64_t prompt_tokens = -1, completion_tokens = -1;  // the final usage chunk's; -1 if none
  double first_token_s = -1;  // from the request to the first piece of content
  double total_s = 0;
};

// Posts `body` (a /v1/chat/completions request; stream and include_usage are set here) and
// reads the streamed reply; on_piece gets each piece of content as it arrives. keep_going is
// asked as data arrives; false stops (the connection closes, the service cancels the request).
StatusOr<ChatReply> StreamChat(httplib::Client& c, nlohmann::json body,
                               const std::function<void(std::string_view piece)>& on_piece,
                               const std::function<bool()>& keep_going = nullptr);

}  // namespace foundry::cli
