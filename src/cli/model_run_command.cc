// `foundry model run|load|unload`: commands that go through the background service, started
// when needed. `model run` downloads a catalog model on first use (in this process, with the
// progress bar), has the service load it, then chats over /v1/chat/completions with streamed
// replies: one answer for a prompt argument, else Foundry Local's interactive chat, where
// Ctrl+C (SIGINT) cancels the reply being generated and keeps the chat. With --tools the model
// is offered functions; its calls are shown as name(arguments) and, in the interactive chat,
// the user types each call's result, which goes back to the model for its answer.
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
#include "cli/service_client.h"
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
  int64_t ctx = 0;          // context per slot to load the model with; 0: the service's default
  bool force = false;
  std::string tools_file;          // JSON: a list of OpenAI tools (or {"tools": [...]})
  std::string tool_choice = "auto";  // auto, none, required, or a function's name
};

// Answers that call tools again and again end after this many rounds per user turn: the next
// request says tool_choice none, so the model answers in text.
constexpr int kMaxToolRounds = 8;

// The tools of --tools: a JSON list of {"type": "function", "function": {...}} (what an OpenAI
// request's `tools` holds), or an object with such a list under "tools".
StatusOr<json> ReadTools(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("--tools: cannot read " + path);
  json j = json::parse(in, nullptr, false);
  if (j.is_object() && j.contains("tools")) j = j["tools"];
  if (!j.is_array() || j.empty()) {
    return InvalidArgument("--tools: " + path +
                           " must hold a non-empty JSON list of tools ({\"type\": \"function\", "
                           "\"function\": {\"name\": ..., \"parameters\": ...}})");
  }
  for (const json& t : j) {
    if (!t.is_object() || !t.contains("function") || !t["function"].is_object() ||
        !t["function"].contains("name")) {
      return InvalidArgument("--tools: every tool in " + path +
                             " needs {\"type\": \"function\", \"function\": {\"name\": ...}}");
    }
  }
  return j;
}

json ToolChoiceJson(const std::string& choice) {
  if (choice == "auto" || choice == "none" || choice == "required") return choice;
  return {{"type", "function"}, {"function", {{"name", choice}}}};
}

// A call as the chat shows it: name(arguments).
void PrintToolCall(const ChatToolCall& c) {
  std::printf("🔧 %s(%s)\n", c.name.c_str(), c.arguments.c_str());
}

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

void PrintStats(const ChatReply& r, const fs::path& home) {
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
  // The options first: a mistake there should not wait for a download or a load.
  json tools = json::array();
  if (!a.tools_file.empty()) {
    auto read = ReadTools(a.tools_file);
    if (!read.ok()) return ReportError(read.status());
    tools = std::move(read).value();
  }
  if (tools.empty() && a.tool_choice != "auto") {
    return ReportError(InvalidArgument("--tool-choice needs --tools (the functions to choose from)"));
  }
  auto id = EnsureCached(options, a.name);
  if (!id.ok()) return ReportError(id.status());
  auto service = EnsureService(options.home);
  if (!service.ok()) return ReportError(service.status());
  auto client = Client(*service);
  std::printf("🕛 Loading model...\n");
  std::fflush(stdout);
  const auto load_start = std::chrono::steady_clock::now();
  if (Status st = LoadInService(*client, *id, a.ttl, a.ctx); !st.ok()) return ReportError(st);
  std::printf("🟢 Model %s loaded successfully\n", id->c_str());
  if (a.verbose) {
    std::fprintf(
        stderr, "[load time %.2f s, service memory %s]\n",
        std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count(),
        ServiceMemory(options.home).c_str());
  }
  std::fflush(stdout);
  const bool interactive = a.prompt.empty();

  struct sigaction sa {};
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  json messages = json::array();
  // One request and its streamed reply, appended to the history; false on an error (reported).
  auto ask = [&](int round, ChatReply* out) -> bool {
    json body = {{"model", *id}, {"messages", messages}};
    if (a.max_tokens >= 0) body["max_tokens"] = a.max_tokens;
    if (!tools.empty()) {
      body["tools"] = tools;
      body["tool_choice"] = round == 0                ? ToolChoiceJson(a.tool_choice)
                            : round < kMaxToolRounds ? json("auto")
                                                     : json("none");
    }
    g_interrupted = 0;
    g_generating = 1;
    auto reply = StreamChat(
        *client, body,
        [](std::string_view piece) {
          std::fwrite(piece.data(), 1, piece.size(), stdout);
          std::fflush(stdout);
        },
        [] { return g_interrupted == 0; });
    g_generating = 0;
    if (reply.ok() && reply->cancelled) g_interrupted = 0;
    if (!reply.ok()) {
      ReportError(reply.status());
      return false;
    }
    if (!reply->text.empty() || reply->tool_calls.empty()) std::printf("\n");
    if (reply->cancelled) std::printf("(generation cancelled)\n");
    for (const ChatToolCall& c : reply->tool_calls) PrintToolCall(c);
    std::fflush(stdout);
    if (a.verbose) PrintStats(*reply, options.home);
    // A cancelled reply stays in the history as far as it got.
    json turn = {{"role", "assistant"}, {"content", reply->text}};
    if (!reply->tool_calls.empty()) {
      if (reply->text.empty()) turn["content"] = nullptr;
      turn["tool_calls"] = json::array();
      for (const ChatToolCall& c : reply->tool_calls) {
        turn["tool_calls"].push_back(
            {{"id", c.id},
             {"type", "function"},
             {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
      }
    }
    messages.push_back(std::move(turn));
    *out = std::move(reply).value();
    return true;
  };
  // A user's turn: the model's reply and, in the interactive chat, as many rounds of tool calls
  // (results typed by the user) as the model makes before it answers.
  auto turn = [&](const std::string& text) -> int {
    const size_t mark = messages.size();
    messages.push_back({{"role", "user"}, {"content", text}});
    for (int round = 0;; ++round) {
      ChatReply reply;
      if (!ask(round, &reply)) {
        messages.erase(messages.begin() + static_cast<std::ptrdiff_t>(mark), messages.end());
        return 1;
      }
      if (reply.tool_calls.empty() || reply.cancelled || !interactive) return 0;
      for (const ChatToolCall& c : reply.tool_calls) {
        std::printf("Result of %s> ", c.name.c_str());
        std::fflush(stdout);
        std::string result;
        if (!std::getline(std::cin, result)) {
          std::printf("\n");
          return 0;
        }
        messages.push_back(
            {{"role", "tool"}, {"tool_call_id", c.id}, {"name", c.name}, {"content", result}});
      }
    }
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
  auto service = EnsureService(options.home);
  if (!service.ok()) return ReportError(service.status());
  auto client = Client(*service);
  std::printf("🕛 Loading model...\n");
  std::fflush(stdout);
  if (Status st = LoadInService(*client, a.name, a.ttl, a.ctx); !st.ok()) return ReportError(st);
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
  auto client = Client(*s);
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
  run->add_option("--ctx-size", args->ctx,
                  "Context size to load the model with (default: the service's; a model loaded "
                  "with another is loaded anew)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  run->add_option("--tools", args->tools_file,
                  "JSON file with a list of OpenAI tools to offer the model; in the chat, you "
                  "type each call's result");
  run->add_option("--tool-choice", args->tool_choice,
                  "auto (default), none, required, or the name of a function the model must "
                  "call first");
  run->callback([&options, args, &exit_code] { exit_code = RunModel(options, *args); });

  CLI::App* load = model.add_subcommand("load", "Load a cached model into the service");
  load->add_option("model", args->name, "Alias, model id, or absolute path of a GGUF file")
      ->required();
  load->add_option("--ttl", args->ttl, "Seconds the model stays loaded when idle (default 600)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  load->add_option("--ctx-size", args->ctx,
                   "Context size to load the model with (default: the service's; a model loaded "
                   "with another is loaded anew)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  load->callback([&options, args, &exit_code] { exit_code = LoadModel(options, *args); });

  CLI::App* unload = model.add_subcommand("unload", "Unload a model from the service");
  unload->add_option("model", args->name, "Alias, model id, or absolute path")->required();
  unload->add_flag("--force", args->force, "Unload even while requests use it");
  unload->callback([&options, args, &exit_code] { exit_code = UnloadModel(options, *args); });
}

}  // namespace foundry::cli
