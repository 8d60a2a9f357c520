#include "server/api/openai_response.h"

#include <nlohmann/json.hpp>

#include "server/api/json_text.h"

namespace foundry {
namespace {

using json = nlohmann::json;

json UsageJson(const TokenUsage& u) {
  return json{{"prompt_tokens", u.prompt_tokens},
              {"completion_tokens", u.completion_tokens},
              {"total_tokens", u.prompt_tokens + u.completion_tokens},
              {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

const char* ObjectName(const CompletionMeta& m, bool chunk) {
  if (!m.chat) return "text_completion";
  return chunk ? "chat.completion.chunk" : "chat.completion";
}

json Envelope(const CompletionMeta& m, bool chunk, json choices) {
  return json{{"id", m.id},
              {"object", ObjectName(m, chunk)},
              {"created", m.created},
              {"model", m.model},
              {"choices", std::move(choices)}};
}

json FinishReasonJson(std::string_view finish_reason) {
  return finish_reason.empty() ? json(nullptr) : json(finish_reason);
}

// One streamed choice: a chat delta or a completion's text.
std::string Chunk(const CompletionMeta& m, json delta_or_text, std::string_view finish_reason) {
  json choice = {{"index", 0},
                 {m.chat ? "delta" : "text", std::move(delta_or_text)},
                 {"logprobs", nullptr},
                 {"finish_reason", FinishReasonJson(finish_reason)}};
  json c = Envelope(m, /*chunk=*/true, json::array({std::move(choice)}));
  if (m.include_usage) c["usage"] = nullptr;
  return "data: " + JsonText(c) + "\n\n";
}

}  // namespace

std::string CompletionBody(const CompletionMeta& m, std::string_view text,
                           std::string_view finish_reason, const TokenUsage& usage) {
  json choice = {{"index", 0}};
  if (m.chat) {
    choice["message"] = {{"role", "assistant"}, {"content", text}};
  } else {
    choice["text"] = text;
  }
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = FinishReasonJson(finish_reason);
  json body = Envelope(m, /*chunk=*/false, json::array({std::move(choice)}));
  body["usage"] = UsageJson(usage);
  return JsonText(body);
}

std::string SseRoleChunk(const CompletionMeta& m) {
  return Chunk(m, json{{"role", "assistant"}, {"content", ""}}, "");
}

std::string SseTextChunk(const CompletionMeta& m, std::string_view text) {
  return Chunk(m, m.chat ? json{{"content", text}} : json(text), "");
}

std::string SseFinishChunk(const CompletionMeta& m, std::string_view finish_reason) {
  return Chunk(m, m.chat ? json::object() : json(""), finish_reason);
}

std::string SseUsageChunk(const CompletionMeta& m, const TokenUsage& usage) {
  json u = Envelope(m, /*chunk=*/true, json::array());
  u["usage"] = UsageJson(usage);
  return "data: " + JsonText(u) + "\n\n";
}

std::string SseError(const ApiError& e) { return "data: " + ErrorBody(e) + "\n\n"; }

std::string Base64Floats(const std::vector<float>& v) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  const size_t n = v.size() * sizeof(float);
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (size_t i = 0; i < n; i += 3) {
    const uint32_t b0 = p[i], b1 = i + 1 < n ? p[i + 1] : 0, b2 = i + 2 < n ? p[i + 2] : 0;
    const uint32_t w = (b0 << 16) | (b1 << 8) | b2;
    out += kAlphabet[(w >> 18) & 63];
    out += kAlphabet[(w >> 12) & 63];
    out += i + 1 < n ? kAlphabet[(w >> 6) & 63] : '=';
    out += i + 2 < n ? kAlphabet[w & 63] : '=';
  }
  return out;
}

std::string EmbeddingsBody(std::string_view model, const std::vector<std::vector<float>>& vectors,
                           bool base64, int64_t prompt_tokens) {
  json data = json::array();
  for (size_t i = 0; i < vectors.size(); ++i) {
    data.push_back({{"object", "embedding"},
                    {"index", i},
                    {"embedding", base64 ? json(Base64Floats(vectors[i])) : json(vectors[i])}});
  }
  return JsonText(
      json{{"object", "list"},
           {"data", std::move(data)},
           {"model", model},
           {"usage", {{"prompt_tokens", prompt_tokens}, {"total_tokens", prompt_tokens}}}});
}

std::string TokenCountBody(int64_t n_tokens) { return JsonText(json{{"tokenCount", n_tokens}}); }

}  // namespace foundry
