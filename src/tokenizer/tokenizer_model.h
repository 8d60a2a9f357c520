// Internal: the interface between Tokenizer (special tokens, BOS/EOS, pieces) and one
// tokenization algorithm (byte-level BPE in bpe.cc, SentencePiece in spm.cc).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/vocab.h"

namespace foundry {

// A piece of the input after special-token splitting: raw text, or one special token.
struct TextFragment {
  std::string_view text;
  int32_t token = kNoToken;  // >= 0: this fragment is the special token `token`
};

class TokenizerModel {
 public:
  virtual ~TokenizerModel() = default;
  // Appends the ids for `fragments` in order. Special-token fragments are appended as-is;
  // text fragments contain no special tokens. Must be safe to call concurrently.
  virtual void Encode(std::span<const TextFragment> fragments, std::vector<int32_t>* out) const = 0;
  // The bytes that a normal token stands for (the vocabulary text decoded).
  virtual std::string NormalPiece(int32_t id) const = 0;
  // The bytes that a byte token (TokenType::kByte) stands for; "" when the model has none.
  virtual std::string BytePiece(int32_t /*id*/) const { return std::string(); }
};

// Byte-level BPE (`tokenizer.ggml.model == "gpt2"`). `vocab` must outlive the model.
StatusOr<std::unique_ptr<TokenizerModel>> CreateBpeModel(const Vocab& vocab);

// SentencePiece (`tokenizer.ggml.model == "llama"`), llama.cpp's llm_tokenizer_spm: spaces
// become U+2581, a prefix space starts the text and every text that follows a special token
// (when add_space_prefix), adjacent pairs merge by highest score, byte fallback to <0xXX>.
// `vocab` must outlive the model.
StatusOr<std::unique_ptr<TokenizerModel>> CreateSpmModel(const Vocab& vocab);

// The GPT-2 byte-to-unicode alphabet: the code point that stands for byte b.
uint32_t ByteToBpeCodepoint(uint8_t b);

}  // namespace foundry
