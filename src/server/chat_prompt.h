// Rendering chat messages into a model's prompt: the model's own `tokenizer.chat_template`
// (src/chat/ Jinja engine), with a per-family fallback when a model has no template or one our
// engine cannot parse: Gemma, Llama 3, otherwise ChatML (Qwen, SmolLM, Phi, ...).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace foundry {

class LanguageModel;

struct PromptMessage {
  std::string role;  // system, user, assistant
  std::string content;
};

// The prompt text, ending with the assistant's generation prompt. A template that refuses the
// messages (raise_exception, e.g. roles not alternating) is InvalidArgument with its message.
StatusOr<std::string> RenderChatPrompt(const LanguageModel& lm,
                                       const std::vector<PromptMessage>& messages);

// Token ids of a rendered chat prompt (special tokens parsed; one BOS even when both the
// template and the vocabulary add one).
std::vector<int32_t> TokenizeChatPrompt(const LanguageModel& lm, const std::string& text);

}  // namespace foundry
