#include "server/api/tool_call_constraint.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace foundry {
namespace {

using ojson = nlohmann::ordered_json;

bool WritesList(ToolCallSyntax s) {
  return s == ToolCallSyntax::kPhi4Mini || s == ToolCallSyntax::kMistral;
}

const char* ArgumentsKey(ToolCallSyntax s) {
  return s == ToolCallSyntax::kLlama3 ? "parameters" : "arguments";
}

// The opening markup of a call, up to where the JSON starts.
std::string OpeningMarkup(ToolCallSyntax s) {
  switch (s) {
    case ToolCallSyntax::kLlama3:
      return "";  // plain JSON at the start of the answer
    case ToolCallSyntax::kPhi4Mini:
    case ToolCallSyntax::kMistral:
      return MarkupOf(s).open;
    case ToolCallSyntax::kNone:
    case ToolCallSyntax::kHermes:
      return MarkupOf(s).open + "\n";
  }
  return "";
}

std::string ClosingMarkup(ToolCallSyntax s) {
  const std::string close = MarkupOf(s).close;
  if (close.empty()) return "";
  return (s == ToolCallSyntax::kHermes || s == ToolCallSyntax::kNone ? "\n" : "") + close;
}

ojson CallSchema(const ApiTool& t, ToolCallSyntax s, bool any_arguments) {
  ojson params = ojson::parse(t.parameters, nullptr, false);
  if (any_arguments || params.is_discarded() || !params.is_object()) {
    params = ojson{{"type", "object"}};
  }
  return ojson{{"type", "object"},
               {"properties", {{"name", {{"const", t.name}}}, {ArgumentsKey(s), params}}},
               {"required", {"name", ArgumentsKey(s)}},
               {"additionalProperties", false}};
}

}  // namespace

std::optional<ToolCallConstraint> ToolCallConstraintFor(const std::vector<ApiTool>& tools,
                                                        const ToolChoice& choice,
                                                        ToolCallSyntax syntax) {
  ojson call;
  ToolCallConstraint c;
  const bool any_strict =
      std::any_of(tools.begin(), tools.end(), [](const ApiTool& t) { return t.strict; });
  if (choice.mode == ToolChoice::Mode::kFunction) {
    for (const ApiTool& t : tools) {
      if (t.name == choice.function) call = CallSchema(t, syntax, false);
    }
    if (call.is_null()) return std::nullopt;
  } else if ((choice.mode == ToolChoice::Mode::kRequired && !tools.empty()) ||
             (choice.mode == ToolChoice::Mode::kAuto && any_strict &&
              !OpeningMarkup(syntax).empty())) {
    const bool lazy = choice.mode == ToolChoice::Mode::kAuto;
    ojson any = ojson::array();
    for (const ApiTool& t : tools) any.push_back(CallSchema(t, syntax, lazy && !t.strict));
    call = any.size() == 1 ? any[0] : ojson{{"anyOf", any}};
    if (lazy) c.trigger = MarkupOf(syntax).open;
  } else {
    return std::nullopt;
  }
  c.prefix = OpeningMarkup(syntax);
  c.suffix = ClosingMarkup(syntax);
  const ojson schema =
      WritesList(syntax) ? ojson{{"type", "array"}, {"items", call}, {"minItems", 1}} : call;
  c.schema = schema.dump(-1, ' ', false, ojson::error_handler_t::replace);
  return c;
}

std::string ToolCallPrefill(const ToolChoice& choice, ToolCallSyntax syntax) {
  if (choice.mode != ToolChoice::Mode::kRequired && choice.mode != ToolChoice::Mode::kFunction) {
    return "";
  }
  std::string out = OpeningMarkup(syntax) + (WritesList(syntax) ? "[" : "") + "{\"name\": \"";
  if (choice.mode == ToolChoice::Mode::kRequired) return out;
  // The name as a JSON string body (escaped, without its quotes).
  const std::string quoted = ojson(choice.function).dump();
  return out + quoted.substr(1, quoted.size() - 2) + "\", \"" + ArgumentsKey(syntax) + "\": ";
}

}  // namespace foundry
