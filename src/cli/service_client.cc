// The background service's client side (service_client.h).
#include "cli/service_client.h"

#include <chrono>
#include <cstdio>
#include <set>

#include "catalog/cache.h"
#include "catalog/catalog.h"
#include "catalog/install.h"
#include "catalog/machine.h"
#include "catalog/resolve.h"
#include "cli/install_with_progress.h"
#include "cli/service_control.h"

namespace foundry::cli {

using json = nlohmann::json;
namespace fs = std::filesystem;

// The model's name for the service: a GGUF path as is, else the id of a cached model, downloading
// the catalog variant the alias resolves to when it is not cached yet.
StatusOr<std::string> EnsureCached(const CatalogOptions& options, const std::string& name) {
  if (fs::path(name).is_absolute()) {
    std::error_code ec;
    if (!fs::is_regular_file(name, ec)) return NotFound("no such GGUF file: " + name);
    return name;
  }
  FOUNDRY_ASSIGN_OR_RETURN(fs::path dir, CacheDirectory(options));
  ModelCache cache(dir);
  FOUNDRY_ASSIGN_OR_RETURN(std::optional<CachedModel> cached, cache.Find(name));
  if (cached) return cached->id;
  FOUNDRY_ASSIGN_OR_RETURN(Catalog catalog, Catalog::Load(options.catalog_file));
  FOUNDRY_ASSIGN_OR_RETURN(MachineInfo machine, DetectMachine(options.ram_gb));
  FOUNDRY_ASSIGN_OR_RETURN(std::set<std::string> cached_ids, cache.CachedIds());
  FOUNDRY_ASSIGN_OR_RETURN(const ModelVariant* v, ResolveModel(catalog, name, machine, cached_ids));
  if (cached_ids.count(AsciiLower(v->id)) > 0) return v->id;
  if (Status fit = CheckFits(catalog, *v, machine); !fit.ok()) {
    std::fprintf(stderr, "warning: %s\n", fit.message().c_str());
  }
  std::printf("Downloading %s...\n", v->id.c_str());
  std::fflush(stdout);
  auto r = InstallWithProgress(cache, *v, options);
  if (!r.ok()) return r.status();
  return v->id;
}

// The running service's port, starting the service first when needed.
StatusOr<RunningService> EnsureService(const fs::path& home) {
  if (auto s = FindRunningService(home)) return *s;
  if (StartService(home) != 0) return IoError("the foundry service could not be started");
  std::fflush(stdout);
  if (auto s = FindRunningService(home)) return *s;
  return IoError("the foundry service did not start");
}

std::unique_ptr<httplib::Client> Client(const RunningService& service) {
  auto c = ServiceClient(service);
  c->set_connection_timeout(5, 0);
  c->set_read_timeout(3600, 0);  // loading or downloading a large model takes a while
  c->set_write_timeout(60, 0);
  return c;
}

// An error answer of the service as a Status (its OpenAI-shaped message).
Status ServiceError(const httplib::Result& r, const std::string& what) {
  if (!r)
    return IoError(what + ": the service did not answer (" + httplib::to_string(r.error()) + ")");
  json j = json::parse(r->body, nullptr, false);
  std::string msg = r->body;
  if (j.is_object() && j.contains("error") && j["error"].is_object() &&
      j["error"].value("message", json()).is_string()) {
    msg = j["error"]["message"].get<std::string>();
  }
  if (r->status == 404) return NotFound(msg);
  if (r->status == 400) return InvalidArgument(msg);
  return IoError(what + ": HTTP " + std::to_string(r->status) + ": " + msg);
}

// Space for one path segment: the service's route takes the rest of the path as the name.
std::string PathName(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

Status LoadInService(httplib::Client& c, const std::string& id, int64_t ttl, int64_t n_ctx) {
  std::string path = "/openai/load/" + PathName(id);
  std::string query;
  if (ttl >= 0) query += "&ttl=" + std::to_string(ttl);
  if (n_ctx > 0) query += "&ctx=" + std::to_string(n_ctx);
  if (!query.empty()) path += "?" + query.substr(1);
  auto r = c.Get(path.c_str());
  if (!r || r->status != 200) return ServiceError(r, "loading " + id);
  return OkStatus();
}

StatusOr<ChatReply> StreamChat(httplib::Client& c, json body,
                               const std::function<void(std::string_view piece)>& on_piece,
                               const std::function<bool()>& keep_going) {
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  ChatReply reply;
  std::string pending, raw, error;
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto on_event = [&](const std::string& data) {
    if (data == "[DONE]") return;
    json j = json::parse(data, nullptr, false);
    if (!j.is_object()) return;
    if (j.contains("error") && j["error"].is_object()) {
      error = j["error"].value("message", "the service reported an error");
      return;
    }
    if (j.contains("usage") && j["usage"].is_object()) {
      reply.prompt_tokens = j["usage"].value("prompt_tokens", int64_t{-1});
      reply.completion_tokens = j["usage"].value("completion_tokens", int64_t{-1});
    }
    if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].empty()) return;
    const json& delta = j["choices"][0].value("delta", json::object());
    if (delta.contains("tool_calls") && delta["tool_calls"].is_array()) {
      for (const json& tc : delta["tool_calls"]) {
        const size_t index = tc.value("index", size_t{0});
        if (index >= 128) continue;  // not a call this client could have been offered
        if (reply.tool_calls.size() <= index) reply.tool_calls.resize(index + 1);
        ChatToolCall& call = reply.tool_calls[index];
        if (tc.contains("id") && tc["id"].is_string()) call.id += tc["id"].get<std::string>();
        const json f = tc.value("function", json::object());
        if (f.contains("name") && f["name"].is_string()) call.name += f["name"].get<std::string>();
        if (f.contains("arguments") && f["arguments"].is_string()) {
          call.arguments += f["arguments"].get<std::string>();
        }
      }
      if (reply.first_token_s < 0) reply.first_token_s = seconds();
    }
    if (delta.contains("content") && delta["content"].is_string()) {
      const std::string piece = delta["content"].get<std::string>();
      if (piece.empty()) return;
      if (reply.first_token_s < 0) reply.first_token_s = seconds();
      reply.text += piece;
      if (on_piece) on_piece(piece);
    }
  };
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/chat/completions";
  req.headers.emplace("Content-Type", "application/json");
  req.headers.emplace("Accept", "text/event-stream");
  req.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  int status = 0;
  req.response_handler = [&](const httplib::Response& r) {
    status = r.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (status != 200) {
      raw.append(data, n);
      return true;
    }
    pending.append(data, n);
    size_t end;
    while ((end = pending.find("\n\n")) != std::string::npos) {
      const std::string event = pending.substr(0, end);
      pending.erase(0, end + 2);
      if (event.rfind("data: ", 0) == 0) on_event(event.substr(6));
    }
    return !keep_going || keep_going();
  };
  auto r = c.send(req);
  reply.total_s = seconds();
  if (keep_going && !keep_going()) {
    reply.cancelled = true;
    return reply;
  }
  if (!r)
    return IoError("chat: the service did not answer (" + httplib::to_string(r.error()) + ")");
  if (status != 200) {
    r.value().body = raw;
    return ServiceError(r, "chat");
  }
  if (!error.empty()) return IoError(error);
  return reply;
}

}  // namespace foundry::cli
