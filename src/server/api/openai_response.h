// OpenAI response bodies from native results: pure functions to JSON text (whole answers) and
// server-sent events (streamed answers).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/token_logprobs.h"
#include "server/api/assistant_output_parser.h"
#include "server/api/error.h"

namespace foundry {

// What every chunk and answer of one completion repeats.
struct CompletionMeta {
  std::string id;  // chatcmpl-... or cmpl-...
  std::string model;
  int64_t created = 0;  // Unix seconds
  bool chat = true;     // chat.completion(.chunk) rather than text_completion
  bool include_usage = false;
  bool logprobs = false;          // answers carry "logprobs" (else null)
  bool legacy_functions = false;  // calls as the legacy function_call, not tool_calls
};

// A whole chat answer, split by the AssistantOutputParser.
struct AnswerMessage {
  std::string content;    // null in JSON when empty and there are tool calls
  std::string reasoning;  // reasoning_content, present only when not empty
  std::vector<ParsedToolCall> tool_calls;
};

struct TokenUsage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;  // prompt tokens served from the prompt cache
};

// A whole (non-streamed) answer: one choice with the message (chat) or text, finish_reason,
// logprobs (when m.logprobs: chat's {"content": [...]}, completions' tokens/token_logprobs/
// top_logprobs/text_offset) and usage.
std::string CompletionBody(const CompletionMeta& m, const AnswerMessage& answer,
                           std::string_view finish_reason, const TokenUsage& usage,
                           const std::vector<TokenLogprobs>& logprobs = {});
std::string CompletionBody(const CompletionMeta& m, std::string_view text,
                           std::string_view finish_reason, const TokenUsage& usage);

// Streamed answers, each a complete event ("data: {...}\n\n"). Chat streams begin with the
// assistant's role; each piece of text is one chunk; the last chunk carries finish_reason;
// with include_usage every chunk has "usage": null and a last one with no choices has usage.
std::string SseRoleChunk(const CompletionMeta& m);
std::string SseTextChunk(const CompletionMeta& m, std::string_view text,
                         const std::vector<TokenLogprobs>& logprobs = {});
// A chat event of the AssistantOutputParser: content, reasoning_content, or a tool call as
// two chunks (id and name with empty arguments, then the arguments), logprobs on the first.
std::string SseEventChunks(const CompletionMeta& m, const OutputEvent& event,
                           const std::vector<TokenLogprobs>& logprobs = {});
std::string SseFinishChunk(const CompletionMeta& m, std::string_view finish_reason);
std::string SseUsageChunk(const CompletionMeta& m, const TokenUsage& usage);
std::string SseError(const ApiError& e);  // a failure after the stream began
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

// POST /v1/embeddings: one vector per input, as float lists or base64 (little-endian float32).
std::string EmbeddingsBody(std::string_view model, const std::vector<std::vector<float>>& vectors,
                           bool base64, int64_t prompt_tokens);
// Standard base64 of the vector's bytes, as OpenAI's encoding_format=base64 answers.
std::string Base64Floats(const std::vector<float>& v);

// POST /v1/chat/completions/tokenizer/encode/count.
std::string TokenCountBody(int64_t n_tokens);

}  // namespace foundry
