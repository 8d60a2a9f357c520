// From an OpenAI chat request to the template's input (server/api/chat_prompt_plan.h): the
// render of a parsed request through Qwen2.5-Coder's template equals jinja2's render of the
// same conversation (tests/golden/data/chat_templates.json, tools/gen_chat_goldens.py), the
// fallback for templates without tools, tool_choice prefills and the constraint seam
// (server/api/tool_call_constraint.h).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace foundry
