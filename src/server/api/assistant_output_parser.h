// Splits a model's answer, as it streams, into what OpenAI's API returns separately: the
// content, the reasoning (<think>…</think> of DeepSeek-R1-style models, as `reasoning_content`)
// and tool calls written in the model family's markup (chat/chat_template_traits.h), as
// `tool_calls` with the arguments as a JSON string.
//
// A state machine fed pieces of text: text that may be the start of a marker is held back
// until the next piece decides; a call's markup is buffered until the call is complete and
// only then emitted, so no markup leaks into the content. A call whose body does not parse
// (or names no function) comes back as content, verbatim, never as an error.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chat/chat_template_traits.h"

namespace foundry {

struct ParsedToolCall {
  std::string id;         // call_…, unique within the answer
  std::string name;       // function name
  std::string arguments;  // a JSON object as text
};

struct OutputEvent {
  enum class Kind { kContent, kReasoning, kToolCall };
  Kind kind = Kind::kContent;
  std::string text;     // kContent, kReasoning
  ParsedToolCall call;  // kToolCall
  int index = 0;        // kToolCall: position among the answer's calls
};

struct OutputParserOptions {
  ToolCallSyntax syntax = ToolCallSyntax::kNone;
  bool parse_tool_calls = false;     // the request offered tools (and tool_choice is not none)
  bool reasoning = false;            // the template is a reasoning template
  bool starts_in_reasoning = false;  // the prompt ends inside <think> (the template opened it)
  std::string id_prefix = "call_";   // call ids are id_prefix + a number
  // The offered functions. An answer that is nothing but a JSON call ({"name", "arguments"},
  // bare or in a ```json fence, as small models often write it instead of the markup) is a
  // call when it names one of these.
  std::vector<std::string> tool_names;
};

class AssistantOutputParser {
 public:
  explicit AssistantOutputParser(OutputParserOptions options);

  // Text the prompt already holds at the start of the answer (a tool-call opening prefilled
  // for tool_choice required or a named function): parsed as if generated, never emitted.
  void Prime(std::string_view text);
  // The next piece of generated text; returns what can be emitted now.
  std::vector<OutputEvent> Push(std::string_view text);
  // End of the answer: everything still held back.
  std::vector<OutputEvent> Finish();

  int tool_calls() const { return n_calls_; }

 private:
  enum class Mode { kContent, kReasoning, kCall };
  void Run(bool at_end, std::vector<OutputEvent>* out);
  void StepContent(bool at_end, bool* progressed, std::vector<OutputEvent>* out);
  void StepReasoning(bool at_end, bool* progressed, std::vector<OutputEvent>* out);
  void StepCall(bool at_end, bool* progressed, std::vector<OutputEvent>* out);
  void EmitText(OutputEvent::Kind kind, std::string text, std::vector<OutputEvent>* out);
  // Parses a finished call body; false when it is not a valid call.
  bool EmitCalls(std::string_view body, std::vector<OutputEvent>* out);
  // A bare call (JSON or a ```json fence at the start of the answer).
  bool EmitBareCalls(std::string_view body, std::vector<OutputEvent>* out);
  bool EmitParsed(std::vector<ParsedToolCall> calls, std::vector<OutputEvent>* out);
  // The answer's start may be a bare JSON call: decides (or waits) before content is emitted.
  bool StartsBareCall(bool at_end, bool* wait);

  OutputParserOptions options_;
  ToolCallMarkup markup_;
  Mode mode_ = Mode::kContent;
  std::string pending_;              // text not yet classified
  std::string call_open_;            // the markup that opened the current call ("" for bare JSON)
  std::string call_body_;            // the current call's text so far
  bool answer_started_ = false;      // content (other than whitespace) has been seen
  bool trim_content_start_ = false;  // drop whitespace between </think> and the answer
  int n_calls_ = 0;
};

// Parses one call body of a syntax (the text between its markers) into calls; empty when it
// is not valid. Exposed for tests and for validating prefilled calls.
std::vector<ParsedToolCall> ParseToolCallBody(ToolCallSyntax syntax, std::string_view body);

}  // namespace foundry
