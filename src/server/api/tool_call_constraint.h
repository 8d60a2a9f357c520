// What a call forced by tool_choice (required, or a named function) must look like: the
// markup that opens and closes it in the model's syntax and the JSON Schema of the JSON in
// between. The service prefills the opening (ToolCallPrefill) so the model always writes a
// call; a grammar engine can constrain the rest with ToolCallConstraintFor's schema.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chat/chat_template_traits.h"
#include "server/api/openai_request.h"

namespace foundry {

struct ToolCallConstraint {
  std::string prefix;  // markup before the JSON, e.g. "<tool_call>\n"
  std::string schema;  // JSON Schema (text) the JSON between prefix and suffix must satisfy
  std::string suffix;  // markup after it, e.g. "\n</tool_call>" ("" when the call runs to EOS)
  // Non-empty for a call the model may or may not make (tool_choice auto with strict
  // functions): the constraint applies once the answer holds this opening markup.
  std::string trigger;
};

// The constraint for tool_choice required (any of the tools: anyOf) or a named function, and
// for auto when a function is strict (a lazy one: see `trigger`; only for syntaxes that open
// a call with markup, since a bare JSON call has nothing to wait for); nullopt otherwise. The
// JSON is {"name": const, "arguments": parameters} (Llama 3: "parameters"); Phi-4-mini and
// Mistral write a list of such objects. Under auto only strict functions' arguments are held
// to their schema; the others' are any JSON object.
std::optional<ToolCallConstraint> ToolCallConstraintFor(const std::vector<ApiTool>& tools,
                                                        const ToolChoice& choice,
                                                        ToolCallSyntax syntax);

// The text put at the start of the assistant's answer so that it is a call: the opening
// markup and JSON up to the function name (required) or up to the arguments (named). "" for
// auto and none.
std::string ToolCallPrefill(const ToolChoice& choice, ToolCallSyntax syntax);

}  // namespace foundry
