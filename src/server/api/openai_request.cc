#include "server/api/openai_request.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "server/api/json_text.h"
#include "server/api/response_format.h"

namespace foundry {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

std::optional<ApiError> ParseContent(const json& c, size_t index, std::string* out) {
  const std::string param = "messages[" + std::to_string(index) + "].content";
  if (c.is_null()) return std::nullopt;
  if (c.is_string()) {
    *out = c.get<std::string>();
    return std::nullopt;
  }
  if (!c.is_array()) {
    return InvalidRequest(param, "'" + param + "' must be a string or a list of parts");
  }
  for (const json& part : c) {
    if (!part.is_object()) return InvalidRequest(param, "each content part must be an object");
    auto type = part.find("type");
    auto text = part.find("text");
    if (type == part.end() || !type->is_string() || type->get<std::string>() != "text") {
      return InvalidRequest(param, "only text content parts ({\"type\":\"text\"}) are supported");
    }
    if (text == part.end() || !text->is_string()) {
      return InvalidRequest(param, "a text content part needs a string 'text'");
    }
    if (!out->empty()) *out += "\n";
    *out += text->get<std::string>();
  }
  return std::nullopt;
}

std::optional<ApiError> ParseToolCalls(const json& m, const std::string& param,
                                       std::vector<ApiToolCall>* out) {
  auto it = m.find("tool_calls");
  if (it == m.end() || it->is_null()) return std::nullopt;
  const std::string p = param + ".tool_calls";
  if (!it->is_array()) return InvalidRequest(p, "'" + p + "' must be an array");
  for (size_t k = 0; k < it->size(); ++k) {
    const json& c = (*it)[k];
    const std::string pk = p + "[" + std::to_string(k) + "]";
    const char* kShape =
        "must be {\"id\", \"type\": \"function\", \"function\": {\"name\", "
        "\"arguments\"}}";
    if (!c.is_object()) return InvalidRequest(pk, "'" + pk + "' " + kShape);
    auto type = c.find("type");
    auto fn = c.find("function");
    if ((type != c.end() && type->get_ptr<const std::string*>() == nullptr) ||
        (type != c.end() && type->get<std::string>() != "function") || fn == c.end() ||
        !fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string()) {
      return InvalidRequest(pk, "'" + pk + "' " + kShape);
    }
    ApiToolCall call;
    if (auto id = c.find("id"); id != c.end() && id->is_string()) call.id = id->get<std::string>();
    call.name = (*fn)["name"].get<std::string>();
    auto args = fn->find("arguments");
    if (args == fn->end() || args->is_null()) {
      call.arguments = "{}";
    } else if (args->is_string()) {
      call.arguments = args->get<std::string>();
    } else if (args->is_object()) {
      call.arguments = JsonText(*args);
    } else {
      return InvalidRequest(pk + ".function.arguments",
                            "'" + pk + ".function.arguments' must be a JSON string");
    }
    out->push_back(std::move(call));
  }
  return std::nullopt;
}

std::optional<ApiError> ParseMessages(const json& j, std::vector<ApiMessage>* out) {
  auto it = j.find("messages");
  if (it == j.end() || !it->is_array() || it->empty()) {
    return InvalidRequest("messages", "'messages' must be a non-empty array");
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const json& m = (*it)[i];
    const std::string param = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return InvalidRequest(param, "'" + param + "' must be an object");
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) {
      return InvalidRequest(param + ".role", "'" + param + ".role' must be a string");
    }
    ApiMessage msg;
    msg.role = role->get<std::string>();
    if (msg.role == "developer") msg.role = "system";
    if (msg.role == "function") msg.role = "tool";  // the legacy functions API's result turn
    if (msg.role != "system" && msg.role != "user" && msg.role != "assistant" &&
        msg.role != "tool") {
      return InvalidRequest(param + ".role", "unsupported role '" + msg.role +
                                                 "' (use system, user, assistant or tool)");
    }
    if (msg.role == "assistant") {
      if (auto e = ParseToolCalls(m, param, &msg.tool_calls)) return e;
    }
    for (const char* key : {"tool_call_id", "name"}) {
      auto f = m.find(key);
      if (f == m.end() || f->is_null()) continue;
      if (!f->is_string()) {
        return InvalidRequest(param + "." + key, "'" + param + "." + key + "' must be a string");
      }
      (std::string_view(key) == "name" ? msg.name : msg.tool_call_id) = f->get<std::string>();
    }
    auto content = m.find("content");
    if (content == m.end() && msg.tool_calls.empty()) {
      // Only an assistant turn that calls tools may leave its content out.
      return InvalidRequest(param + ".content", "'" + param + ".content' is missing");
    }
    if (content == m.end() || content->is_null()) {
      msg.content_null = true;
    } else if (auto e = ParseContent(*content, i, &msg.content)) {
      return e;
    }
    out->push_back(std::move(msg));
  }
  return std::nullopt;
}

// One function definition ({name, description?, parameters?, strict?}) at `param`.
std::optional<ApiError> ParseFunction(const ojson& f, const std::string& param, ApiTool* out) {
  if (!f.is_object()) return InvalidRequest(param, "'" + param + "' must be an object");
  auto name = f.find("name");
  if (name == f.end() || !name->is_string() || name->get<std::string>().empty()) {
    return InvalidRequest(param + ".name", "'" + param + ".name' must be a non-empty string");
  }
  out->name = name->get<std::string>();
  auto params = f.find("parameters");
  if (params != f.end() && !params->is_null() && !params->is_object()) {
    return InvalidRequest(param + ".parameters",
                          "'" + param + ".parameters' must be a JSON Schema object");
  }
  out->parameters = params != f.end() && params->is_object()
                        ? params->dump(-1, ' ', false, ojson::error_handler_t::replace)
                        : "{}";
  auto strict = f.find("strict");
  if (strict != f.end() && !strict->is_null()) {
    if (!strict->is_boolean()) {
      return InvalidRequest(param + ".strict", "'" + param + ".strict' must be a boolean");
    }
    out->strict = strict->get<bool>();
  }
  ojson tool = {{"type", "function"}, {"function", f}};
  out->json = tool.dump(-1, ' ', false, ojson::error_handler_t::replace);
  return std::nullopt;
}

// tools (or the legacy functions), read with key order kept: templates print them.
std::optional<ApiError> ParseTools(const ojson& j, CompletionRequest* r) {
  auto tools = j.find("tools");
  auto functions = j.find("functions");
  const bool has_tools = tools != j.end() && !tools->is_null();
  const bool has_functions = functions != j.end() && !functions->is_null();
  if (has_tools && has_functions) {
    return InvalidRequest("functions", "give either 'tools' or the legacy 'functions', not both");
  }
  if (has_tools) {
    if (!tools->is_array()) return InvalidRequest("tools", "'tools' must be an array");
    for (size_t i = 0; i < tools->size(); ++i) {
      const ojson& t = (*tools)[i];
      const std::string param = "tools[" + std::to_string(i) + "]";
      auto type = t.is_object() ? t.find("type") : t.end();
      if (!t.is_object() || type == t.end() || !type->is_string() ||
          type->get<std::string>() != "function" || !t.contains("function")) {
        return InvalidRequest(param, "'" + param +
                                         "' must be {\"type\": \"function\", \"function\": {…}} "
                                         "(only function tools are supported)");
      }
      ApiTool tool;
      if (auto e = ParseFunction(t["function"], param + ".function", &tool)) return e;
      r->tools.push_back(std::move(tool));
    }
  } else if (has_functions) {
    if (!functions->is_array()) return InvalidRequest("functions", "'functions' must be an array");
    r->legacy_functions = true;
    for (size_t i = 0; i < functions->size(); ++i) {
      ApiTool tool;
      const std::string param = "functions[" + std::to_string(i) + "]";
      if (auto e = ParseFunction((*functions)[i], param, &tool)) return e;
      r->tools.push_back(std::move(tool));
    }
  }
  return std::nullopt;
}

// tool_choice: "auto" | "none" | "required" | {"type": "function", "function": {"name"}};
// function_call: "auto" | "none" | {"name"}.
std::optional<ApiError> ParseToolChoice(const json& j, CompletionRequest* r) {
  const char* key = r->legacy_functions ? "function_call" : "tool_choice";
  const char* other = r->legacy_functions ? "tool_choice" : "function_call";
  if (auto o = j.find(other); o != j.end() && !o->is_null()) {
    return InvalidRequest(other, std::string("'") + other + "' goes with '" +
                                     (r->legacy_functions ? "tools" : "functions") + "'; use '" +
                                     key + "'");
  }
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  const std::string k = key;
  if (it->is_string()) {
    const std::string v = it->get<std::string>();
    if (v == "auto") {
      r->tool_choice.mode = ToolChoice::Mode::kAuto;
    } else if (v == "none") {
      r->tool_choice.mode = ToolChoice::Mode::kNone;
    } else if (v == "required" && !r->legacy_functions) {
      r->tool_choice.mode = ToolChoice::Mode::kRequired;
    } else {
      return InvalidRequest(k, "'" + k + "' must be auto, none" +
                                   (r->legacy_functions ? "" : ", required") +
                                   " or a named function");
    }
  } else if (it->is_object()) {
    const json* fn = &*it;
    if (!r->legacy_functions) {
      auto type = it->find("type");
      auto f = it->find("function");
      if (type == it->end() || *type != "function" || f == it->end() || !f->is_object()) {
        return InvalidRequest(
            k, "'" + k + "' must be {\"type\": \"function\", \"function\": {\"name\": …}}");
      }
      fn = &*f;
    }
    auto name = fn->find("name");
    if (name == fn->end() || !name->is_string()) {
      return InvalidRequest(k, "'" + k + "' names no function");
    }
    r->tool_choice.mode = ToolChoice::Mode::kFunction;
    r->tool_choice.function = name->get<std::string>();
  } else {
    return InvalidRequest(k, "'" + k + "' must be a string or an object");
  }
  if (r->tool_choice.mode != ToolChoice::Mode::kAuto &&
      r->tool_choice.mode != ToolChoice::Mode::kNone && r->tools.empty()) {
    return InvalidRequest(k, "'" + k + "' asks for a call but no tools are given");
  }
  if (r->tool_choice.mode == ToolChoice::Mode::kFunction) {
    bool known = false;
    for (const ApiTool& t : r->tools) known = known || t.name == r->tool_choice.function;
    if (!known) {
      return InvalidRequest(
          k, "'" + k + "' names '" + r->tool_choice.function + "', which is not among the tools");
    }
  }
  return std::nullopt;
}

// chat: logprobs (bool) and top_logprobs (0-20, needs logprobs); completions: logprobs N.
std::optional<ApiError> ParseLogprobs(const json& j, CompletionRequest* r) {
  std::optional<int64_t> top;
  if (r->chat) {
    if (auto e = OptBool(j, "logprobs", &r->logprobs)) return e;
    if (auto e = OptInteger(j, "top_logprobs", 0, 20, &top)) return e;
    if (top && !r->logprobs) {
      return InvalidRequest("top_logprobs", "'top_logprobs' needs 'logprobs': true");
    }
  } else {
    if (auto e = OptInteger(j, "logprobs", 0, 20, &top)) return e;
    r->logprobs = top.has_value();
  }
  if (top) r->top_logprobs = static_cast<int>(*top);
  return std::nullopt;
}

// Fields we accept but whose only supported value is OpenAI's default; any other value is
// refused rather than ignored.
// (response_format and grammar: response_format.h.)
std::optional<ApiError> ParseDefaultsOnly(const json& j, bool chat) {
  if (chat) return std::nullopt;
  if (auto it = j.find("echo"); it != j.end() && !it->is_null() && *it != false) {
    return InvalidRequest("echo", "'echo' is not supported");
  }
  if (auto it = j.find("best_of"); it != j.end() && !it->is_null() && *it != 1) {
    return InvalidRequest("best_of", "only best_of=1 is supported");
  }
  if (auto it = j.find("suffix"); it != j.end() && !it->is_null() && *it != "") {
    return InvalidRequest("suffix", "'suffix' is not supported");
  }
  return std::nullopt;
}

// Every request field is either implemented or refused by name: none is silently dropped.
std::optional<ApiError> RejectUnknownFields(const json& j, bool chat) {
  static constexpr std::string_view kCommon[] = {
      "model",
      "max_tokens",
      "max_completion_tokens",
      "n",
      "temperature",
      "top_p",
      "min_p",
      "presence_penalty",
      "frequency_penalty",
      "repeat_penalty",
      "top_k",
      "seed",
      "random_seed",
      "logit_bias",
      "stop",
      "stream",
      "stream_options",
      "ttl",
      "num_ctx",
      "logprobs",
      "response_format",
      "grammar",
      "user"};  // user: an end-user id for the caller's own records; nothing to do with it
  static constexpr std::string_view kChat[] = {
      "messages",    "tools", "tool_choice", "functions", "function_call", "parallel_tool_calls",
      "top_logprobs"};
  static constexpr std::string_view kCompletion[] = {"prompt", "echo", "best_of", "suffix"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    auto in = [&](const auto& list) {
      for (std::string_view k : list) {
        if (k == key) return true;
      }
      return false;
    };
    if (in(kCommon) || (chat ? in(kChat) : in(kCompletion))) continue;
    return InvalidRequest(key, "'" + key + "' is not supported by this service");
  }
  return std::nullopt;
}

// Token ids in [0, INT32_MAX]; false at the first that is not.
bool ParseTokenIds(const json& a, std::vector<int32_t>* out) {
  for (const json& t : a) {
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > INT32_MAX) {
      return false;
    }
    out->push_back(static_cast<int32_t>(t.get<int64_t>()));
  }
  return true;
}

std::optional<ApiError> ParsePrompt(const json& j, CompletionRequest* r) {
  const char* kShape = "'prompt' must be a string, one string in a list, or token ids";
  auto p = j.find("prompt");
  if (p == j.end()) return InvalidRequest("prompt", "'prompt' is required");
  if (p->is_string()) {
    r->prompt = p->get<std::string>();
  } else if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) {
    r->prompt = (*p)[0].get<std::string>();
  } else if (p->is_array() && !p->empty()) {
    r->prompt_is_tokens = true;
    if (!ParseTokenIds(*p, &r->prompt_tokens)) return InvalidRequest("prompt", kShape);
  } else {
    return InvalidRequest("prompt", kShape);
  }
  return std::nullopt;
}

// A number field in [lo, hi] into a float sampling parameter.
std::optional<ApiError> OptFloat(const json& j, const char* key, double lo, double hi, float* out) {
  std::optional<double> v;
  if (auto e = OptNumber(j, key, lo, hi, &v)) return e;
  if (v) *out = static_cast<float>(*v);
  return std::nullopt;
}

std::optional<ApiError> ParseLogitBias(const json& j, SamplingParams* s) {
  auto it = j.find("logit_bias");
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) return InvalidRequest("logit_bias", "'logit_bias' must be an object");
  for (auto kv = it->begin(); kv != it->end(); ++kv) {
    const std::string& key = kv.key();
    char* end = nullptr;
    errno = 0;
    const long long id = std::strtoll(key.c_str(), &end, 10);
    if (key.empty() || *end != '\0' || errno != 0 || id < 0 || id > INT32_MAX) {
      return InvalidRequest("logit_bias", "'logit_bias' keys must be token ids");
    }
    if (!kv.value().is_number() || !std::isfinite(kv.value().get<double>()) ||
        std::fabs(kv.value().get<double>()) > 100) {
      return InvalidRequest("logit_bias",
                            "'logit_bias' values must be numbers between -100 and 100");
    }
    s->logit_bias.push_back({static_cast<int32_t>(id), kv.value().get<float>()});
  }
  return std::nullopt;
}

std::optional<ApiError> ParseSampling(const json& j, SamplingParams* s) {
  if (auto e = OptFloat(j, "temperature", 0, 100, &s->temperature)) return e;
  std::optional<double> top_p;
  if (auto e = OptNumber(j, "top_p", 0, 1, &top_p)) return e;
  if (top_p) s->top_p = *top_p <= 0 ? 1e-9f : static_cast<float>(*top_p);  // 0: the top token
  if (auto e = OptFloat(j, "min_p", 0, 1, &s->min_p)) return e;
  if (auto e = OptFloat(j, "presence_penalty", -2, 2, &s->presence_penalty)) return e;
  if (auto e = OptFloat(j, "frequency_penalty", -2, 2, &s->frequency_penalty)) return e;
  if (auto e = OptFloat(j, "repeat_penalty", 1e-6, 100, &s->repeat_penalty)) return e;
  std::optional<int64_t> top_k;
  if (auto e = OptInteger(j, "top_k", 0, INT32_MAX, &top_k)) return e;
  if (top_k) s->top_k = static_cast<int32_t>(*top_k);
  // OpenAI's seed and llama.cpp's random_seed name one setting; any 64-bit integer.
  for (const char* key : {"seed", "random_seed"}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_number_integer()) {
      return InvalidRequest(key, std::string("'") + key + "' must be an integer");
    }
    s->seed =
        it->is_number_unsigned() ? it->get<uint64_t>() : static_cast<uint64_t>(it->get<int64_t>());
  }
  if (auto e = ParseLogitBias(j, s)) return e;
  // Whatever the field checks above let through must also satisfy the sampler.
  const Status st = Sampler::Validate(*s);
  if (!st.ok()) return InvalidRequest("", st.message());
  return std::nullopt;
}

std::optional<ApiError> ParseStop(const json& j, std::vector<std::string>* out) {
  auto it = j.find("stop");
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) {
    out->push_back(it->get<std::string>());
  } else if (it->is_array() && it->size() <= 16) {
    for (const json& x : *it) {
      if (!x.is_string()) {
        return InvalidRequest("stop", "'stop' must be a string or a list of strings");
      }
      out->push_back(x.get<std::string>());
    }
  } else {
    return InvalidRequest("stop", "'stop' must be a string or a list of at most 16 strings");
  }
  return std::nullopt;
}

std::optional<ApiError> ParseStreamOptions(const json& j, CompletionRequest* r) {
  if (auto e = OptBool(j, "stream", &r->stream)) return e;
  auto it = j.find("stream_options");
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) {
    return InvalidRequest("stream_options", "'stream_options' must be an object");
  }
  if (auto u = it->find("include_usage"); u != it->end() && !u->is_null()) {
    if (!u->is_boolean()) {
      return InvalidRequest("stream_options", "'stream_options.include_usage' must be a boolean");
    }
    r->include_usage = u->get<bool>();
  }
  return std::nullopt;
}

std::optional<ApiError> ParseGeneration(std::string_view body, bool chat, CompletionRequest* r) {
  json j;
  if (auto e = ParseJsonObject(body, &j)) return e;
  r->chat = chat;
  if (auto e = RequireModel(j, &r->model)) return e;
  if (auto e = RejectUnknownFields(j, chat)) return e;
  if (auto e = ParseDefaultsOnly(j, chat)) return e;
  if (auto e = ParseLogprobs(j, r)) return e;
  if (chat) {
    if (auto e = ParseMessages(j, &r->messages)) return e;
    if (j.contains("tools") || j.contains("functions")) {
      // Again with key order kept (the nesting depth was checked by the first parse).
      const ojson ordered = ojson::parse(body, nullptr, /*allow_exceptions=*/false);
      if (auto e = ParseTools(ordered, r)) return e;
    }
    if (auto e = ParseToolChoice(j, r)) return e;
    if (auto e = OptBool(j, "parallel_tool_calls", &r->parallel_tool_calls)) return e;
  } else {
    if (auto e = ParsePrompt(j, r)) return e;
  }
  // max_completion_tokens is OpenAI's newer name; it wins when both are given.
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    std::optional<int64_t> n;
    if (auto e = OptInteger(j, key, 0, INT64_MAX, &n)) return e;
    if (n) r->max_tokens = *n;
  }
  std::optional<int64_t> n;
  if (auto e = OptInteger(j, "n", 1, 1, &n)) {
    e->message = "only n=1 is supported";
    return e;
  }
  if (auto e = ParseSampling(j, &r->sampling)) return e;
  if (auto e = ParseResponseFormat(j, body, &r->sampling)) return e;
  if (auto e = ParseStop(j, &r->stop)) return e;
  if (auto e = ParseStreamOptions(j, r)) return e;
  std::optional<int64_t> ttl;
  if (auto e = OptInteger(j, "ttl", 0, INT64_MAX / 1000, &ttl)) return e;
  if (ttl) r->ttl_s = *ttl;
  std::optional<int64_t> n_ctx;
  if (auto e = OptInteger(j, "num_ctx", 1, int64_t{1} << 20, &n_ctx)) return e;
  if (n_ctx) r->n_ctx = *n_ctx;
  return std::nullopt;
}

std::optional<ApiError> ParseEmbeddingInput(const json& j, std::vector<EmbeddingInput>* out) {
  const char* kShape =
      "'input' must be a string, a list of strings, token ids or a list of token id lists";
  auto it = j.find("input");
  if (it == j.end() || it->is_null()) return InvalidRequest("input", "'input' is required");
  if (it->is_string()) {
    out->push_back({it->get<std::string>(), {}, false});
  } else if (it->is_array() && !it->empty() && (*it)[0].is_number()) {
    EmbeddingInput in;
    in.is_tokens = true;
    if (!ParseTokenIds(*it, &in.tokens)) return InvalidRequest("input", kShape);
    out->push_back(std::move(in));
  } else if (it->is_array()) {
    if (it->empty()) return InvalidRequest("input", "'input' must not be an empty list");
    if (it->size() > kMaxEmbeddingInputs) {
      return InvalidRequest(
          "input", "'input' holds more than " + std::to_string(kMaxEmbeddingInputs) + " items");
    }
    for (const json& item : *it) {
      EmbeddingInput in;
      if (item.is_string()) {
        in.text = item.get<std::string>();
      } else if (item.is_array() && !item.empty() && ParseTokenIds(item, &in.tokens)) {
        in.is_tokens = true;
      } else {
        return InvalidRequest("input", kShape);
      }
      out->push_back(std::move(in));
    }
  } else {
    return InvalidRequest("input", kShape);
  }
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> ParseChatCompletionRequest(std::string_view body, CompletionRequest* out) {
  return ParseGeneration(body, /*chat=*/true, out);
}

std::optional<ApiError> ParseCompletionRequest(std::string_view body, CompletionRequest* out) {
  return ParseGeneration(body, /*chat=*/false, out);
}

std::optional<ApiError> ParseEmbeddingRequest(std::string_view body, EmbeddingRequest* out) {
  json j;
  if (auto e = ParseJsonObject(body, &j)) return e;
  if (auto e = RequireModel(j, &out->model)) return e;
  if (auto e = ParseEmbeddingInput(j, &out->inputs)) return e;
  auto format = j.find("encoding_format");
  if (format != j.end() && !format->is_null()) {
    if (!format->is_string() ||
        (format->get<std::string>() != "float" && format->get<std::string>() != "base64")) {
      return InvalidRequest("encoding_format", "'encoding_format' must be float or base64");
    }
    out->base64 = format->get<std::string>() == "base64";
  }
  if (auto e = OptInteger(j, "dimensions", 1, INT64_MAX, &out->dimensions)) return e;
  return std::nullopt;
}

std::optional<ApiError> ParseTokenCountRequest(std::string_view body, TokenCountRequest* out) {
  json j;
  if (auto e = ParseJsonObject(body, &j)) return e;
  if (auto e = RequireModel(j, &out->model)) return e;
  return ParseMessages(j, &out->messages);
}

}  // namespace foundry
