// From an OpenAI chat request to the template's input (server/api/chat_prompt_plan.h): the
// render of a parsed request through Qwen2.5-Coder's template equals jinja2's render of the
// same conversation (tests/golden/data/chat_templates.json, tools/gen_chat_goldens.py), the
// fallback for templates without tools, tool_choice prefills and the grammars that hold forced
// and strict calls to their schema (server/api/tool_call_constraint.h).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "grammar/gbnf_parser.h"
#include "grammar_text_match.h"
#include "server/api/chat_prompt_plan.h"
#include "server/api/openai_request.h"
#include "server/api/tool_call_constraint.h"

namespace foundry {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;  // the goldens' key order is the generator's

const ojson& Golden() {
  static const ojson g = [] {
    std::ifstream f(std::string(FOUNDRY_SOURCE_DIR) + "/tests/golden/data/chat_templates.json");
    return ojson::parse(f);
  }();
  return g;
}

std::string Expected(const std::string& tmpl, const std::string& conv) {
  for (const ojson& c : Golden()["cases"]) {
    if (c["template"] == tmpl && c["conversation"] == conv) {
      return c.value("expected", std::string());
    }
  }
  ADD_FAILURE() << tmpl << " / " << conv << " not in the goldens";
  return "";
}

// The golden conversation as an OpenAI client sends it: arguments as JSON strings.
std::string RequestBody(const std::string& conv, const std::string& extra = "") {
  ojson c = Golden()["conversations"][conv];
  for (ojson& m : c["messages"]) {
    if (!m.contains("tool_calls") || m["tool_calls"].is_null()) continue;
    for (ojson& call : m["tool_calls"]) {
      ojson& args = call["function"]["arguments"];
      if (!args.is_string()) args = args.dump();
    }
  }
  ojson body = {{"model", "m"}, {"messages", c["messages"]}};
  if (c.contains("tools")) body["tools"] = c["tools"];
  return body.dump().substr(0, body.dump().size() - 1) + extra + "}";
}

std::string Render(const CompletionRequest& r, const std::string& tmpl, ChatPromptPlan* plan) {
  const std::string source = Golden()["templates"][tmpl].get<std::string>();
  EXPECT_FALSE(PlanChatPrompt(r.messages, r.tools, r.tool_choice, TraitsOfTemplate(source), plan)
                   .has_value());
  plan->context.add_generation_prompt = true;
  plan->context.bos_token = Golden()["bos_token"].get<std::string>();
  plan->context.eos_token = Golden()["eos_token"].get<std::string>();
  auto t = ChatTemplate::Parse(source);
  EXPECT_TRUE(t.ok());
  auto text = t->Render(plan->context);
  EXPECT_TRUE(text.ok()) << text.status().message();
  return (text.ok() ? *text : std::string()) + plan->prefill;
}

CompletionRequest Parsed(const std::string& body) {
  CompletionRequest r;
  auto e = ParseChatCompletionRequest(body, &r);
  EXPECT_FALSE(e.has_value()) << e->param << ": " << e->message;
  return r;
}

TEST(ChatPromptPlan, OpenAiRequestRendersAsTransformersDoes) {
  for (const char* name : {"openai_agent_loop", "tool_call_round", "two_tool_calls", "tools"}) {
    for (const char* tmpl : {"qwen2.5-coder-0.5b-instruct", "Qwen-Qwen2.5-7B-Instruct"}) {
      ChatPromptPlan plan;
      EXPECT_EQ(Render(Parsed(RequestBody(name)), tmpl, &plan), Expected(tmpl, name))
          << tmpl << " / " << name;
      EXPECT_EQ(plan.parser.syntax, ToolCallSyntax::kHermes);
    }
  }
}

TEST(ChatPromptPlan, ToolKeyOrderIsTheClients) {
  const std::string body =
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function",)"
      R"("function":{"name":"f","parameters":{"type":"object","properties":{"z":{},"a":{}}},)"
      R"("description":"d"}}]})";
  CompletionRequest r = Parsed(body);
  ASSERT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(r.tools[0].json,
            R"({"type":"function","function":{"name":"f","parameters":{"type":"object",)"
            R"("properties":{"z":{},"a":{}}},"description":"d"}})");
  ChatPromptPlan plan;
  const std::string text = Render(r, "qwen2.5-coder-0.5b-instruct", &plan);
  EXPECT_NE(
      text.find(R"({"type": "function", "function": {"name": "f", "parameters": )"
                R"({"type": "object", "properties": {"z": {}, "a": {}}}, "description": "d"}})"),
      std::string::npos)
      << text;
}

TEST(ChatPromptPlan, FallbackForTemplatesWithoutTools) {
  ChatPromptPlan plan;
  const std::string text =
      Render(Parsed(RequestBody("tool_call_round")), "SmolLM2-135M-Instruct", &plan);
  EXPECT_NE(text.find("<tools>\n{\"type\":\"function\",\"function\":{\"name\":\"get_weather\""),
            std::string::npos)
      << text;
  // The client's arguments text, verbatim.
  EXPECT_NE(text.find("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\":"
                      "\"Paris\",\"unit\":\"celsius\"}}\n</tool_call>"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("<|im_start|>user\n<tool_response>\n{\"temperature\": 21}\n</tool_response>"),
            std::string::npos)
      << text;
  EXPECT_TRUE(plan.parser.parse_tool_calls);
  EXPECT_EQ(plan.parser.syntax, ToolCallSyntax::kHermes);
  // Gemma 2's template refuses any role but user and assistant: the fallback still renders.
  ChatPromptPlan gemma;
  EXPECT_NE(Render(Parsed(RequestBody("two_tool_calls")), "google-gemma-2-2b-it", &gemma)
                .find("<tool_response>\nsunny\n</tool_response>\n<tool_response>\nrainy"),
            std::string::npos);
}

TEST(ChatPromptPlan, ToolChoice) {
  ChatPromptPlan none;
  const std::string plain = Render(Parsed(RequestBody("tools", R"(,"tool_choice":"none")")),
                                   "Qwen-Qwen2.5-7B-Instruct", &none);
  EXPECT_EQ(plain.find("<tools>"), std::string::npos);
  EXPECT_FALSE(none.parser.parse_tool_calls);
  ChatPromptPlan named;
  const std::string forced =
      Render(Parsed(RequestBody("tools",
                                R"(,"tool_choice":{"type":"function","function":{"name":"add"}})")),
             "Qwen-Qwen2.5-7B-Instruct", &named);
  EXPECT_TRUE(
      forced.ends_with("<|im_start|>assistant\n<tool_call>\n{\"name\": \"add\", \"arguments\": "))
      << forced;
  ChatPromptPlan required;
  EXPECT_TRUE(Render(Parsed(RequestBody("tools", R"(,"tool_choice":"required")")),
                     "Qwen-Qwen2.5-7B-Instruct", &required)
                  .ends_with("<tool_call>\n{\"name\": \""));
}

TEST(ToolCallConstraint, SchemaAndMarkupPerSyntax) {
  CompletionRequest r = Parsed(RequestBody("tools", R"(,"tool_choice":"required")"));
  auto c = ToolCallConstraintFor(r.tools, r.tool_choice, ToolCallSyntax::kHermes);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->prefix, "<tool_call>\n");
  EXPECT_EQ(c->suffix, "\n</tool_call>");
  const json schema = json::parse(c->schema);
  ASSERT_EQ(schema["anyOf"].size(), 2u);
  EXPECT_EQ(schema["anyOf"][1]["properties"]["name"]["const"], "add");
  EXPECT_EQ(schema["anyOf"][1]["properties"]["arguments"]["required"], json({"a", "b"}));
  ToolChoice named{ToolChoice::Mode::kFunction, "get_weather"};
  auto phi = ToolCallConstraintFor(r.tools, named, ToolCallSyntax::kPhi4Mini);
  ASSERT_TRUE(phi.has_value());
  EXPECT_EQ(phi->prefix, "<|tool_call|>");
  EXPECT_EQ(phi->suffix, "<|/tool_call|>");
  EXPECT_EQ(json::parse(phi->schema)["type"], "array");
  auto llama = ToolCallConstraintFor(r.tools, named, ToolCallSyntax::kLlama3);
  EXPECT_EQ(json::parse(llama->schema)["required"], json({"name", "parameters"}));
  EXPECT_EQ(ToolCallPrefill(named, ToolCallSyntax::kMistral),
            "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": ");
  EXPECT_FALSE(ToolCallConstraintFor(r.tools, ToolChoice(), ToolCallSyntax::kHermes).has_value());
  EXPECT_EQ(ToolCallPrefill(ToolChoice(), ToolCallSyntax::kHermes), "");
}

// A plan for the golden "tools" conversation (get_weather{city, unit?}, add{a: number,
// b: integer}) with `extra` request fields, for a template in `syntax`.
ChatPromptPlan PlanFor(ToolCallSyntax syntax, const std::string& extra) {
  ChatTemplateTraits traits;
  traits.renders_tools = true;
  traits.syntax = syntax;
  CompletionRequest r = Parsed(RequestBody("tools", extra));
  ChatPromptPlan plan;
  auto e = PlanChatPrompt(r.messages, r.tools, r.tool_choice, traits, &plan);
  EXPECT_FALSE(e.has_value()) << e->param << ": " << e->message;
  return plan;
}

bool Matches(const std::string& gbnf, const std::string& text) {
  auto g = ParseGbnf(gbnf);
  EXPECT_TRUE(g.ok()) << g.status().message() << "\n" << gbnf;
  return g.ok() && GrammarMatchesText(*g, text);
}

// tool_choice required and a named function: the grammar reads the prefilled opening, then
// admits exactly the calls whose arguments satisfy the function's parameters.
TEST(ToolCallGrammar, ForcedCallsMatchOnlyValidArguments) {
  struct Case {
    ToolCallSyntax syntax;
    std::string list_close, args_key;
  };
  for (const Case& c : {Case{ToolCallSyntax::kHermes, "", "arguments"},
                        Case{ToolCallSyntax::kLlama3, "", "parameters"},
                        Case{ToolCallSyntax::kPhi4Mini, "]", "arguments"},
                        Case{ToolCallSyntax::kMistral, "]", "arguments"}}) {
    SCOPED_TRACE(static_cast<int>(c.syntax));
    const ChatPromptPlan required = PlanFor(c.syntax, R"(,"tool_choice":"required")");
    ASSERT_FALSE(required.grammar.empty());
    EXPECT_TRUE(required.grammar_trigger.empty());
    const std::string k = "\"" + c.args_key + "\": ";
    const std::string& pre = required.prefill;
    EXPECT_TRUE(Matches(required.grammar, pre + "add\", " + k + "{\"a\": 1.5, \"b\": 2}}" +
                                              c.list_close));
    EXPECT_TRUE(Matches(required.grammar,
                        pre + "get_weather\", " + k + "{\"city\": \"Paris\"}}" + c.list_close));
    EXPECT_FALSE(Matches(required.grammar, pre + "add\", " + k + "{\"a\": 1, \"b\": 2.5}}" +
                                               c.list_close));  // b is an integer
    EXPECT_FALSE(Matches(required.grammar,
                         pre + "add\", " + k + "{\"a\": 1}}" + c.list_close));  // b required
    EXPECT_FALSE(Matches(required.grammar, pre + "sub\", " + k + "{}}" + c.list_close));
    EXPECT_FALSE(Matches(required.grammar, pre + "get_weather\", " + k +
                                               "{\"city\": \"Oslo\", \"unit\": \"kelvin\"}}" +
                                               c.list_close));

    const ChatPromptPlan named =
        PlanFor(c.syntax, R"(,"tool_choice":{"type":"function","function":{"name":"add"}})");
    EXPECT_TRUE(named.prefill.ends_with("{\"name\": \"add\", " + k)) << named.prefill;
    EXPECT_TRUE(Matches(named.grammar, named.prefill + "{\"a\": -1e2, \"b\": 3}}" + c.list_close))
        << named.grammar;
    EXPECT_FALSE(Matches(named.grammar, named.prefill + "{\"a\": \"x\", \"b\": 3}}" +
                                            c.list_close));
  }
}

// Under auto a strict function is held to its schema once the model opens a call (a lazy
// grammar from the opening markup); non-strict functions take any object; without strict
// functions nothing is constrained.
TEST(ToolCallGrammar, StrictFunctionsUnderAutoAreLazy) {
  const ChatPromptPlan free = PlanFor(ToolCallSyntax::kHermes, "");
  EXPECT_TRUE(free.grammar.empty());
  std::string body = RequestBody("tools");
  ASSERT_NE(body.find(R"("name":"add")"), std::string::npos);
  body.replace(body.find(R"("name":"add")"), 12, R"("name":"add","strict":true)");
  ChatTemplateTraits traits;
  traits.renders_tools = true;
  traits.syntax = ToolCallSyntax::kHermes;
  CompletionRequest r = Parsed(body);
  ChatPromptPlan plan;
  ASSERT_FALSE(PlanChatPrompt(r.messages, r.tools, r.tool_choice, traits, &plan).has_value());
  EXPECT_EQ(plan.prefill, "");
  EXPECT_EQ(plan.grammar_trigger, "<tool_call>");
  const std::string open = "<tool_call>\n{\"name\": ";
  EXPECT_TRUE(Matches(plan.grammar, open + "\"add\", \"arguments\": {\"a\": 1, \"b\": 2}}"));
  EXPECT_FALSE(Matches(plan.grammar, open + "\"add\", \"arguments\": {\"a\": 1}}"));
  // get_weather is not strict: any object.
  EXPECT_TRUE(Matches(plan.grammar, open + "\"get_weather\", \"arguments\": {\"town\": 1}}"));
  // A bare JSON call (Llama 3) has no opening to wait for: not constrained under auto.
  traits.syntax = ToolCallSyntax::kLlama3;
  ChatPromptPlan llama;
  ASSERT_FALSE(PlanChatPrompt(r.messages, r.tools, r.tool_choice, traits, &llama).has_value());
  EXPECT_TRUE(llama.grammar.empty());
}

// Parameters the grammar cannot enforce are a 400 naming the function's parameters, only when
// they would be enforced.
TEST(ToolCallGrammar, UnenforceableParametersAreNamed) {
  const std::string body =
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[)"
      R"({"type":"function","function":{"name":"f","parameters":{"type":"object"}}},)"
      R"({"type":"function","function":{"name":"g","parameters":{"type":"object",)"
      R"("properties":{"s":{"type":"string","pattern":"^a+$"}}}}}]})";
  ChatTemplateTraits traits;
  traits.renders_tools = true;
  traits.syntax = ToolCallSyntax::kHermes;
  const std::string named_f = R"(,"tool_choice":{"type":"function","function":{"name":"f"}})";
  for (const std::string& extra : {std::string(), named_f}) {
    CompletionRequest r = Parsed(body.substr(0, body.size() - 1) + extra + "}");
    ChatPromptPlan plan;
    EXPECT_FALSE(PlanChatPrompt(r.messages, r.tools, r.tool_choice, traits, &plan).has_value());
  }
  CompletionRequest r =
      Parsed(body.substr(0, body.size() - 1) + R"(,"tool_choice":"required"})");
  ChatPromptPlan plan;
  auto e = PlanChatPrompt(r.messages, r.tools, r.tool_choice, traits, &plan);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->param, "tools[1].function.parameters");
  EXPECT_NE(e->message.find("pattern"), std::string::npos) << e->message;
}

}  // namespace
}  // namespace foundry
