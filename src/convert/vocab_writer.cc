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
    d.token_types.push_back(static_cast<int64_t>(TokenType::kUserDefined));
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
  const std::pair<const char*, const std::optional<int64_t>*> ids[] = {
      {"tokenizer.ggml.bos_token_id", &d.bos},
      {"tokenizer.ggml.eos_token_id", &d.eos},
      {"tokenizer.ggml.eot_token_id", &d.eot},
      {"tokenizer.ggml.eom_token_id", &d.eom},
      {"tokenizer.ggml.unknown_token_id", &d.unk},
      {"tokenizer.ggml.seperator_token_id", &d.sep},  // sic: the GGUF key is misspelled
      {"tokenizer.ggml.padding_token_id", &d.pad},
      {"tokenizer.ggml.fim_pre_token_id", &d.fim_pre},
      {"tokenizer.ggml.fim_suf_token_id", &d.fim_suf},
      {"tokenizer.ggml.fim_mid_token_id", &d.fim_mid},
      {"tokenizer.ggml.fim_pad_token_id", &d.fim_pad},
      {"tokenizer.ggml.fim_rep_token_id", &d.fim_rep},
      {"tokenizer.ggml.fim_sep_token_id", &d.fim_sep},
  };
  for (const auto& [key, id] : ids) {
    // Negative: "none" (llama.cpp's converter writes no key then); large ids are kept as given
    // (Vocab::Build drops optional ones out of range, as llama.cpp does).
    if (*id && **id >= 0 && **id <= UINT32_MAX) w->AddUint32(key, static_cast<uint32_t>(**id));
  }
  const std::pair<const char*, const std::optional<bool>*> flags[] = {
      {"tokenizer.ggml.add_bos_token", &d.add_bos},
      {"tokenizer.ggml.add_eos_token", &d.add_eos},
      {"tokenizer.ggml.add_space_prefix", &d.add_space_prefix},
  };
  for (const auto& [key, flag] : flags) {
    if (*flag) w->AddBool(key, **flag);
  }
  if (!tokenizer.chat_template.empty()) {
    w->AddString("tokenizer.chat_template", tokenizer.chat_template);
  }
  return OkStatus();
}

}  // namespace foundry::convert
