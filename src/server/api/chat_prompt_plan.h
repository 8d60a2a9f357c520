// How a chat request becomes a prompt and how its answer is read back, given what the model's
// template supports (chat/chat_template_traits.h):
//
// * A template that renders `tools` gets them as transformers passes them (each tool as the
//   client sent it, key order kept), assistant turns with `tool_calls` (arguments as a JSON
//   object when the template prints them with tojson, as Qwen's, Llama's and Mistral's do)
//   and `tool` turns with tool_call_id and name.
// * A template that does not gets the fallback: a block (FallbackToolPrompt), appended to
//   the system turn or else put before the first turn's text, that lists the functions and asks for
//   Hermes-style <tool_call> markup; earlier calls become that markup in the assistant's text and
//   tool results become user turns wrapped in <tool_response>, so any template (even one that only
//   knows user and assistant) renders them.
// * tool_choice none renders no tools and reads no calls; required and a named function
//   prefill the call's opening and constrain the rest with a grammar, as do strict functions
//   under auto once the model opens a call (server/api/tool_call_constraint.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "chat/chat_template_traits.h"
#include "server/api/assistant_output_parser.h"
#include "server/api/error.h"
#include "server/api/openai_request.h"

namespace foundry {

struct ChatPromptPlan {
  ChatContext context;  // messages and tools; bos/eos and the generation prompt are the model's
  std::string prefill;  // appended to the rendered prompt: the answer's forced start
  OutputParserOptions parser;          // how to split the answer (starts_in_reasoning: see below)
  bool render_special_tokens = false;  // the syntax's markup is made of control tokens
  // GBNF for a call the answer must (tool_choice required, a named function) or may (auto
  // with strict functions: lazy, from grammar_trigger on) make, arguments valid against the
  // function's parameters; "" for none. A forced call's grammar reads the prefill first.
  std::string grammar;
  std::string grammar_trigger;
};

std::optional<ApiError> PlanChatPrompt(const std::vector<ApiMessage>& messages,
                                       const std::vector<ApiTool>& tools, const ToolChoice& choice,
                                       const ChatTemplateTraits& traits, ChatPromptPlan* out);

// The system block that describes the tools to a model whose template cannot.
std::string FallbackToolPrompt(const std::vector<ApiTool>& tools);

// True when a rendered prompt ends inside an opened <think> (DeepSeek-R1's templates open it
// in the generation prompt): the answer then starts with reasoning.
bool PromptEndsInReasoning(std::string_view prompt);

}  // namespace foundry
