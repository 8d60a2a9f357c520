// Rendering chat messages into a model's prompt text. The ONE place to switch to the model's
// own `tokenizer.chat_template` once the chat-template engine (src/chat/) lands; until then a
// fallback per family: Gemma, Llama 3, otherwise ChatML (Qwen, SmolLM, Phi, ...).
#pragma once

#include <string>
#include <vector>

namespace foundry {

class LanguageModel;

struct ChatMessage {
  std::string role;  // system, user, assistant
  std::string content;
};

std::string RenderChatPrompt(const LanguageModel& lm, const std::vector<ChatMessage>& messages);

}  // namespace foundry
