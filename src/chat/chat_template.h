// Chat templates: the Jinja programs GGUF files carry in `tokenizer.chat_template`, rendered by
// our own engine so that a conversation becomes exactly the prompt text Hugging Face's
// `apply_chat_template` would produce (jinja2 with trim_blocks and lstrip_blocks, HF's tojson,
// raise_exception and strftime_now). The engine and its limits are described in
// chat/jinja_interpreter.h.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "chat/jinja_interpreter.h"
#include "chat/jinja_value.h"

namespace foundry {

// One message as the template sees it: a dict with, in this order, `role`, `content` (when
// set), `tool_calls`, `tool_call_id`, `name` (each only when set) and then `extra` fields.
struct ChatMessage {
  std::string role;
  std::optional<jinja::Value> content;     // a string, None, or a list of content parts
  std::optional<jinja::Value> tool_calls;  // list of {id, type, function{name, arguments}}
  std::optional<std::string> tool_call_id;
  std::optional<std::string> name;
  std::vector<std::pair<std::string, jinja::Value>> extra;
};

struct ChatContext {
  std::vector<ChatMessage> messages;
  std::optional<jinja::Value> tools;  // unset: `tools` is None, as transformers passes it
  bool add_generation_prompt = false;
  std::string bos_token;
  std::string eos_token;
  // More template variables (e.g. enable_thinking), set after the standard ones.
  std::vector<std::pair<std::string, jinja::Value>> extra_vars;
  // strftime_now() clock: fixed UTC seconds for reproducible renders; unset: local time now.
  std::optional<int64_t> now_unix_seconds;
};

// The value `messages` holds for a context (exposed for tests and tools).
jinja::Value MessagesValue(const std::vector<ChatMessage>& messages);

class ChatTemplate {
 public:
  // Syntax errors name the line and column.
  static StatusOr<ChatTemplate> Parse(std::string_view source);

  // Errors from the template (raise_exception, undefined values, type errors) carry jinja2's
  // message; limits exceeded are kOutOfRange.
  StatusOr<std::string> Render(const ChatContext& context) const;
  StatusOr<std::string> Render(const ChatContext& context, const jinja::RenderLimits& limits) const;

 private:
  explicit ChatTemplate(std::shared_ptr<const jinja::Program> program)
      : program_(std::move(program)) {}
  std::shared_ptr<const jinja::Program> program_;
};

}  // namespace foundry
