// OpenAI request bodies to native requests: pure functions from the bytes of a body to a struct
// or an OpenAI-shaped error naming the field at fault. Ranges are checked here, where the error
// can name the field; what depends on the model (vocabulary, context) is checked later.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "foundry/engine.h"
#include "sampling/sampler.h"
#include "server/api/error.h"

namespace foundry {

// A call the assistant made in an earlier turn (messages[].tool_calls).
struct ApiToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // as the client sent it: JSON text
};

// One chat message: roles system (or developer), user, assistant, tool (or the legacy
// function, read as tool).
struct ApiMessage {
  std::string role;
  std::string content;        // text parts joined with new lines
  bool content_null = false;  // content null or absent (an assistant turn with tool calls)
  std::vector<ApiToolCall> tool_calls;  // assistant
  std::string tool_call_id;             // tool
  std::string name;                     // tool: the function whose result this is
};

// A function the model may call (tools[] of type function, or the legacy functions[]).
struct ApiTool {
  std::string name;
  std::string parameters;  // JSON Schema text ({} when absent)
  bool strict = false;
  std::string json;  // the tool as {"type":"function","function":{…}}, key order kept
};

// tool_choice (or the legacy function_call).
struct ToolChoice {
  enum class Mode { kAuto, kNone, kRequired, kFunction };
  Mode mode = Mode::kAuto;
  std::string function;  // kFunction: the function's name
};

// POST /v1/chat/completions (chat) and /v1/completions (!chat).
struct CompletionRequest {
  std::string model;
  bool chat = true;
  std::vector<ApiMessage> messages;    // chat
  std::vector<ApiTool> tools;          // chat: tools or functions
  ToolChoice tool_choice;              // chat
  bool legacy_functions = false;       // functions/function_call: answer with function_call
  bool parallel_tool_calls = true;     // false: at most one call per answer
  bool logprobs = false;               // chat: logprobs; completions: logprobs given
  int top_logprobs = 0;                // alternatives per token, 0-20
  std::string prompt;                  // completions: the prompt text...
  std::vector<int32_t> prompt_tokens;  // ...or its token ids
  bool prompt_is_tokens = false;
  SamplingParams sampling;
  int64_t max_tokens = -1;  // max_tokens or max_completion_tokens; < 0: until the context is full
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  int64_t ttl_s = -1;          // < 0: keep the model's TTL
  // num_ctx (Ollama's option, here a top-level field): > 0 asks for the model loaded with this
  // context per slot, loading it anew when it has another (as /openai/load?ctx=); 0: as loaded.
  int64_t n_ctx = 0;
};

std::optional<ApiError> ParseChatCompletionRequest(std::string_view body, CompletionRequest* out);
std::optional<ApiError> ParseCompletionRequest(std::string_view body, CompletionRequest* out);

// POST /v1/embeddings. Each input is a text (tokenized later) or token ids.
struct EmbeddingInput {
  std::string text;
  std::vector<int32_t> tokens;
  bool is_tokens = false;
};
constexpr size_t kMaxEmbeddingInputs = 2048;  // OpenAI's limit per request
struct EmbeddingRequest {
  std::string model;
  std::vector<EmbeddingInput> inputs;
  bool base64 = false;                // encoding_format base64 (default float)
  std::optional<int64_t> dimensions;  // must equal the model's own
};
std::optional<ApiError> ParseEmbeddingRequest(std::string_view body, EmbeddingRequest* out);

// POST /v1/chat/completions/tokenizer/encode/count.
struct TokenCountRequest {
  std::string model;
  std::vector<ApiMessage> messages;
};
std::optional<ApiError> ParseTokenCountRequest(std::string_view body, TokenCountRequest* out);

}  // namespace foundry
