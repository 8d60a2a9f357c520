// Tool-call and reasoning parsing of model answers (server/api/assistant_output_parser.h) on
// answers recorded from each family's models, whole and split into streaming pieces, and the
// template traits that choose the syntax (chat/chat_template_traits.h).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "chat/chat_template_traits.h"
#include "server/api/assistant_output_parser.h"

namespace foundry {
namespace {

struct Split {
  std::string content;
  std::string reasoning;
  std::vector<ParsedToolCall> calls;
  int content_events = 0;
};

void Collect(std::vector<OutputEvent> events, Split* s) {
  for (OutputEvent& e : events) {
    switch (e.kind) {
      case OutputEvent::Kind::kContent:
        s->content += e.text;
        ++s->content_events;
        break;
      case OutputEvent::Kind::kReasoning:
        s->reasoning += e.text;
        break;
      case OutputEvent::Kind::kToolCall:
        EXPECT_EQ(e.index, static_cast<int>(s->calls.size()));
        s->calls.push_back(e.call);
        break;
    }
  }
}

// Feeds `text` in pieces of `piece` bytes (0: whole).
Split Parse(OutputParserOptions o, std::string_view text, size_t piece = 0,
            std::string_view prime = "") {
  AssistantOutputParser p(std::move(o));
  if (!prime.empty()) p.Prime(prime);
  Split s;
  if (piece == 0) piece = text.size() + 1;
  for (size_t i = 0; i < text.size(); i += piece) Collect(p.Push(text.substr(i, piece)), &s);
  Collect(p.Finish(), &s);
  EXPECT_EQ(p.tool_calls(), static_cast<int>(s.calls.size()));
  return s;
}

OutputParserOptions Tools(ToolCallSyntax syntax) {
  OutputParserOptions o;
  o.syntax = syntax;
  o.parse_tool_calls = true;
  o.id_prefix = "call_x_";
  return o;
}

// Every piece size gives the same split: what streaming sends equals the whole answer.
Split ParseAllWays(OutputParserOptions o, std::string_view text) {
  const Split whole = Parse(o, text);
  for (size_t piece : {1, 2, 3, 5, 7, 13}) {
    const Split s = Parse(o, text, piece);
    EXPECT_EQ(s.content, whole.content) << "piece " << piece;
    EXPECT_EQ(s.reasoning, whole.reasoning) << "piece " << piece;
    EXPECT_EQ(s.calls.size(), whole.calls.size()) << "piece " << piece;
    for (size_t i = 0; i < std::min(s.calls.size(), whole.calls.size()); ++i) {
      EXPECT_EQ(s.calls[i].name, whole.calls[i].name);
      EXPECT_EQ(s.calls[i].arguments, whole.calls[i].arguments);
    }
  }
  return whole;
}

TEST(ToolCallParser, HermesQwenOneCall) {
  // Recorded from Qwen2.5-7B-Instruct.
  const Split s = ParseAllWays(
      Tools(ToolCallSyntax::kHermes),
      "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": "
      "\"celsius\"}}\n</tool_call>");
  ASSERT_EQ(s.calls.size(), 1u);
  EXPECT_EQ(s.calls[0].id, "call_x_0");
  EXPECT_EQ(s.calls[0].name, "get_weather");
  EXPECT_EQ(s.calls[0].arguments, R"({"city":"Paris","unit":"celsius"})");  // key order kept
  EXPECT_EQ(s.content, "");
}

TEST(ToolCallParser, HermesTwoCallsWithText) {
  const Split s = ParseAllWays(
      Tools(ToolCallSyntax::kHermes),
      "Let me check both.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
      "\"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 2, "
      "\"b\": 3.5}}\n</tool_call>\n");
  ASSERT_EQ(s.calls.size(), 2u);
  EXPECT_EQ(s.calls[1].id, "call_x_1");
  EXPECT_EQ(s.calls[1].name, "add");
  EXPECT_EQ(s.calls[1].arguments, R"({"a":2,"b":3.5})");
  EXPECT_EQ(s.content, "Let me check both.\n");
}

TEST(ToolCallParser, HermesArgumentsAsString) {
  const Split s = ParseAllWays(
      Tools(ToolCallSyntax::kHermes),
      "<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"x\\\": [1, 2]}\"}</tool_call>");
  ASSERT_EQ(s.calls.size(), 1u);
  EXPECT_EQ(s.calls[0].arguments, R"({"x":[1,2]})");
}

TEST(ToolCallParser, MalformedCallsComeBackAsContent) {
  for (const char* text : {
           "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Par</tool_call>",
           "<tool_call>\n{\"arguments\": {}}\n</tool_call>", "<tool_call>\nnot json\n</tool_call>",
           "<tool_call>\n{\"name\": \"f\", \"arguments\": [1]}",  // unclosed, not an object
           "<tool_call>\n{\"name\": \"get_weather\", \"argu",     // cut by max_tokens
       }) {
    const Split s = ParseAllWays(Tools(ToolCallSyntax::kHermes), text);
    EXPECT_TRUE(s.calls.empty()) << text;
    EXPECT_EQ(s.content, text);
  }
}

TEST(ToolCallParser, UnclosedButCompleteCallIsACall) {
  const Split s = ParseAllWays(Tools(ToolCallSyntax::kHermes),
                               "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n");
  ASSERT_EQ(s.calls.size(), 1u);
  EXPECT_EQ(s.calls[0].arguments, "{}");
}

TEST(ToolCallParser, WithoutToolsMarkupIsContent) {
  OutputParserOptions o;
  o.syntax = ToolCallSyntax::kHermes;
  const std::string text = "<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>";
  const Split s = ParseAllWays(o, text);
  EXPECT_TRUE(s.calls.empty());
  EXPECT_EQ(s.content, text);
}

TEST(ToolCallParser, PlainTextStreamsWithoutDelay) {
  AssistantOutputParser p(Tools(ToolCallSyntax::kHermes));
  Split s;
  Collect(p.Push("The answer is 4"), &s);
  EXPECT_EQ(s.content, "The answer is 4");
  Collect(p.Push(" <tool"), &s);  // may be markup: held back
  EXPECT_EQ(s.content, "The answer is 4 ");
  Collect(p.Push("s> are listed"), &s);
  EXPECT_EQ(s.content, "The answer is 4 <tools> are listed");
}

TEST(ToolCallParser, Llama3BareJson) {
  // Recorded from Llama-3.2-3B-Instruct (the JSON form its template asks for).
  const Split s =
      ParseAllWays(Tools(ToolCallSyntax::kLlama3),
                   "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}");
  ASSERT_EQ(s.calls.size(), 1u);
  EXPECT_EQ(s.calls[0].name, "get_weather");
  EXPECT_EQ(s.calls[0].arguments, R"({"city":"Paris"})");
  const Split two = ParseAllWays(
      Tools(ToolCallSyntax::kLlama3),
      "{\"name\": \"a\", \"parameters\": {}}; {\"name\": \"b\", \"parameters\": {\"x\": \"1;2\"}}");
  ASSERT_EQ(two.calls.size(), 2u);
  EXPECT_EQ(two.calls[1].arguments, R"({"x":"1;2"})");
  const Split text = ParseAllWays(Tools(ToolCallSyntax::kLlama3), "{braces} in prose");
  EXPECT_TRUE(text.calls.empty());
  EXPECT_EQ(text.content, "{braces} in prose");
}

TEST(ToolCallParser, Llama3PythonTag) {
  const Split s = ParseAllWays(
      Tools(ToolCallSyntax::kLlama3),
      "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Lyon\"}}");
  ASSERT_EQ(s.calls.size(), 1u);
  EXPECT_EQ(s.calls[0].arguments, R"({"city":"Lyon"})");
  const Split builtin = ParseAllWays(Tools(ToolCallSyntax::kLlama3),
                                     "<|python_tag|>brave_search.call(query=\"a, b\", n=3)");
  ASSERT_EQ(builtin.calls.size(), 1u);
  EXPECT_EQ(builtin.calls[0].name, "brave_search");
  EXPECT_EQ(builtin.calls[0].arguments, R"({"query":"a, b","n":3})");
}

TEST(ToolCallParser, Phi4Mini) {
  // Recorded from Phi-4-mini-instruct: a JSON list inside <|tool_call|>.
  const Split s = ParseAllWays(
      Tools(ToolCallSyntax::kPhi4Mini),
      "<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}, "
      "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Lyon\"}}]<|/tool_call|>");
  ASSERT_EQ(s.calls.size(), 2u);
  EXPECT_EQ(s.calls[1].arguments, R"({"city":"Lyon"})");
  EXPECT_EQ(s.content, "");
}

TEST(ToolCallParser, Mistral) {
  // Recorded from Mistral-Nemo-Instruct-2407, and the newer name[ARGS]{…} form.
  const Split s = ParseAllWays(
      Tools(ToolCallSyntax::kMistral),
      "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}, \"id\": "
      "\"a1b2c3d4e\"}]");
  ASSERT_EQ(s.calls.size(), 1u);
  EXPECT_EQ(s.calls[0].name, "get_weather");
  const Split args = ParseAllWays(Tools(ToolCallSyntax::kMistral),
                                  "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}"
                                  "[TOOL_CALLS]add[ARGS]{\"a\": 1}");
  ASSERT_EQ(args.calls.size(), 2u);
  EXPECT_EQ(args.calls[1].name, "add");
  EXPECT_EQ(args.calls[1].arguments, R"({"a":1})");
  const Split bad = ParseAllWays(Tools(ToolCallSyntax::kMistral), "[TOOL_CALLS][{\"nam");
  EXPECT_TRUE(bad.calls.empty());
  EXPECT_EQ(bad.content, "[TOOL_CALLS][{\"nam");
}

TEST(ToolCallParser, FencedJsonNamingAnOfferedToolIsACall) {
  // Recorded from Qwen2.5-Coder-0.5B-Instruct, which often skips the <tool_call> markup.
  OutputParserOptions o = Tools(ToolCallSyntax::kHermes);
  o.tool_names = {"get_weather"};
  const Split s = ParseAllWays(
      o,
      "```json\n{\n  \"name\": \"get_weather\",\n  \"arguments\": {\n    \"city\": \"Paris\"\n"
      "  }\n}\n```");
  ASSERT_EQ(s.calls.size(), 1u);
  EXPECT_EQ(s.calls[0].arguments, R"({"city":"Paris"})");
  const std::string other = "```json\n{\"name\": \"rm_rf\", \"arguments\": {}}\n```";
  EXPECT_EQ(ParseAllWays(o, other).content, other);  // not an offered function
  const std::string code = "```python\nprint(1)\n```";
  EXPECT_EQ(ParseAllWays(o, code).content, code);
}

TEST(ToolCallParser, PrimedNamedCall) {
  // tool_choice naming get_weather: the prompt ends with the call's opening.
  const Split s = Parse(Tools(ToolCallSyntax::kHermes), "{\"city\": \"Paris\"}}\n</tool_call>", 3,
                        "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": ");
  ASSERT_EQ(s.calls.size(), 1u);
  EXPECT_EQ(s.calls[0].name, "get_weather");
  EXPECT_EQ(s.content, "");
}

TEST(ReasoningParser, ThinkBlocks) {
  OutputParserOptions o;
  o.reasoning = true;
  const Split s = ParseAllWays(o, "<think>\nAdd them.\n</think>\n\nThe answer is 4.");
  EXPECT_EQ(s.reasoning, "\nAdd them.\n");
  EXPECT_EQ(s.content, "The answer is 4.");
  // DeepSeek-R1's templates open <think> in the prompt: the answer starts inside it.
  o.starts_in_reasoning = true;
  const Split r1 = ParseAllWays(o, "Two plus two.\n</think>\n\n4");
  EXPECT_EQ(r1.reasoning, "Two plus two.\n");
  EXPECT_EQ(r1.content, "4");
  // Cut before </think>: everything is reasoning.
  EXPECT_EQ(ParseAllWays(o, "still thinking").reasoning, "still thinking");
}

TEST(ReasoningParser, ReasoningThenToolCall) {
  OutputParserOptions o = Tools(ToolCallSyntax::kHermes);
  o.reasoning = true;
  const Split s =
      ParseAllWays(o,
                   "<think>I need the weather.</think>\n<tool_call>\n{\"name\": \"get_weather\", "
                   "\"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>");
  EXPECT_EQ(s.reasoning, "I need the weather.");
  ASSERT_EQ(s.calls.size(), 1u);
  EXPECT_EQ(s.content, "");
}

std::string ReadTemplate(const std::string& name) {
  std::ifstream f(std::string(FOUNDRY_SOURCE_DIR) + "/tests/data/chat-templates/" + name);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_FALSE(ss.str().empty()) << name;
  return ss.str();
}

TEST(ChatTemplateTraits, Families) {
  const ChatTemplateTraits qwen =
      TraitsOfTemplate(ReadTemplate("published/Qwen-Qwen2.5-7B-Instruct.jinja"));
  EXPECT_EQ(qwen.syntax, ToolCallSyntax::kHermes);
  EXPECT_TRUE(qwen.renders_tools);
  EXPECT_FALSE(qwen.reasoning);
  const ChatTemplateTraits coder =
      TraitsOfTemplate(ReadTemplate("qwen2.5-coder-0.5b-instruct.jinja"));
  EXPECT_EQ(coder.syntax, ToolCallSyntax::kHermes);
  EXPECT_TRUE(coder.renders_tools);
  const ChatTemplateTraits llama =
      TraitsOfTemplate(ReadTemplate("published/meta-llama-Llama-3.2-3B-Instruct.jinja"));
  EXPECT_EQ(llama.syntax, ToolCallSyntax::kLlama3);
  EXPECT_TRUE(llama.renders_tools);
  const ChatTemplateTraits mistral =
      TraitsOfTemplate(ReadTemplate("published/mistralai-Mistral-Nemo-Instruct-2407.jinja"));
  EXPECT_EQ(mistral.syntax, ToolCallSyntax::kMistral);
  EXPECT_TRUE(mistral.renders_tools);
  const ChatTemplateTraits r1 =
      TraitsOfTemplate(ReadTemplate("published/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"));
  EXPECT_TRUE(r1.reasoning);
  EXPECT_FALSE(r1.renders_tools);
  for (const char* plain : {"SmolLM2-135M-Instruct.jinja", "published/google-gemma-2-2b-it.jinja",
                            "published/microsoft-Phi-3.5-mini-instruct.jinja"}) {
    EXPECT_FALSE(TraitsOfTemplate(ReadTemplate(plain)).renders_tools) << plain;
  }
  EXPECT_EQ(TraitsOfTemplate("{{ '<|tool_call|>' }}{% for t in tools %}{% endfor %}").syntax,
            ToolCallSyntax::kPhi4Mini);
}

}  // namespace
}  // namespace foundry
