// What a chat template tells about the model's tool calling and reasoning, read from the
// template's source: which tool-call syntax the model was trained to write (the markup the
// template itself uses to render past calls or describe the format), whether the template
// renders the request's `tools`, and whether it is a reasoning template (<think>…</think>).
#pragma once

#include <string>
#include <string_view>

namespace foundry {

// The families of tool-call markup a model writes in its answers.
enum class ToolCallSyntax {
  kNone,      // the template shows no known tool-call markup
  kHermes,    // Qwen2.5, Hermes, SmolLM3: <tool_call>{"name","arguments"}</tool_call>
  kLlama3,    // Llama 3.1/3.2: bare {"name","parameters"} JSON, or <|python_tag|>…
  kPhi4Mini,  // Phi-4-mini: <|tool_call|>[{"name","arguments"}]<|/tool_call|>
  kMistral,   // Mistral: [TOOL_CALLS][{"name","arguments"}]
};

std::string_view ToolCallSyntaxName(ToolCallSyntax syntax);

struct ChatTemplateTraits {
  ToolCallSyntax syntax = ToolCallSyntax::kNone;
  bool renders_tools = false;  // the template reads the `tools` variable
  bool reasoning = false;      // the template knows </think> (DeepSeek-R1 style)
};

ChatTemplateTraits TraitsOfTemplate(std::string_view source);

// The opening and closing markup of one call in a syntax (closing "" when a call runs to the
// end of the answer). Hermes is used for kNone: it is the format of the fallback tool prompt.
struct ToolCallMarkup {
  std::string open;
  std::string close;
};
ToolCallMarkup MarkupOf(ToolCallSyntax syntax);

}  // namespace foundry
