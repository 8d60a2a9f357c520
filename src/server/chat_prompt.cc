#include "server/chat_prompt.h"

#include <string_view>

#include "format/gguf_file.h"
#include "foundry/engine.h"

namespace foundry {
namespace {

std::string_view TemplateOf(const LanguageModel& lm) {
  auto t = lm.gguf().FindString("tokenizer.chat_template");
  if (!t.ok() || !t->has_value()) return {};
  return **t;
}

std::string Gemma(const std::vector<ChatMessage>& messages) {
  // Gemma has no system role: a system message is prefixed to the first user turn.
  std::string out = "<bos>";
  std::string system;
  for (const ChatMessage& m : messages) {
    if (m.role == "system") {
      system += m.content + "\n\n";
      continue;
    }
    const std::string role = m.role == "assistant" ? "model" : "user";
    out += "<start_of_turn>" + role + "\n";
    if (role == "user" && !system.empty()) {
      out += system;
      system.clear();
    }
    out += m.content + "<end_of_turn>\n";
  }
  return out + "<start_of_turn>model\n";
}

std::string Llama3(const std::vector<ChatMessage>& messages) {
  std::string out = "<|begin_of_text|>";
  for (const ChatMessage& m : messages) {
    out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + m.content + "<|eot_id|>";
  }
  return out + "<|start_header_id|>assistant<|end_header_id|>\n\n";
}

std::string ChatMl(const std::vector<ChatMessage>& messages) {
  std::string out;
  for (const ChatMessage& m : messages) {
    out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  }
  return out + "<|im_start|>assistant\n";
}

}  // namespace

std::string RenderChatPrompt(const LanguageModel& lm, const std::vector<ChatMessage>& messages) {
  const std::string_view tmpl = TemplateOf(lm);
  if (tmpl.find("<start_of_turn>") != std::string_view::npos) return Gemma(messages);
  if (tmpl.find("<|start_header_id|>") != std::string_view::npos) return Llama3(messages);
  return ChatMl(messages);
}

}  // namespace foundry
