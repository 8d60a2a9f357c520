#include "server/chat_prompt.h"

#include <string_view>

#include "chat/chat_template.h"
#include "format/gguf_file.h"
#include "foundry/engine.h"
#include "tokenizer/tokenizer.h"

namespace foundry {
namespace {

std::string_view TemplateOf(const LanguageModel& lm) {
  auto t = lm.gguf().FindString("tokenizer.chat_template");
  if (!t.ok() || !t->has_value()) return {};
  return **t;
}

std::string Gemma(const std::vector<PromptMessage>& messages) {
  // Gemma has no system role: a system message is prefixed to the first user turn.
  std::string out = "<bos>";
  std::string system;
  for (const PromptMessage& m : messages) {
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

std::string Llama3(const std::vector<PromptMessage>& messages) {
  std::string out = "<|begin_of_text|>";
  for (const PromptMessage& m : messages) {
    out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + m.content + "<|eot_id|>";
  }
  return out + "<|start_header_id|>assistant<|end_header_id|>\n\n";
}

std::string ChatMl(const std::vector<PromptMessage>& messages) {
  std::string out;
  for (const PromptMessage& m : messages) {
    out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  }
  return out + "<|im_start|>assistant\n";
}

std::string Fallback(std::string_view tmpl, const std::vector<PromptMessage>& messages) {
  if (tmpl.find("<start_of_turn>") != std::string_view::npos) return Gemma(messages);
  if (tmpl.find("<|start_header_id|>") != std::string_view::npos) return Llama3(messages);
  return ChatMl(messages);
}

}  // namespace

StatusOr<std::string> RenderChatPrompt(const LanguageModel& lm,
                                       const std::vector<PromptMessage>& messages) {
  const std::string_view source = TemplateOf(lm);
  if (source.empty()) return Fallback(source, messages);
  auto tmpl = ChatTemplate::Parse(source);
  if (!tmpl.ok()) return Fallback(source, messages);
  ChatContext ctx;
  for (const PromptMessage& m : messages) {
    ChatMessage cm;
    cm.role = m.role;
    cm.content = jinja::Value::String(m.content);
    ctx.messages.push_back(std::move(cm));
  }
  ctx.add_generation_prompt = true;
  const Tokenizer& tok = lm.tokenizer();
  if (tok.bos() >= 0) ctx.bos_token = tok.TokenToPiece(tok.bos(), /*render_special=*/true);
  if (tok.eos() >= 0) ctx.eos_token = tok.TokenToPiece(tok.eos(), /*render_special=*/true);
  auto text = tmpl->Render(ctx);
  if (!text.ok()) {
    return InvalidArgument("the model's chat template refused the messages: " +
                           text.status().message());
  }
  return std::move(text).value();
}

std::vector<int32_t> TokenizeChatPrompt(const LanguageModel& lm, const std::string& text) {
  std::vector<int32_t> ids = lm.Tokenize(text, /*add_special=*/true, /*parse_special=*/true);
  const int32_t bos = lm.tokenizer().bos();
  if (ids.size() >= 2 && bos >= 0 && ids[0] == bos && ids[1] == bos) ids.erase(ids.begin());
  return ids;
}

}  // namespace foundry
