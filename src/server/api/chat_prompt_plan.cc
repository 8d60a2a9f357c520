#include "server/api/chat_prompt_plan.h"

#include <nlohmann/json.hpp>

#include "grammar/json_schema_grammar.h"
#include "server/api/chat_json.h"
#include "server/api/tool_call_constraint.h"

namespace foundry {
namespace {

using ojson = nlohmann::ordered_json;

// A call's arguments for the template: the parsed object when the template prints them as
// JSON itself, else the client's text.
jinja::Value ArgumentsValue(const std::string& arguments, bool as_object) {
  if (as_object) {
    const ojson j = ojson::parse(arguments, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded() && j.is_object()) {
      auto v = JsonToValue(j);
      if (v.ok()) return std::move(v).value();
    }
  }
  return jinja::Value::String(arguments);
}

jinja::Value ToolCallsValue(const std::vector<ApiToolCall>& calls, bool arguments_as_object) {
  std::vector<jinja::Value> list;
  for (const ApiToolCall& c : calls) {
    jinja::Value fn = jinja::Value::MakeDict();
    fn.Set("name", jinja::Value::String(c.name));
    jinja::Value args = ArgumentsValue(c.arguments, arguments_as_object);
    const int depth = args.Depth();
    fn.Set("arguments", std::move(args));
    fn.SetDepth(depth + 1);
    jinja::Value call = jinja::Value::MakeDict();
    call.Set("id", jinja::Value::String(c.id));
    call.Set("type", jinja::Value::String("function"));
    call.Set("function", std::move(fn));
    call.SetDepth(depth + 2);
    list.push_back(std::move(call));
  }
  return jinja::Value::MakeList(std::move(list));
}

ChatMessage NativeMessage(const ApiMessage& m, bool arguments_as_object) {
  ChatMessage cm;
  cm.role = m.role;
  cm.content = m.content_null ? jinja::Value::None() : jinja::Value::String(m.content);
  if (!m.tool_calls.empty()) cm.tool_calls = ToolCallsValue(m.tool_calls, arguments_as_object);
  if (!m.tool_call_id.empty()) cm.tool_call_id = m.tool_call_id;
  if (!m.name.empty()) cm.name = m.name;
  return cm;
}

std::string HermesCall(const ApiToolCall& c) {
  const ojson args = ojson::parse(c.arguments, nullptr, /*allow_exceptions=*/false);
  const std::string args_text = args.is_discarded() ? ojson(c.arguments).dump() : c.arguments;
  return "<tool_call>\n{\"name\": " + ojson(c.name).dump() + ", \"arguments\": " + args_text +
         "}\n</tool_call>";
}

// Messages for a template that knows only plain turns (see the header).
std::vector<ChatMessage> FallbackMessages(const std::vector<ApiMessage>& messages,
                                          const std::string& tool_prompt) {
  std::vector<ChatMessage> out;
  auto plain = [](std::string role, std::string content) {
    ChatMessage cm;
    cm.role = std::move(role);
    cm.content = jinja::Value::String(std::move(content));
    return cm;
  };
  std::vector<std::string> texts;  // the content of each message in `out`, as built
  for (const ApiMessage& m : messages) {
    if (m.role == "tool") {
      const std::string response = "<tool_response>\n" + m.content + "\n</tool_response>";
      // Results of one turn's calls share one user turn.
      if (!out.empty() && out.back().role == "user" && texts.back().ends_with("</tool_response>")) {
        texts.back() += "\n" + response;
        out.back().content = jinja::Value::String(texts.back());
        continue;
      }
      out.push_back(plain("user", response));
      texts.push_back(response);
      continue;
    }
    std::string content = m.content;
    for (const ApiToolCall& c : m.tool_calls) {
      if (!content.empty()) content += "\n";
      content += HermesCall(c);
    }
    out.push_back(plain(m.role, content));
    texts.push_back(std::move(content));
  }
  if (!tool_prompt.empty() && !out.empty()) {
    // Into the system turn, or else the first turn: some templates (Gemma's) refuse a
    // system role.
    const bool system = out.front().role == "system";
    texts.front() =
        system ? texts.front() + "\n\n" + tool_prompt : tool_prompt + "\n\n" + texts.front();
    out.front().content = jinja::Value::String(texts.front());
  }
  return out;
}

// The grammar of a forced or strict call. A function whose parameters fall outside the
// supported JSON Schema subset is a 400 naming it (the grammar could not enforce them).
std::optional<ApiError> PlanToolCallGrammar(const std::vector<ApiTool>& tools,
                                            const ToolChoice& choice, ToolCallSyntax syntax,
                                            ChatPromptPlan* out) {
  const std::optional<ToolCallConstraint> c = ToolCallConstraintFor(tools, choice, syntax);
  if (!c) return std::nullopt;
  const bool lazy = !c->trigger.empty();
  for (size_t i = 0; i < tools.size(); ++i) {
    const ApiTool& t = tools[i];
    const bool enforced = choice.mode == ToolChoice::Mode::kFunction ? t.name == choice.function
                                                                     : !lazy || t.strict;
    if (!enforced) continue;
    auto checked = JsonSchemaTextToGbnf(t.parameters);
    if (!checked.ok()) {
      const std::string param = "tools[" + std::to_string(i) + "].function.parameters";
      return InvalidRequest(param, "'" + param + "' cannot be enforced: " +
                                       std::string(checked.status().message()));
    }
  }
  auto gbnf = JsonSchemaTextToGbnf(c->schema, GrammarWrap{c->prefix, ""});
  if (!gbnf.ok()) return InvalidRequest("tools", std::string(gbnf.status().message()));
  out->grammar = std::move(gbnf).value();
  out->grammar_trigger = c->trigger;
  return std::nullopt;
}

}  // namespace

std::string FallbackToolPrompt(const std::vector<ApiTool>& tools) {
  std::string out =
      "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
      "You are provided with function signatures within <tools></tools> XML tags:\n<tools>";
  for (const ApiTool& t : tools) out += "\n" + t.json;
  out +=
      "\n</tools>\n\nFor each function call, return a json object with function name and "
      "arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n"
      "{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>";
  return out;
}

bool PromptEndsInReasoning(std::string_view prompt) {
  const size_t open = prompt.rfind("<think>");
  return open != std::string_view::npos && prompt.find("</think>", open) == std::string_view::npos;
}

std::optional<ApiError> PlanChatPrompt(const std::vector<ApiMessage>& messages,
                                       const std::vector<ApiTool>& tools, const ToolChoice& choice,
                                       const ChatTemplateTraits& traits, ChatPromptPlan* out) {
  const bool offer_tools = !tools.empty() && choice.mode != ToolChoice::Mode::kNone;
  const bool native = traits.renders_tools;
  // Known syntaxes print arguments with tojson and expect an object there.
  const bool arguments_as_object = traits.syntax != ToolCallSyntax::kNone;
  const ToolCallSyntax syntax =
      native && traits.syntax != ToolCallSyntax::kNone ? traits.syntax : ToolCallSyntax::kHermes;

  ChatContext& ctx = out->context;
  if (native) {
    for (const ApiMessage& m : messages)
      ctx.messages.push_back(NativeMessage(m, arguments_as_object));
    if (offer_tools) {
      std::vector<jinja::Value> list;
      for (size_t i = 0; i < tools.size(); ++i) {
        auto v = JsonToValue(ojson::parse(tools[i].json, nullptr, false));
        if (!v.ok()) {
          return InvalidRequest("tools[" + std::to_string(i) + "]", v.status().message());
        }
        list.push_back(std::move(v).value());
      }
      ctx.tools = jinja::Value::MakeList(std::move(list));
    }
  } else {
    ctx.messages = FallbackMessages(messages, offer_tools ? FallbackToolPrompt(tools) : "");
  }

  out->parser.syntax = syntax;
  out->parser.parse_tool_calls = offer_tools;
  if (offer_tools) {
    for (const ApiTool& t : tools) out->parser.tool_names.push_back(t.name);
  }
  out->parser.reasoning = traits.reasoning;
  out->render_special_tokens = offer_tools && syntax != ToolCallSyntax::kHermes;
  if (offer_tools) {
    out->prefill = ToolCallPrefill(choice, syntax);
    if (auto e = PlanToolCallGrammar(tools, choice, syntax, out)) return e;
  }
  return std::nullopt;
}

}  // namespace foundry
