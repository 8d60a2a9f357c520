// Tokenizer: text <-> token ids for a model's vocabulary, matching llama.cpp and the Hugging
// Face reference tokenizers id for id. Immutable after Create(); all methods are const and
// safe to call from many threads at once (per-call state lives on the stack).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "tokenizer/vocab.h"

namespace foundry {

class GgufFile;
class TokenizerModel;
struct TextFragment;

class Tokenizer {
 public:
  // Reads the vocabulary from GGUF metadata. Supported: `tokenizer.ggml.model == "gpt2"`
  // (byte-level BPE) and "llama" (SentencePiece: Llama 2, Phi-3, Gemma 3); other models
  // return kUnimplemented.
  static StatusOr<std::unique_ptr<Tokenizer>> Create(const GgufFile& gguf);
  static StatusOr<std::unique_ptr<Tokenizer>> Create(Vocab vocab);
  ~Tokenizer();

  // Text to ids.
  //  add_special:   prepend BOS / append EOS when the vocabulary asks for it
  //                 (tokenizer.ggml.add_bos_token / add_eos_token).
  //  parse_special: control (and unknown) token texts in `text` become their ids.
  //                 User-defined tokens are always matched, as in llama.cpp and HF.
  // Special tokens are split out first, longest text first (llama.cpp's order), dropping
  // whitespace around tokens with the lstrip/rstrip attribute (Vocab::lstrip). Bytes that
  // are not valid UTF-8 are encoded as raw bytes (llama.cpp would substitute U+FFFD in BPE).
  // SentencePiece: each text fragment at the start or after a special token gets a prefix
  // space when the vocabulary has add_space_prefix (llama.cpp's rule).
  std::vector<int32_t> Encode(std::string_view text, bool add_special, bool parse_special) const;

  // The bytes of one token. Control and unknown tokens give their text only when
  // `render_special`; user-defined tokens always give their text; byte/unused tokens and
  // out-of-range ids give "". SentencePiece byte tokens (<0xXX>) give their byte, and "▁"
  // becomes a space. A piece may be part of a UTF-8 character (see Utf8StreamDecoder for
  // streaming output).
  std::string TokenToPiece(int32_t id, bool render_special = false) const;
  // Same, without copying; empty for out-of-range ids.
  std::string_view PieceView(int32_t id, bool render_special = false) const;

  // Concatenated pieces, as llama.cpp's detokenize (remove_special = false): no clean-up of
  // spaces, except that with add_space_prefix (SentencePiece) the first token loses one
  // leading space. So Decode(Encode(s, false, false)) == s for BPE and byte-fallback SPM.
  std::string Decode(std::span<const int32_t> ids, bool render_special = false) const;

  // End of generation: eos, eot, eom and the control tokens llama.cpp treats as such
  // (<|im_end|>, <|eot_id|>, <|endoftext|>, <end_of_turn>, ...).
  bool IsEndOfGeneration(int32_t id) const;
  bool IsControl(int32_t id) const;

  int32_t bos() const { return vocab_.bos(); }
  int32_t eos() const { return vocab_.eos(); }
  int32_t eot() const { return vocab_.eot(); }
  int32_t vocab_size() const { return vocab_.size(); }
  const Vocab& vocab() const { return vocab_; }

 private:
  explicit Tokenizer(Vocab vocab);
  Status Init();
  void SplitSpecial(std::string_view text, bool parse_special,
                    std::vector<TextFragment>* fragments) const;

  Vocab vocab_;
  std::unique_ptr<TokenizerModel> model_;
  std::vector<int32_t> special_tokens_;  // control/user-defined/unknown, longest text first
  // A byte trie over the special tokens' texts, to find in one pass which of them occur in a
  // text (Gemma 3 has 6,414): node 0 is the root; special_node_[k] is the node where
  // special_tokens_[k]'s text ends.
  std::vector<int32_t> trie_root_;                    // 256 children of the root (-1: none)
  std::unordered_map<uint64_t, int32_t> trie_edges_;  // (node << 8 | byte) -> child node
  int32_t trie_nodes_ = 1;
  std::vector<int32_t> special_node_;
  std::string pieces_;                   // all pieces (specials rendered), concatenated
  std::vector<uint32_t> piece_offsets_;  // size() + 1 offsets into pieces_
  std::vector<uint8_t> is_eog_;
};

}  // namespace foundry
