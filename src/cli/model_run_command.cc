// `foundry model run|load|unload`: commands that go through the background service, started
// when needed. `model run` downloads a catalog model on first use (in this process, with the
// progress bar), has the service load it, then chats over /v1/chat/completions with streamed
// replies: one answer for a prompt argument, else Foundry Local's interactive chat, where
// Ctrl+C (SIGINT) cancels the reply being generated and keeps the chat.
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "catalog/cache.h"
#include "catalog/catalog.h"
#include "catalog/install.h"
#include "catalog/machine.h"
#include "catalog/resolve.h"
#include "cli/commands.h"
#include "cli/install_with_progress.h"
#include "cli/service_control.h"

namespace foundry::cli {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

struct ModelRunArgs {
  std::string name;
  std::vector<std::string> prompt;
  bool verbose = false;
  int64_t ttl = -1;
  int64_t max_tokens = -1;  // -1: the service's limit (the context)
  bool force = false;
};

volatile sig_atomic_t g_interrupted = 0;
volatile sig_atomic_t g_generating = 0;

// Ctrl+C: stops the reply being streamed; at the prompt it only starts a fresh prompt line (the
// terminal has already dropped what was typed).
void OnSigint(int) {
  g_interrupted = 1;
  if (!g_generating) {
    static const char kPrompt[] = "\n> ";
    if (write(STDOUT_FILENO, kPrompt, sizeof(kPrompt) - 1) < 0) {
    }
  }
}

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
StatusOr<int> EnsureService(const fs::path& home) {
  if (auto s = FindRunningService(home)) return s->port;
  if (StartService(home) != 0) return IoError("the foundry service could not be started");
  std::fflush(stdout);
  if (auto s = FindRunningService(home)) return s->port;
  return IoError("the foundry service did not start");
}

std::unique_ptr<httplib::Client> Client(int port) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
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

Status LoadInService(httplib::Client& c, const std::string& id, int64_t ttl) {
  std::string path = "/openai/load/" + PathName(id);
  if (ttl >= 0) path += "?ttl=" + std::to_string(ttl);
  auto r = c.Get(path.c_str());
  if (!r || r->status != 200) return ServiceError(r, "loading " + id);
  return OkStatus();
}

// Resident memory of the service process (the loaded models live there), from /proc.
std::string ServiceMemory(const fs::path& home) {
  auto s = FindRunningService(home);
  if (!s) return "unknown";
  std::ifstream in("/proc/" + std::to_string(s->pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      const long kb = std::strtol(line.c_str() + 6, nullptr, 10);
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.1f MB", static_cast<double>(kb) / 1024.0);
      return buf;
    }
  }
  return "unknown";
}

struct Reply {
  std::string text;
  bool cancelled = false;
  int64_t completion_tokens = -1;
  double first_token_s = -1;
  double total_s = 0;
};

// Streams one chat completion to stdout. Ctrl+C ends it early (the connection closes and the
// service cancels the request).
StatusOr<Reply> StreamChat(httplib::Client& c, const std::string& model, const json& messages,
                           int64_t max_tokens) {
  json body = {{"model", model},
               {"messages", messages},
               {"stream", true},
               {"stream_options", {{"include_usage", true}}}};
  if (max_tokens >= 0) body["max_tokens"] = max_tokens;
  Reply reply;
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
      reply.completion_tokens = j["usage"].value("completion_tokens", int64_t{-1});
    }
    if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].empty()) return;
    const json& delta = j["choices"][0].value("delta", json::object());
    if (delta.contains("content") && delta["content"].is_string()) {
      const std::string piece = delta["content"].get<std::string>();
      if (piece.empty()) return;
      if (reply.first_token_s < 0) reply.first_token_s = seconds();
      reply.text += piece;
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
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
    return g_interrupted == 0;
  };
  g_interrupted = 0;
  g_generating = 1;
  auto r = c.send(req);
  g_generating = 0;
  reply.total_s = seconds();
  if (g_interrupted) {
    g_interrupted = 0;
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

void PrintStats(const Reply& r, const fs::path& home) {
  const double gen_s = r.first_token_s >= 0 ? r.total_s - r.first_token_s : 0;
  std::fprintf(stderr, "[time to first token %.2f s", r.first_token_s >= 0 ? r.first_token_s : 0);
  if (r.completion_tokens > 1 && gen_s > 0) {
    std::fprintf(stderr, ", %lld tokens, %.1f tokens/s",
                 static_cast<long long>(r.completion_tokens),
                 static_cast<double>(r.completion_tokens - 1) / gen_s);
  }
  std::fprintf(stderr, ", service memory %s]\n", ServiceMemory(home).c_str());
}

void PrintHelp() {
  std::printf(
      "Commands:\n"
      "  /? or /help   show this help\n"
      "  /exit         leave the chat\n"
      "Anything else is sent to the model; the conversation is kept until you leave.\n"
      "Ctrl+C cancels the reply being generated.\n");
}

int RunModel(const CatalogOptions& options, const ModelRunArgs& a) {
  auto id = EnsureCached(options, a.name);
  if (!id.ok()) return ReportError(id.status());
  auto port = EnsureService(options.home);
  if (!port.ok()) return ReportError(port.status());
  auto client = Client(*port);
  std::printf("🕛 Loading model...\n");
  std::fflush(stdout);
  const auto load_start = std::chrono::steady_clock::now();
  if (Status st = LoadInService(*client, *id, a.ttl); !st.ok()) return ReportError(st);
  std::printf("🟢 Model %s loaded successfully\n", id->c_str());
  if (a.verbose) {
    std::fprintf(
        stderr, "[load time %.2f s, service memory %s]\n",
        std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count(),
        ServiceMemory(options.home).c_str());
  }
  std::fflush(stdout);

  struct sigaction sa {};
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  json messages = json::array();
  auto turn = [&](const std::string& text) -> int {
    messages.push_back({{"role", "user"}, {"content", text}});
    auto reply = StreamChat(*client, *id, messages, a.max_tokens);
    if (!reply.ok()) {
      messages.erase(messages.end() - 1);
      return ReportError(reply.status());
    }
    std::printf("\n");
    if (reply->cancelled) std::printf("(generation cancelled)\n");
    std::fflush(stdout);
    if (a.verbose) PrintStats(*reply, options.home);
    // A cancelled reply stays in the history as far as it got.
    messages.push_back({{"role", "assistant"}, {"content", reply->text}});
    return 0;
  };

  if (!a.prompt.empty()) {
    std::string text;
    for (const std::string& w : a.prompt) text += (text.empty() ? "" : " ") + w;
    return turn(text);
  }
  std::printf("\nInteractive Chat. Enter /? or /help for help.\n");
  std::printf("Press Ctrl+C to cancel generation. Type /exit to leave the chat.\n");
  std::string line;
  int rc = 0;
  for (;;) {
    std::printf("\n> ");
    std::fflush(stdout);
    g_interrupted = 0;
    if (!std::getline(std::cin, line)) {
      std::printf("\n");
      break;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t b = line.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    line = line.substr(b, line.find_last_not_of(" \t") - b + 1);
    if (line == "/exit" || line == "/quit") break;
    if (line == "/?" || line == "/help") {
      PrintHelp();
      continue;
    }
    if (line[0] == '/') {
      std::printf("Unknown command %s; enter /? for help.\n", line.c_str());
      continue;
    }
    rc = turn(line);
  }
  return rc;
}

int LoadModel(const CatalogOptions& options, const ModelRunArgs& a) {
  auto port = EnsureService(options.home);
  if (!port.ok()) return ReportError(port.status());
  auto client = Client(*port);
  std::printf("🕛 Loading model...\n");
  std::fflush(stdout);
  if (Status st = LoadInService(*client, a.name, a.ttl); !st.ok()) return ReportError(st);
  // The service names loaded models by id; show the one this name stands for.
  auto r = client->Get("/openai/loadedmodels");
  std::string id = a.name;
  if (r && r->status == 200) {
    json ids = json::parse(r->body, nullptr, false);
    auto cached = EnsureCached(options, a.name);  // in the cache already: no download happens here
    if (cached.ok() && ids.is_array()) {
      for (const json& x : ids) {
        if (x.is_string() && AsciiLower(x.get<std::string>()) == AsciiLower(*cached)) {
          id = x.get<std::string>();
        }
      }
    }
  }
  std::printf("🟢 Model %s loaded successfully\n", id.c_str());
  return 0;
}

int UnloadModel(const CatalogOptions& options, const ModelRunArgs& a) {
  auto s = FindRunningService(options.home);
  if (!s) {
    std::printf("🔴 Model management service is not running!\n");
    return 1;
  }
  auto client = Client(s->port);
  const std::string path =
      "/openai/unload/" + PathName(a.name) + (a.force ? "?force=true" : "?force=false");
  auto r = client->Get(path.c_str());
  if (!r || r->status != 200) return ReportError(ServiceError(r, "unloading " + a.name));
  std::printf("🔴 Model %s was unloaded\n", a.name.c_str());
  return 0;
}

}  // namespace

void AddModelServiceCommands(CLI::App& model, const Environment& env, int& exit_code) {
  const CatalogOptions& options = env.catalog;
  auto args = std::make_shared<ModelRunArgs>();
  CLI::App* run = model.add_subcommand(
      "run", "Download (first time), load and chat with a model through the service");
  run->add_option("model", args->name, "Alias, model id, or absolute path of a GGUF file")
      ->required();
  run->add_option("prompt", args->prompt, "Answer this prompt and exit (default: interactive)");
  run->add_flag("--verbose", args->verbose,
                "Show load time, time to first token, tokens/s, memory");
  run->add_option("--ttl", args->ttl, "Seconds the model stays loaded when idle (default 600)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  run->add_option("--max-tokens", args->max_tokens,
                  "Most tokens per reply (default: until the model stops or the context is full)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  run->callback([&options, args, &exit_code] { exit_code = RunModel(options, *args); });

  CLI::App* load = model.add_subcommand("load", "Load a cached model into the service");
  load->add_option("model", args->name, "Alias, model id, or absolute path of a GGUF file")
      ->required();
  load->add_option("--ttl", args->ttl, "Seconds the model stays loaded when idle (default 600)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  load->callback([&options, args, &exit_code] { exit_code = LoadModel(options, *args); });

  CLI::App* unload = model.add_subcommand("unload", "Unload a model from the service");
  unload->add_option("model", args->name, "Alias, model id, or absolute path")->required();
  unload->add_flag("--force", args->force, "Unload even while requests use it");
  unload->callback([&options, args, &exit_code] { exit_code = UnloadModel(options, *args); });
}

}  // namespace foundry::cli
