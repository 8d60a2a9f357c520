// Rendering chat messages into a model's prompt: the service's names for the engine's chat
// formatting (LanguageModel::FormatChat / TokenizeChat, src/engine/chat_prompt.cc), which
// `foundry generate` uses too.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "foundry/engine.h"

namespace foundry {

using PromptMessage = ChatTurn;

// The prompt text, ending with the assistant's generation prompt. A template that refuses the
// messages (raise_exception, e.g. roles not alternating) is InvalidArgument with its message.
inline StatusOr<std::string> RenderChatPrompt(const LanguageModel& lm,
                                              const std::vector<PromptMessage>& messages) {
  return lm.FormatChat(messages);
}

// Token ids of a rendered chat prompt (special tokens parsed; one BOS even when both the
// template and the vocabulary add one).
inline std::vector<int32_t> TokenizeChatPrompt(const LanguageModel& lm, const std::string& text) {
  return lm.TokenizeChat(text);
}

}  // namespace foundry
