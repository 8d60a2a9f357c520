#include "chat/chat_template_traits.h"

#include <cctype>

namespace foundry {
namespace {

bool Contains(std::string_view s, std::string_view what) {
  return s.find(what) != std::string_view::npos;
}

bool IsIdentifierChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// `tools` as a whole identifier that is not an attribute (message.tools) or a string key.
bool ReadsToolsVariable(std::string_view source) {
  constexpr std::string_view kWord = "tools";
  for (size_t at = source.find(kWord); at != std::string_view::npos;
       at = source.find(kWord, at + 1)) {
    const char before = at == 0 ? ' ' : source[at - 1];
    const size_t end = at + kWord.size();
    const char after = end < source.size() ? source[end] : ' ';
    if (IsIdentifierChar(before) || IsIdentifierChar(after)) continue;
    if (before == '.' || before == '\'' || before == '"' || before == '<' || before == '/') {
      continue;
    }
    return true;
  }
  return false;
}

}  // namespace

std::string_view ToolCallSyntaxName(ToolCallSyntax syntax) {
  switch (syntax) {
    case ToolCallSyntax::kNone:
      return "none";
    case ToolCallSyntax::kHermes:
      return "hermes";
    case ToolCallSyntax::kLlama3:
      return "llama3";
    case ToolCallSyntax::kPhi4Mini:
      return "phi4-mini";
    case ToolCallSyntax::kMistral:
      return "mistral";
  }
  return "none";
}

ChatTemplateTraits TraitsOfTemplate(std::string_view source) {
  ChatTemplateTraits t;
  // The most specific markup first: Hermes-style Llama fine-tunes also mention ipython.
  if (Contains(source, "<tool_call>")) {
    t.syntax = ToolCallSyntax::kHermes;
  } else if (Contains(source, "<|tool_call|>")) {
    t.syntax = ToolCallSyntax::kPhi4Mini;
  } else if (Contains(source, "[TOOL_CALLS]")) {
    t.syntax = ToolCallSyntax::kMistral;
  } else if (Contains(source, "<|python_tag|>") || Contains(source, "Environment: ipython")) {
    t.syntax = ToolCallSyntax::kLlama3;
  }
  t.renders_tools = ReadsToolsVariable(source);
  t.reasoning = Contains(source, "</think>");
  return t;
}

ToolCallMarkup MarkupOf(ToolCallSyntax syntax) {
  switch (syntax) {
    case ToolCallSyntax::kNone:
    case ToolCallSyntax::kHermes:
      return {"<tool_call>", "</tool_call>"};
    case ToolCallSyntax::kLlama3:
      return {"<|python_tag|>", ""};
    case ToolCallSyntax::kPhi4Mini:
      return {"<|tool_call|>", "<|/tool_call|>"};
    case ToolCallSyntax::kMistral:
      return {"[TOOL_CALLS]", ""};
  }
  return {"<tool_call>", "</tool_call>"};
}

}  // namespace foundry
