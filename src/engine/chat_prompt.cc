// LanguageModel's chat formatting: the model's own `tokenizer.chat_template` rendered by the
// src/chat/ Jinja engine. Some GGUFs carry no template (the Gemma 3 270M Q4_K_M build has
// none) and a few may not parse; then the family is recognized by its turn tokens in the
// vocabulary: Gemma, Llama 3, Phi-3, otherwise ChatML (Qwen, SmolLM, ...). Shared by
// `foundry generate` and the service.
#include "engine/chat_prompt.h"

#include "chat/chat_template.h"
#include "engine/internal.h"
#include "format/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace foundry {
namespace {

std::string_view TemplateOf(const GgufFile& gguf) {
  auto t = gguf.FindString("tokenizer.chat_template");
  if (!t.ok() || !t->has_value()) return {};
  return **t;
}

std::string Gemma(const std::vector<ChatTurn>& messages) {
  // Gemma has no system role: a system message is prefixed to the first user turn.
  std::string out = "<bos>";
  std::string system;
  for (const ChatTurn& m : messages) {
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

std::string Llama3(const std::vector<ChatTurn>& messages) {
  std::string out = "<|begin_of_text|>";
  for (const ChatTurn& m : messages) {
    out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + m.content + "<|eot_id|>";
  }
  return out + "<|start_header_id|>assistant<|end_header_id|>\n\n";
}

std::string ChatMl(const std::vector<ChatTurn>& messages) {
  std::string out;
  for (const ChatTurn& m : messages) {
    out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  }
  return out + "<|im_start|>assistant\n";
}

std::string Phi3(const std::vector<ChatTurn>& messages) {
  std::string out;
  for (const ChatTurn& m : messages) out += "<|" + m.role + "|>\n" + m.content + "<|end|>\n";
  return out + "<|assistant|>\n";
}

std::string Fallback(const Vocab& vocab, const std::vector<ChatTurn>& messages) {
  const auto has = [&](std::string_view text) { return vocab.Find(text) != kNoToken; };
  if (has("<start_of_turn>") && has("<end_of_turn>")) return Gemma(messages);
  if (has("<|start_header_id|>") && has("<|eot_id|>")) return Llama3(messages);
  if (has("<|user|>") && has("<|assistant|>") && has("<|end|>")) return Phi3(messages);
  return ChatMl(messages);
}

}  // namespace

std::string_view ChatTemplateSourceOf(const LanguageModel& lm) { return TemplateOf(GgufOf(lm)); }

StatusOr<std::string> RenderChat(const LanguageModel& lm, ChatContext ctx) {
  const std::string_view source = TemplateOf(GgufOf(lm));
  auto tmpl = source.empty() ? StatusOr<ChatTemplate>(NotFound("no template"))
                             : ChatTemplate::Parse(source);
  if (!tmpl.ok()) {
    std::vector<ChatTurn> turns;
    for (const ChatMessage& m : ctx.messages) {
      ChatTurn t;
      t.role = m.role;
      if (m.content && m.content->IsString()) t.content = m.content->AsString();
      turns.push_back(std::move(t));
    }
    return Fallback(TokenizerOf(lm).vocab(), turns);
  }
  ctx.add_generation_prompt = true;
  const Tokenizer& tok = TokenizerOf(lm);
  if (tok.bos() >= 0) ctx.bos_token = tok.TokenToPiece(tok.bos(), /*render_special=*/true);
  if (tok.eos() >= 0) ctx.eos_token = tok.TokenToPiece(tok.eos(), /*render_special=*/true);
  auto text = tmpl->Render(ctx);
  if (!text.ok()) {
    return InvalidArgument("the model's chat template refused the messages: " +
                           text.status().message());
  }
  return std::move(text).value();
}

StatusOr<std::string> LanguageModel::FormatChat(const std::vector<ChatTurn>& messages) const {
  ChatContext ctx;
  for (const ChatTurn& m : messages) {
    ChatMessage cm;
    cm.role = m.role;
    cm.content = jinja::Value::String(m.content);
    ctx.messages.push_back(std::move(cm));
  }
  return RenderChat(*this, std::move(ctx));
}

std::vector<int32_t> LanguageModel::TokenizeChat(const std::string& text) const {
  std::vector<int32_t> ids = Tokenize(text, /*add_special=*/true, /*parse_special=*/true);
  const int32_t bos = TokenizerOf(*this).bos();
  if (ids.size() >= 2 && bos >= 0 && ids[0] == bos && ids[1] == bos) ids.erase(ids.begin());
  return ids;
}

}  // namespace foundry
