#include "convert/vocab_writer.h"

#include <string>
#include <utility>
#include <vector>

namespace foundry::convert {

Status WriteVocab(const HfTokenizer& tokenizer, int64_t n_vocab, GgufWriter* w) {
  VocabData d = tokenizer.vocab;
  const auto n_tokens = static_cast<int64_t>(d.tokens.size());
  if (n_tokens > n_vocab) {
    return CorruptFile("the tokenizer has " + std::to_string(n_tokens) +
                       " tokens but the embedding only " + std::to_string(n_vocab) + " rows");
  }
  if (d.token_types.empty() && n_tokens < n_vocab) {
    d.token_types.assign(d.tokens.size(), static_cast<int64_t>(TokenType::kNormal));
  }
  for (int64_t i = n_tokens; i < n_vocab; ++i) {
    d.tokens.push_back("[PAD" + std::to_string(i) + "]");
    d.token_types.push_back(static_cast<int64_t>(TokenType::kUnused));  // as llama.cpp writes them
    if (!d.scores.empty()) d.scores.push_back(0.0f);
  }
  // The engine must be able to load what is written: check it the way it will.
  {
    StatusOr<Vocab> check = Vocab::Build(d);
    if (!check.ok()) return CorruptFile("tokenizer: " + check.status().message());
  }
  w->AddString("tokenizer.ggml.model", d.model);
  if (!d.pre.empty()) w->AddString("tokenizer.ggml.pre", d.pre);
  w->AddStringArray("tokenizer.ggml.tokens", d.tokens);
  if (!d.token_types.empty()) {
    std::vector<int32_t> types(d.token_types.begin(), d.token_types.end());
    w->AddInt32Array("tokenizer.ggml.token_type", types);
  }
  if (!d.scores.empty()) w->AddFloat32Array("tokenizer.ggml.scores", d.scores);
  if (!d.merges.empty()) w->AddStringArray("tokenizer.ggml.merges", d.merges);
  for (const VocabIdKey& k : kVocabIdKeys) {
    // Negative: "none" (llama.cpp's converter writes no key then); large ids are kept as given
    // (Vocab::Build drops optional ones out of range, as llama.cpp does).
    const std::optional<int64_t>& id = d.*k.field;
    if (id && *id >= 0 && *id <= UINT32_MAX) w->AddUint32(k.key, static_cast<uint32_t>(*id));
  }
  for (const VocabFlagKey& k : kVocabFlagKeys) {
    if (d.*k.field) w->AddBool(k.key, *(d.*k.field));
  }
  if (!tokenizer.chat_template.empty()) {
    w->AddString("tokenizer.chat_template", tokenizer.chat_template);
  }
  return OkStatus();
}

}  // namespace foundry::convert
