// The OpenAI request parsers (server/api/openai_request.h): bodies to native requests, and for
// each invalid field an error whose `param` names it. Each range check here has a test that
// fails when the check is deleted.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/api/openai_request.h"

namespace foundry {
namespace {

// A chat body with `extra` (JSON members, comma-led or empty) added.
std::string Chat(const std::string& extra) {
  return R"({"model":"m","messages":[{"role":"user","content":"Hi"}])" + extra + "}";
}

CompletionRequest ChatOk(const std::string& extra) {
  CompletionRequest r;
  auto e = ParseChatCompletionRequest(Chat(extra), &r);
  EXPECT_FALSE(e.has_value()) << extra << ": " << e->message;
  return r;
}

ApiError ChatError(const std::string& extra) {
  CompletionRequest r;
  auto e = ParseChatCompletionRequest(Chat(extra), &r);
  EXPECT_TRUE(e.has_value()) << extra << " was accepted";
  return e.value_or(ApiError{});
}

TEST(OpenAiRequest, ChatCompletionFields) {
  CompletionRequest r =
      ChatOk(R"(,"max_tokens":12,"temperature":0.5,"top_p":0.9,"top_k":7,"min_p":0.1,)"
             R"("presence_penalty":-1.5,"frequency_penalty":1.25,"repeat_penalty":1.1,"seed":42,)"
             R"("stop":["a","b"],"stream":true,"stream_options":{"include_usage":true},"ttl":30,)"
             R"("logit_bias":{"5":-100,"7":2.5},"num_ctx":2048)");
  EXPECT_TRUE(r.chat);
  EXPECT_EQ(r.model, "m");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].role, "user");
  EXPECT_EQ(r.messages[0].content, "Hi");
  EXPECT_EQ(r.max_tokens, 12);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 0.9f);
  EXPECT_EQ(r.sampling.top_k, 7);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.1f);
  EXPECT_FLOAT_EQ(r.sampling.presence_penalty, -1.5f);
  EXPECT_FLOAT_EQ(r.sampling.frequency_penalty, 1.25f);
  EXPECT_FLOAT_EQ(r.sampling.repeat_penalty, 1.1f);
  EXPECT_EQ(r.sampling.seed, 42u);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(r.ttl_s, 30);
  EXPECT_EQ(r.n_ctx, 2048);
  ASSERT_EQ(r.sampling.logit_bias.size(), 2u);
  EXPECT_EQ(r.sampling.logit_bias[0], (std::pair<int32_t, float>{5, -100.0f}));
}

TEST(OpenAiRequest, DefaultsWhenAbsentOrNull) {
  const SamplingParams defaults;
  for (const char* extra : {"", R"(,"temperature":null,"seed":null,"max_tokens":null)"}) {
    CompletionRequest r = ChatOk(extra);
    EXPECT_EQ(r.max_tokens, -1);
    EXPECT_EQ(r.sampling.temperature, defaults.temperature);
    EXPECT_EQ(r.sampling.seed, SamplingParams::kRandomSeed);
    EXPECT_EQ(r.ttl_s, -1);
    EXPECT_EQ(r.n_ctx, 0);
    EXPECT_FALSE(r.stream);
  }
}

TEST(OpenAiRequest, MaxCompletionTokensIsTheNewerNameOfMaxTokens) {
  EXPECT_EQ(ChatOk(R"(,"max_completion_tokens":7)").max_tokens, 7);
  EXPECT_EQ(ChatOk(R"(,"max_tokens":3,"max_completion_tokens":7)").max_tokens, 7);
  EXPECT_EQ(ChatOk(R"(,"max_completion_tokens":0)").max_tokens, 0);
  EXPECT_EQ(ChatError(R"(,"max_completion_tokens":-1)").param, "max_completion_tokens");
  EXPECT_EQ(ChatError(R"(,"max_completion_tokens":"5")").param, "max_completion_tokens");
}

TEST(OpenAiRequest, SeedAndRandomSeedNameOneSetting) {
  EXPECT_EQ(ChatOk(R"(,"seed":1234)").sampling.seed, 1234u);
  EXPECT_EQ(ChatOk(R"(,"random_seed":99)").sampling.seed, 99u);
  EXPECT_EQ(ChatOk(R"(,"seed":18446744073709551615)").sampling.seed, UINT64_MAX);
  EXPECT_EQ(ChatOk(R"(,"seed":-1)").sampling.seed, UINT64_MAX);
  EXPECT_EQ(ChatError(R"(,"seed":"abc")").param, "seed");
  EXPECT_EQ(ChatError(R"(,"seed":1.5)").param, "seed");
  EXPECT_EQ(ChatError(R"(,"random_seed":"x")").param, "random_seed");
}

TEST(OpenAiRequest, PenaltiesAreRangeChecked) {
  EXPECT_FLOAT_EQ(ChatOk(R"(,"frequency_penalty":-2)").sampling.frequency_penalty, -2.0f);
  EXPECT_FLOAT_EQ(ChatOk(R"(,"frequency_penalty":2)").sampling.frequency_penalty, 2.0f);
  EXPECT_EQ(ChatError(R"(,"frequency_penalty":2.5)").param, "frequency_penalty");
  EXPECT_EQ(ChatError(R"(,"frequency_penalty":-3)").param, "frequency_penalty");
  EXPECT_EQ(ChatError(R"(,"frequency_penalty":"high")").param, "frequency_penalty");
  EXPECT_EQ(ChatError(R"(,"presence_penalty":5)").param, "presence_penalty");
  EXPECT_FLOAT_EQ(ChatOk(R"(,"repeat_penalty":100)").sampling.repeat_penalty, 100.0f);
  EXPECT_EQ(ChatError(R"(,"repeat_penalty":0)").param, "repeat_penalty");
  EXPECT_EQ(ChatError(R"(,"repeat_penalty":-1)").param, "repeat_penalty");
  EXPECT_EQ(ChatError(R"(,"repeat_penalty":101)").param, "repeat_penalty");
}

TEST(OpenAiRequest, EachInvalidFieldIsNamedInParam) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"(,"max_tokens":-1)", "max_tokens"},
      {R"(,"max_tokens":1.5)", "max_tokens"},
      {R"(,"temperature":-0.5)", "temperature"},
      {R"(,"temperature":"hot")", "temperature"},
      {R"(,"temperature":101)", "temperature"},
      {R"(,"top_p":1.5)", "top_p"},
      {R"(,"top_k":-3)", "top_k"},
      {R"(,"min_p":2)", "min_p"},
      {R"(,"stop":[1,2])", "stop"},
      {R"(,"stop":["a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a"])", "stop"},
      {R"(,"n":2)", "n"},
      {R"(,"stream":"yes")", "stream"},
      {R"(,"stream_options":{"include_usage":"y"})", "stream_options"},
      {R"(,"stream_options":3)", "stream_options"},
      {R"(,"logit_bias":{"abc":1})", "logit_bias"},
      {R"(,"logit_bias":{"99999999999":1})", "logit_bias"},
      {R"(,"logit_bias":{"5":1000})", "logit_bias"},
      {R"(,"logit_bias":[1])", "logit_bias"},
      {R"(,"ttl":-5)", "ttl"},
      {R"(,"num_ctx":0)", "num_ctx"},
      {R"(,"num_ctx":"4096")", "num_ctx"},
      {R"(,"num_ctx":2097152)", "num_ctx"},
      {R"(,"tools":{})", "tools"},
      {R"(,"tools":[{"type":"retrieval"}])", "tools[0]"},
      {R"(,"tools":[{"type":"function","function":{"description":"no name"}}])",
       "tools[0].function.name"},
      {R"(,"tools":[{"type":"function","function":{"name":"f","parameters":[]}}])",
       "tools[0].function.parameters"},
      {R"(,"tools":[{"type":"function","function":{"name":"f","strict":1}}])",
       "tools[0].function.strict"},
      {R"(,"functions":[{"name":"f"}],"tools":[])", "functions"},
      {R"(,"tool_choice":"always")", "tool_choice"},
      {R"(,"tool_choice":"required")", "tool_choice"},  // no tools
      {R"(,"tools":[{"type":"function","function":{"name":"f"}}],)"
       R"("tool_choice":{"type":"function","function":{"name":"g"}})",
       "tool_choice"},
      {R"(,"functions":[{"name":"f"}],"tool_choice":"auto")", "tool_choice"},
      {R"(,"parallel_tool_calls":"no")", "parallel_tool_calls"},
      {R"(,"logprobs":1)", "logprobs"},
      {R"(,"logprobs":true,"top_logprobs":21)", "top_logprobs"},
      {R"(,"top_logprobs":2)", "top_logprobs"},
      {R"(,"response_format":{"type":"json_schema"})", "response_format.json_schema"},
      {R"(,"audio":{"voice":"alloy"})", "audio"},
      {R"(,"modalities":["text"])", "modalities"},
      {R"(,"prompt":"x")", "prompt"},
  };
  for (const auto& [extra, param] : cases) {
    const ApiError e = ChatError(extra);
    EXPECT_EQ(e.param, param) << extra;
    EXPECT_EQ(e.http, 400) << extra;
    EXPECT_EQ(e.type, "invalid_request_error") << extra;
    EXPECT_FALSE(e.message.empty()) << extra;
  }
  EXPECT_EQ(ChatError(R"(,"n":2)").message, "only n=1 is supported");
  EXPECT_EQ(ChatOk(R"(,"n":1)").max_tokens, -1);
}

TEST(OpenAiRequest, ModelIsANonEmptyString) {
  CompletionRequest r;
  for (const char* body : {R"({"messages":[{"role":"user","content":"x"}]})",
                           R"({"model":42,"messages":[{"role":"user","content":"x"}]})",
                           R"({"model":"","messages":[{"role":"user","content":"x"}]})"}) {
    auto e = ParseChatCompletionRequest(body, &r);
    ASSERT_TRUE(e.has_value()) << body;
    EXPECT_EQ(e->param, "model");
  }
  EmbeddingRequest er;
  EXPECT_EQ(ParseEmbeddingRequest(R"({"input":"x"})", &er)->param, "model");
  TokenCountRequest tr;
  EXPECT_EQ(ParseTokenCountRequest(R"({"model":7,"messages":[]})", &tr)->param, "model");
}

TEST(OpenAiRequest, Messages) {
  CompletionRequest parts;
  ASSERT_FALSE(ParseChatCompletionRequest(
      R"({"model":"m","messages":[{"role":"developer","content":"Be brief."},)"
      R"({"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},)"
      R"({"role":"assistant","content":null}]})",
      &parts));
  ASSERT_EQ(parts.messages.size(), 3u);
  EXPECT_EQ(parts.messages[0].role, "system");
  EXPECT_EQ(parts.messages[1].content, "a\nb");
  EXPECT_EQ(parts.messages[2].content, "");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"([])", "messages"},
      {R"("hello")", "messages"},
      {R"([3])", "messages[0]"},
      {R"([{"role":"user"}])", "messages[0].content"},
      {R"([{"content":"x"}])", "messages[0].role"},
      {R"([{"role":"user","content":"x"},{"role":"wizard","content":"x"}])", "messages[1].role"},
      {R"([{"role":"user","content":[{"type":"image_url","image_url":{}}]}])",
       "messages[0].content"},
      {R"([{"role":"user","content":[{"type":"text"}]}])", "messages[0].content"},
      {R"([{"role":"user","content":7}])", "messages[0].content"},
  };
  for (const auto& [messages, param] : cases) {
    CompletionRequest bad;
    auto e = ParseChatCompletionRequest(R"({"model":"m","messages":)" + messages + "}", &bad);
    ASSERT_TRUE(e.has_value()) << messages;
    EXPECT_EQ(e->param, param) << messages;
  }
}

TEST(OpenAiRequest, CompletionPrompts) {
  CompletionRequest r;
  ASSERT_FALSE(ParseCompletionRequest(R"({"model":"m","prompt":"Once"})", &r));
  EXPECT_FALSE(r.chat);
  EXPECT_EQ(r.prompt, "Once");
  CompletionRequest one;
  ASSERT_FALSE(ParseCompletionRequest(R"({"model":"m","prompt":["Once"]})", &one));
  EXPECT_EQ(one.prompt, "Once");
  CompletionRequest ids;
  ASSERT_FALSE(ParseCompletionRequest(R"({"model":"m","prompt":[1,2,3]})", &ids));
  EXPECT_TRUE(ids.prompt_is_tokens);
  EXPECT_EQ(ids.prompt_tokens, (std::vector<int32_t>{1, 2, 3}));
  for (const char* prompt : {"", R"(,"prompt":{"a":1})", R"(,"prompt":[-5])", R"(,"prompt":[])",
                             R"(,"prompt":[1,"a"])", R"(,"prompt":[2147483648])"}) {
    CompletionRequest bad;
    auto e = ParseCompletionRequest(std::string(R"({"model":"m")") + prompt + "}", &bad);
    ASSERT_TRUE(e.has_value()) << prompt;
    EXPECT_EQ(e->param, "prompt") << prompt;
  }
}

TEST(OpenAiRequest, BodiesThatAreNotObjects) {
  CompletionRequest r;
  for (std::string body : {std::string("{not json"), std::string(""), std::string("[1,2,3]"),
                           std::string("\xff\xfe\x00garbage", 10), std::string(100, '[')}) {
    auto e = ParseChatCompletionRequest(body, &r);
    ASSERT_TRUE(e.has_value()) << body;
    EXPECT_EQ(e->http, 400);
    EXPECT_EQ(e->param, "");
  }
}

TEST(OpenAiRequest, Embeddings) {
  EmbeddingRequest r;
  ASSERT_FALSE(ParseEmbeddingRequest(
      R"({"model":"m","input":["a",[1,2]],"encoding_format":"base64","dimensions":64})", &r));
  ASSERT_EQ(r.inputs.size(), 2u);
  EXPECT_EQ(r.inputs[0].text, "a");
  EXPECT_TRUE(r.inputs[1].is_tokens);
  EXPECT_EQ(r.inputs[1].tokens, (std::vector<int32_t>{1, 2}));
  EXPECT_TRUE(r.base64);
  EXPECT_EQ(r.dimensions, 64);
  EmbeddingRequest ids;
  ASSERT_FALSE(ParseEmbeddingRequest(R"({"model":"m","input":[5,6]})", &ids));
  ASSERT_EQ(ids.inputs.size(), 1u);
  EXPECT_EQ(ids.inputs[0].tokens, (std::vector<int32_t>{5, 6}));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"(,"input":null)", "input"},
      {"", "input"},
      {R"(,"input":[])", "input"},
      {R"(,"input":[1,-2])", "input"},
      {R"(,"input":[[]])", "input"},
      {R"(,"input":{"a":1})", "input"},
      {R"(,"input":"x","encoding_format":"hex")", "encoding_format"},
      {R"(,"input":"x","dimensions":0)", "dimensions"},
  };
  for (const auto& [extra, param] : cases) {
    EmbeddingRequest bad;
    auto e = ParseEmbeddingRequest(R"({"model":"m")" + extra + "}", &bad);
    ASSERT_TRUE(e.has_value()) << extra;
    EXPECT_EQ(e->param, param) << extra;
  }
  std::string many = R"({"model":"m","input":[)";
  for (size_t i = 0; i <= kMaxEmbeddingInputs; ++i) many += i ? ",\"x\"" : "\"x\"";
  EmbeddingRequest bad;
  EXPECT_EQ(ParseEmbeddingRequest(many + "]}", &bad)->param, "input");
}

TEST(OpenAiRequest, TokenCount) {
  TokenCountRequest r;
  ASSERT_FALSE(
      ParseTokenCountRequest(R"({"model":"m","messages":[{"role":"user","content":"Hi"}]})", &r));
  EXPECT_EQ(r.model, "m");
  ASSERT_EQ(r.messages.size(), 1u);
  TokenCountRequest bad;
  EXPECT_EQ(ParseTokenCountRequest(R"({"model":"m","messages":[]})", &bad)->param, "messages");
}

}  // namespace
}  // namespace foundry

namespace foundry {
namespace {

TEST(OpenAiRequest, ToolsAndToolChoice) {
  CompletionRequest r = ChatOk(
      R"(,"tools":[{"type":"function","function":{"name":"get_weather","description":"d",)"
      R"("parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true}}],)"
      R"("tool_choice":{"type":"function","function":{"name":"get_weather"}},)"
      R"("parallel_tool_calls":false)");
  ASSERT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(r.tools[0].name, "get_weather");
  EXPECT_TRUE(r.tools[0].strict);
  EXPECT_EQ(r.tools[0].parameters, R"({"type":"object","properties":{"city":{"type":"string"}}})");
  EXPECT_EQ(r.tool_choice.mode, ToolChoice::Mode::kFunction);
  EXPECT_EQ(r.tool_choice.function, "get_weather");
  EXPECT_FALSE(r.parallel_tool_calls);
  EXPECT_FALSE(r.legacy_functions);
  EXPECT_EQ(ChatOk(R"(,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none")")
                .tool_choice.mode,
            ToolChoice::Mode::kNone);
  EXPECT_EQ(ChatOk(R"(,"tools":[{"type":"function","function":{"name":"f"}}])").tools[0].parameters,
            "{}");
  // The legacy functions API.
  CompletionRequest legacy = ChatOk(R"(,"functions":[{"name":"f"}],"function_call":{"name":"f"})");
  EXPECT_TRUE(legacy.legacy_functions);
  EXPECT_EQ(legacy.tool_choice.mode, ToolChoice::Mode::kFunction);
  EXPECT_EQ(legacy.tools[0].json, R"({"type":"function","function":{"name":"f"}})");
}

TEST(OpenAiRequest, ToolTurns) {
  CompletionRequest r;
  ASSERT_FALSE(ParseChatCompletionRequest(
      R"({"model":"m","messages":[{"role":"user","content":"Weather?"},)"
      R"({"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",)"
      R"("function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},)"
      R"({"role":"tool","tool_call_id":"c1","name":"get_weather","content":"sunny"},)"
      R"({"role":"function","name":"f","content":"7"}]})",
      &r));
  ASSERT_EQ(r.messages.size(), 4u);
  EXPECT_TRUE(r.messages[1].content_null);
  ASSERT_EQ(r.messages[1].tool_calls.size(), 1u);
  EXPECT_EQ(r.messages[1].tool_calls[0].id, "c1");
  EXPECT_EQ(r.messages[1].tool_calls[0].arguments, R"({"city":"Paris"})");
  EXPECT_EQ(r.messages[2].role, "tool");
  EXPECT_EQ(r.messages[2].tool_call_id, "c1");
  EXPECT_EQ(r.messages[2].name, "get_weather");
  EXPECT_EQ(r.messages[3].role, "tool");  // the legacy function role
  for (const auto& [messages, param] : std::vector<std::pair<std::string, std::string>>{
           {R"([{"role":"assistant"}])", "messages[0].content"},
           {R"([{"role":"assistant","tool_calls":[{"type":"function"}]}])",
            "messages[0].tool_calls[0]"},
           {R"([{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":5}}]}])",
            "messages[0].tool_calls[0].function.arguments"},
           {R"([{"role":"tool","content":"x","tool_call_id":5}])", "messages[0].tool_call_id"},
       }) {
    CompletionRequest bad;
    auto e = ParseChatCompletionRequest(R"({"model":"m","messages":)" + messages + "}", &bad);
    ASSERT_TRUE(e.has_value()) << messages;
    EXPECT_EQ(e->param, param) << messages;
  }
}

TEST(OpenAiRequest, Logprobs) {
  CompletionRequest chat = ChatOk(R"(,"logprobs":true,"top_logprobs":5)");
  EXPECT_TRUE(chat.logprobs);
  EXPECT_EQ(chat.top_logprobs, 5);
  EXPECT_FALSE(ChatOk("").logprobs);
  CompletionRequest c;
  ASSERT_FALSE(ParseCompletionRequest(R"({"model":"m","prompt":"x","logprobs":3})", &c));
  EXPECT_TRUE(c.logprobs);
  EXPECT_EQ(c.top_logprobs, 3);
  ASSERT_FALSE(ParseCompletionRequest(R"({"model":"m","prompt":"x","logprobs":0})", &c));
  EXPECT_TRUE(c.logprobs);
  EXPECT_EQ(c.top_logprobs, 0);
}

TEST(OpenAiRequest, UnimplementedFieldsAreRefusedByName) {
  EXPECT_EQ(ChatOk(R"(,"response_format":{"type":"text"},"user":"u1")").model, "m");
  for (const char* field : {"echo", "best_of", "suffix", "tools", "foo"}) {
    CompletionRequest c;
    const std::string value = std::string(field) == "echo" ? "true" : "2";
    auto e = ParseCompletionRequest(
        std::string(R"({"model":"m","prompt":"x",")") + field + "\":" + value + "}", &c);
    ASSERT_TRUE(e.has_value()) << field;
    EXPECT_EQ(e->param, field);
  }
}

}  // namespace
}  // namespace foundry
