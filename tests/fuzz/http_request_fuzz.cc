// libFuzzer entry point for the service's request parsers (server/api): the first byte picks
// the route, the rest is the request body. A body that parses must give a request the layers
// below accept as far as they can tell without a model, and its answer must be valid JSON; a
// body that does not must give a 400 whose error body is valid JSON. Violations abort().
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "sampling/sampler.h"
#include "server/api/foundry_request.h"
#include "server/api/openai_request.h"
#include "server/api/openai_response.h"

namespace {

using foundry::ApiError;

void Fail(const char* what, std::string_view body) {
  std::fprintf(stderr, "http_request_fuzz invariant violated: %s\nbody: %.*s\n", what,
               static_cast<int>(body.size()), body.data());
  std::abort();
}

void CheckJson(const std::string& text, std::string_view body) {
  if (!nlohmann::json::accept(text)) Fail("an answer is not valid JSON", body);
}

void CheckSse(const std::string& event, std::string_view body) {
  if (!event.starts_with("data: ") || !event.ends_with("\n\n")) Fail("a malformed event", body);
  CheckJson(event.substr(6, event.size() - 8), body);
}

// A refused body: 400, a message, and a valid error body.
void CheckError(const ApiError& e, std::string_view body) {
  if (e.http != 400 || e.message.empty())
    Fail("a parse error that is not a 400 with a message", body);
  CheckJson(foundry::ErrorBody(e), body);
}

void CheckCompletion(const foundry::CompletionRequest& r, std::string_view body) {
  if (r.model.empty()) Fail("an accepted request without a model", body);
  if (r.chat && r.messages.empty()) Fail("an accepted chat without messages", body);
  if (!r.chat && !r.prompt_is_tokens && !r.prompt_tokens.empty()) Fail("a mixed prompt", body);
  if (!foundry::Sampler::Validate(r.sampling).ok())
    Fail("accepted sampling the sampler refuses", body);
  if (r.stop.size() > 16) Fail("more than 16 stop strings", body);
  // The answers echo the request's text: they must stay valid JSON whatever its bytes.
  foundry::CompletionMeta m;
  m.id = "id";
  m.model = r.model;
  m.chat = r.chat;
  m.include_usage = r.include_usage;
  const std::string echo = r.chat ? r.messages.back().content : r.prompt;
  CheckJson(foundry::CompletionBody(m, echo, "stop", {1, 2}), body);
  CheckSse(foundry::SseTextChunk(m, echo), body);
  for (const std::string& s : r.stop) CheckSse(foundry::SseTextChunk(m, s), body);
}

void FuzzRoute(uint8_t route, std::string_view body) {
  switch (route % 5) {
    case 0:
    case 1: {
      foundry::CompletionRequest r;
      const bool chat = route % 5 == 0;
      auto e = chat ? foundry::ParseChatCompletionRequest(body, &r)
                    : foundry::ParseCompletionRequest(body, &r);
      if (e) return CheckError(*e, body);
      return CheckCompletion(r, body);
    }
    case 2: {
      foundry::EmbeddingRequest r;
      if (auto e = foundry::ParseEmbeddingRequest(body, &r)) return CheckError(*e, body);
      if (r.model.empty() || r.inputs.empty() || r.inputs.size() > foundry::kMaxEmbeddingInputs) {
        Fail("an accepted embedding request out of shape", body);
      }
      for (const auto& in : r.inputs) {
        if (in.is_tokens && in.tokens.empty()) Fail("an empty token-id input", body);
        for (int32_t t : in.tokens) {
          if (t < 0) Fail("a negative token id", body);
        }
      }
      return CheckJson(foundry::EmbeddingsBody(r.model, {}, r.base64, 0), body);
    }
    case 3: {
      foundry::TokenCountRequest r;
      if (auto e = foundry::ParseTokenCountRequest(body, &r)) return CheckError(*e, body);
      if (r.model.empty() || r.messages.empty()) Fail("an accepted count out of shape", body);
      return;
    }
    default: {
      std::string name;
      if (auto e = foundry::ParseDownloadRequest(body, &name)) return CheckError(*e, body);
      if (name.empty()) Fail("an accepted download without a name", body);
      return;
    }
  }
}

// Readable corpus files start with a letter naming the route.
uint8_t Route(uint8_t first) {
  switch (first) {
    case 'c':
      return 0;  // /v1/chat/completions
    case 'p':
      return 1;  // /v1/completions (prompt)
    case 'e':
      return 2;  // /v1/embeddings
    case 't':
      return 3;  // /v1/chat/completions/tokenizer/encode/count
    case 'd':
      return 4;  // /openai/download
    default:
      return first;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  FuzzRoute(Route(data[0]), std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
