// The OpenAI answer builders (server/api/openai_response.h) and error bodies
// (server/api/error.h): the exact JSON shapes the openai clients read.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/api/openai_response.h"

namespace foundry {
namespace {

using json = nlohmann::json;

CompletionMeta Meta(bool chat, bool include_usage = false) {
  return CompletionMeta{.id = std::string("chatcmpl-1"),
                        .model = std::string("m"),
                        .created = 1700000000,
                        .chat = chat,
                        .include_usage = include_usage};
}

// The JSON of one server-sent event.
json Event(const std::string& sse) {
  EXPECT_TRUE(sse.starts_with("data: ")) << sse;
  EXPECT_TRUE(sse.ends_with("\n\n")) << sse;
  return json::parse(sse.substr(6));
}

TEST(OpenAiResponse, ChatCompletionBody) {
  const json j = json::parse(CompletionBody(Meta(true), "Paris.", "stop", {10, 3}));
  EXPECT_EQ(j, json::parse(R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,
    "model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Paris."},
    "logprobs":null,"finish_reason":"stop"}],
    "usage":{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13,
    "prompt_tokens_details":{"cached_tokens":0}}})"));
}

TEST(OpenAiResponse, TextCompletionBody) {
  const json j = json::parse(CompletionBody(Meta(false), " there", "length", {4, 5}));
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["choices"][0],
            json::parse(R"({"index":0,"text":" there","logprobs":null,"finish_reason":"length"})"));
  EXPECT_EQ(j["usage"]["total_tokens"], 9);
}

TEST(OpenAiResponse, InvalidUtf8BecomesReplacementCharacters) {
  const json j = json::parse(CompletionBody(Meta(true), "a\xff", "stop", {}));
  EXPECT_EQ(j["choices"][0]["message"]["content"], "a\xEF\xBF\xBD");
}

TEST(OpenAiResponse, ChatStream) {
  const CompletionMeta m = Meta(true, /*include_usage=*/true);
  EXPECT_EQ(Event(SseRoleChunk(m)), json::parse(R"({"id":"chatcmpl-1",
    "object":"chat.completion.chunk","created":1700000000,"model":"m","usage":null,
    "choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,
    "finish_reason":null}]})"));
  EXPECT_EQ(Event(SseTextChunk(m, "Pa"))["choices"][0]["delta"], json({{"content", "Pa"}}));
  const json last = Event(SseFinishChunk(m, "stop"));
  EXPECT_EQ(last["choices"][0]["delta"], json::object());
  EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");
  const json usage = Event(SseUsageChunk(m, {2, 1, 1}));
  EXPECT_EQ(usage["choices"], json::array());
  EXPECT_EQ(usage["usage"], json::parse(R"({"prompt_tokens":2,"completion_tokens":1,
    "total_tokens":3,"prompt_tokens_details":{"cached_tokens":1}})"));
  EXPECT_EQ(kSseDone, "data: [DONE]\n\n");
}

TEST(OpenAiResponse, CompletionStreamHasTextAndNoUsageUnlessAsked) {
  const CompletionMeta m = Meta(false);
  const json chunk = Event(SseTextChunk(m, "Once"));
  EXPECT_EQ(chunk["object"], "text_completion");
  EXPECT_EQ(chunk["choices"][0]["text"], "Once");
  EXPECT_FALSE(chunk.contains("usage"));
  EXPECT_EQ(Event(SseFinishChunk(m, "length"))["choices"][0]["text"], "");
}

TEST(OpenAiResponse, Errors) {
  ApiError e = InvalidRequest("temperature", "'temperature' must be a number");
  EXPECT_EQ(json::parse(ErrorBody(e)), json::parse(R"({"error":{"message":
    "'temperature' must be a number","type":"invalid_request_error","param":"temperature",
    "code":null}})"));
  EXPECT_EQ(Event(SseError(ServerError("boom")))["error"]["type"], "server_error");
  const ApiError busy = ServerBusy("full");
  EXPECT_EQ(busy.http, 503);
  EXPECT_EQ(busy.code, "server_busy");
  const ApiError nf = ErrorFromStatus(NotFound("no model"));
  EXPECT_EQ(nf.http, 404);
  EXPECT_EQ(nf.code, "model_not_found");
  EXPECT_EQ(json::parse(ErrorBody(nf))["error"]["param"], nullptr);
  const ApiError ctx = ErrorFromStatus(OutOfRange("too long"));
  EXPECT_EQ(ctx.http, 400);
  EXPECT_EQ(ctx.code, "context_length_exceeded");
  EXPECT_EQ(ErrorFromStatus(IoError("disk")).http, 500);
  EXPECT_EQ(ErrorFromStatus(InvalidArgument("bad")).http, 400);
}

TEST(OpenAiResponse, Embeddings) {
  const json j = json::parse(EmbeddingsBody("m", {{1.0f, -2.0f}, {0.5f}}, false, 7));
  EXPECT_EQ(j, json::parse(R"({"object":"list","model":"m",
    "data":[{"object":"embedding","index":0,"embedding":[1.0,-2.0]},
            {"object":"embedding","index":1,"embedding":[0.5]}],
    "usage":{"prompt_tokens":7,"total_tokens":7}})"));
  // 1.0f is 00 00 80 3f little-endian.
  EXPECT_EQ(Base64Floats({1.0f}), "AACAPw==");
  EXPECT_EQ(Base64Floats({1.0f, 1.0f, 1.0f}), "AACAPwAAgD8AAIA/");
  EXPECT_EQ(json::parse(EmbeddingsBody("m", {{1.0f}}, true, 1))["data"][0]["embedding"],
            "AACAPw==");
  EXPECT_EQ(json::parse(TokenCountBody(12)), json::parse(R"({"tokenCount":12})"));
}

}  // namespace
}  // namespace foundry

namespace foundry {
namespace {

AnswerMessage CallAnswer() {
  AnswerMessage a;
  a.reasoning = "Need weather.";
  a.tool_calls.push_back({"call_1_0", "get_weather", R"({"city":"Paris"})"});
  return a;
}

TEST(OpenAiResponse, ToolCallsReasoningAndLogprobs) {
  CompletionMeta m = Meta(true);
  m.logprobs = true;
  TokenLogprobs lp;
  lp.chosen = {5, -0.25f, "Hi"};
  lp.top = {{5, -0.25f, "Hi"}, {7, -2.5f, "Yo"}};
  const json j = json::parse(CompletionBody(m, CallAnswer(), "tool_calls", {3, 4}, {lp}));
  const json& msg = j["choices"][0]["message"];
  EXPECT_TRUE(msg["content"].is_null());
  EXPECT_EQ(msg["reasoning_content"], "Need weather.");
  EXPECT_EQ(msg["tool_calls"], json::parse(R"([{"id":"call_1_0","type":"function",
      "function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}])"));
  EXPECT_EQ(j["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(j["choices"][0]["logprobs"], json::parse(R"({"content":[{"token":"Hi",
      "logprob":-0.25,"bytes":[72,105],"top_logprobs":[{"token":"Hi","logprob":-0.25,
      "bytes":[72,105]},{"token":"Yo","logprob":-2.5,"bytes":[89,111]}]}],"refusal":null})"));
  // Legacy functions answer with function_call.
  m.legacy_functions = true;
  const json legacy = json::parse(CompletionBody(m, CallAnswer(), "function_call", {3, 4}));
  EXPECT_EQ(legacy["choices"][0]["message"]["function_call"]["name"], "get_weather");
  EXPECT_FALSE(legacy["choices"][0]["message"].contains("tool_calls"));
  // Completions: tokens, token_logprobs, top_logprobs, text_offset.
  CompletionMeta c = Meta(false);
  c.logprobs = true;
  const json t =
      json::parse(CompletionBody(c, AnswerMessage{"HiHi", "", {}}, "length", {1, 2}, {lp, lp}));
  EXPECT_EQ(t["choices"][0]["logprobs"], json::parse(R"({"tokens":["Hi","Hi"],
      "token_logprobs":[-0.25,-0.25],"top_logprobs":[{"Hi":-0.25,"Yo":-2.5},
      {"Hi":-0.25,"Yo":-2.5}],"text_offset":[0,2]})"));
}

TEST(OpenAiResponse, StreamedToolCallIsTwoChunks) {
  OutputEvent e;
  e.kind = OutputEvent::Kind::kToolCall;
  e.index = 1;
  e.call = CallAnswer().tool_calls[0];
  const std::string sse = SseEventChunks(Meta(true), e);
  const size_t split = sse.find("\n\ndata: ") + 2;
  ASSERT_NE(split, std::string::npos + 2);
  EXPECT_EQ(Event(sse.substr(0, split))["choices"][0]["delta"], json::parse(R"({"tool_calls":[
      {"index":1,"id":"call_1_0","type":"function","function":{"name":"get_weather",
      "arguments":""}}]})"));
  EXPECT_EQ(Event(sse.substr(split))["choices"][0]["delta"], json::parse(R"({"tool_calls":[
      {"index":1,"function":{"arguments":"{\"city\":\"Paris\"}"}}]})"));
  OutputEvent r;
  r.kind = OutputEvent::Kind::kReasoning;
  r.text = "hmm";
  EXPECT_EQ(Event(SseEventChunks(Meta(true), r))["choices"][0]["delta"],
            json({{"reasoning_content", "hmm"}}));
}

}  // namespace
}  // namespace foundry
