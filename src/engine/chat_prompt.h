// Chat prompts for the layers above the public API (the service): the model's template
// source and rendering of a full ChatContext (tools, tool calls, tool turns), which
// LanguageModel::FormatChat (role and text only) is a special case of.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "chat/chat_template.h"
#include "foundry/engine.h"

namespace foundry {

// The GGUF's `tokenizer.chat_template`; "" when it has none.
std::string_view ChatTemplateSourceOf(const LanguageModel& lm);

// Renders `context` with the model's template, with add_generation_prompt and the model's
// bos/eos tokens. Without a usable template, the family's fallback format of FormatChat,
// from each message's role and text content.
StatusOr<std::string> RenderChat(const LanguageModel& lm, ChatContext context);

}  // namespace foundry
