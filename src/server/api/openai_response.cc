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

json Bytes(const std::string& text) {
  json b = json::array();
  for (char c : text) b.push_back(static_cast<unsigned char>(c));
  return b;
}

json ChatLogprob(const TokenLogprob& t) {
  return json{{"token", t.text}, {"logprob", t.logprob}, {"bytes", Bytes(t.text)}};
}

// OpenAI's logprobs object for some tokens: chat {"content": [...], "refusal": null}, or the
// completions shape. text_offset counts bytes from `offset`, the answer's bytes before them.
json LogprobsJson(const CompletionMeta& m, const std::vector<TokenLogprobs>& tokens,
                  size_t offset = 0) {
  if (!m.logprobs) return nullptr;
  if (m.chat) {
    json content = json::array();
    for (const TokenLogprobs& t : tokens) {
      json entry = ChatLogprob(t.chosen);
      json top = json::array();
      for (const TokenLogprob& alt : t.top) top.push_back(ChatLogprob(alt));
      entry["top_logprobs"] = std::move(top);
      content.push_back(std::move(entry));
    }
    return json{{"content", std::move(content)}, {"refusal", nullptr}};
  }
  json toks = json::array(), lps = json::array(), tops = json::array(), offsets = json::array();
  for (const TokenLogprobs& t : tokens) {
    toks.push_back(t.chosen.text);
    lps.push_back(t.chosen.logprob);
    json top = json::object();
    for (const TokenLogprob& alt : t.top) top[alt.text] = alt.logprob;
    tops.push_back(std::move(top));
    offsets.push_back(offset);
    offset += t.chosen.text.size();
  }
  return json{{"tokens", std::move(toks)},
              {"token_logprobs", std::move(lps)},
              {"top_logprobs", std::move(tops)},
              {"text_offset", std::move(offsets)}};
}

// One streamed choice: a chat delta or a completion's text.
std::string Chunk(const CompletionMeta& m, json delta_or_text, std::string_view finish_reason,
                  const std::vector<TokenLogprobs>& logprobs = {}) {
  json choice = {{"index", 0},
                 {m.chat ? "delta" : "text", std::move(delta_or_text)},
                 {"logprobs", logprobs.empty() ? json(nullptr) : LogprobsJson(m, logprobs)},
                 {"finish_reason", FinishReasonJson(finish_reason)}};
  json c = Envelope(m, /*chunk=*/true, json::array({std::move(choice)}));
  if (m.include_usage) c["usage"] = nullptr;
  return "data: " + JsonText(c) + "\n\n";
}

}  // namespace

json ToolCallJson(const ParsedToolCall& c, int index, bool streamed) {
  json call = {{"id", c.id},
               {"type", "function"},
               {"function", {{"name", c.name}, {"arguments", c.arguments}}}};
  if (streamed) call["index"] = index;
  return call;
}

std::string CompletionBody(const CompletionMeta& m, std::string_view text,
                           std::string_view finish_reason, const TokenUsage& usage) {
  AnswerMessage a;
  a.content = std::string(text);
  return CompletionBody(m, a, finish_reason, usage);
}

std::string CompletionBody(const CompletionMeta& m, const AnswerMessage& a,
                           std::string_view finish_reason, const TokenUsage& usage,
                           const std::vector<TokenLogprobs>& logprobs) {
  json choice = {{"index", 0}};
  if (m.chat) {
    json message = {{"role", "assistant"}};
    message["content"] =
        a.content.empty() && !a.tool_calls.empty() ? json(nullptr) : json(a.content);
    if (!a.reasoning.empty()) message["reasoning_content"] = a.reasoning;
    if (!a.tool_calls.empty() && m.legacy_functions) {
      message["function_call"] = {{"name", a.tool_calls[0].name},
                                  {"arguments", a.tool_calls[0].arguments}};
    } else if (!a.tool_calls.empty()) {
      json calls = json::array();
      for (size_t i = 0; i < a.tool_calls.size(); ++i) {
        calls.push_back(ToolCallJson(a.tool_calls[i], static_cast<int>(i), false));
      }
      message["tool_calls"] = std::move(calls);
    }
    choice["message"] = std::move(message);
  } else {
    choice["text"] = a.content;
  }
  choice["logprobs"] = LogprobsJson(m, logprobs);
  choice["finish_reason"] = FinishReasonJson(finish_reason);
  json body = Envelope(m, /*chunk=*/false, json::array({std::move(choice)}));
  body["usage"] = UsageJson(usage);
  return JsonText(body);
}

std::string SseRoleChunk(const CompletionMeta& m) {
  return Chunk(m, json{{"role", "assistant"}, {"content", ""}}, "");
}

std::string SseTextChunk(const CompletionMeta& m, std::string_view text,
                         const std::vector<TokenLogprobs>& logprobs) {
  return Chunk(m, m.chat ? json{{"content", text}} : json(text), "", logprobs);
}

std::string SseEventChunks(const CompletionMeta& m, const OutputEvent& e,
                           const std::vector<TokenLogprobs>& logprobs) {
  switch (e.kind) {
    case OutputEvent::Kind::kContent:
      return SseTextChunk(m, e.text, logprobs);
    case OutputEvent::Kind::kReasoning:
      return Chunk(m, json{{"reasoning_content", e.text}}, "", logprobs);
    case OutputEvent::Kind::kToolCall:
      break;
  }
  if (m.legacy_functions) {
    return Chunk(m, json{{"function_call", {{"name", e.call.name}, {"arguments", ""}}}}, "",
                 logprobs) +
           Chunk(m, json{{"function_call", {{"arguments", e.call.arguments}}}}, "");
  }
  ParsedToolCall head = e.call;
  head.arguments.clear();
  const json args = {{"index", e.index}, {"function", {{"arguments", e.call.arguments}}}};
  return Chunk(m, json{{"tool_calls", json::array({ToolCallJson(head, e.index, true)})}}, "",
               logprobs) +
         Chunk(m, json{{"tool_calls", json::array({args})}}, "");
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
