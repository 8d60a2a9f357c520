#include "server/api/openai_request.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "server/api/json_text.h"
#include "server/api/response_format.h"

namespace foundry {
namespace {

using json = nlohmann::json;

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

std::optional<ApiError> ParseMessages(const json& j, std::vector<ChatTurn>* out) {
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
    ChatTurn turn;
    turn.role = role->get<std::string>();
    if (turn.role == "developer") turn.role = "system";
    if (turn.role != "system" && turn.role != "user" && turn.role != "assistant") {
      return InvalidRequest(param + ".role",
                            "unsupported role '" + turn.role + "' (use system, user or assistant)");
    }
    auto content = m.find("content");
    if (content == m.end()) {
      return InvalidRequest(param + ".content", "'" + param + ".content' is missing");
    }
    if (auto e = ParseContent(*content, i, &turn.content)) return e;
    out->push_back(std::move(turn));
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
  if (chat) {
    if (auto e = ParseMessages(j, &r->messages)) return e;
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
