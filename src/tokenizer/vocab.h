// Vocab: the immutable token table of a model (texts, types, scores, BPE merges and special
// token ids), read from GGUF `tokenizer.ggml.*` metadata and validated once at load.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace foundry {

class GgufFile;

// Values of `tokenizer.ggml.token_type` (llama.cpp's llama_token_type).
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

inline constexpr int32_t kNoToken = -1;

// Raw vocabulary fields as they appear in the file, before validation. Vocab::FromGguf fills
// one from GGUF metadata; tests may fill one by hand and call Vocab::Build.
struct VocabData {
  std::string model;  // tokenizer.ggml.model: "gpt2" (byte-level BPE), "llama" (SentencePiece)
  std::string pre;    // tokenizer.ggml.pre (empty when absent)
  std::string name;   // general.name (empty when absent): llama.cpp keys token attributes on it
  std::vector<std::string> tokens;
  std::vector<int64_t> token_types;  // empty: all normal
  std::vector<float> scores;         // empty: none
  std::vector<std::string> merges;   // "left right", BPE only
  // Special token ids as stored; nullopt when the key is absent.
  std::optional<int64_t> bos, eos, eot, eom, unk, sep, pad;
  std::optional<int64_t> fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep;
  std::optional<bool> add_bos, add_eos, add_space_prefix;
};

// The GGUF keys of the special token ids and flags, with the VocabData field each fills: one
// list for the reader (Vocab::FromGguf) and the writer (convert/vocab_writer.cc).
struct VocabIdKey {
  const char* key;
  std::optional<int64_t> VocabData::*field;
};
inline constexpr VocabIdKey kVocabIdKeys[] = {
    {"tokenizer.ggml.bos_token_id", &VocabData::bos},
    {"tokenizer.ggml.eos_token_id", &VocabData::eos},
    {"tokenizer.ggml.eot_token_id", &VocabData::eot},
    {"tokenizer.ggml.eom_token_id", &VocabData::eom},
    {"tokenizer.ggml.unknown_token_id", &VocabData::unk},
    {"tokenizer.ggml.seperator_token_id", &VocabData::sep},  // sic: the GGUF key is misspelled
    {"tokenizer.ggml.padding_token_id", &VocabData::pad},
    {"tokenizer.ggml.fim_pre_token_id", &VocabData::fim_pre},
    {"tokenizer.ggml.fim_suf_token_id", &VocabData::fim_suf},
    {"tokenizer.ggml.fim_mid_token_id", &VocabData::fim_mid},
    {"tokenizer.ggml.fim_pad_token_id", &VocabData::fim_pad},
    {"tokenizer.ggml.fim_rep_token_id", &VocabData::fim_rep},
    {"tokenizer.ggml.fim_sep_token_id", &VocabData::fim_sep},
};
struct VocabFlagKey {
  const char* key;
  std::optional<bool> VocabData::*field;
};
inline constexpr VocabFlagKey kVocabFlagKeys[] = {
    {"tokenizer.ggml.add_bos_token", &VocabData::add_bos},
    {"tokenizer.ggml.add_eos_token", &VocabData::add_eos},
    {"tokenizer.ggml.add_space_prefix", &VocabData::add_space_prefix},
};

class Vocab {
 public:
  // Reads and validates tokenizer.ggml.* metadata.
  static StatusOr<Vocab> FromGguf(const GgufFile& gguf);
  // Validates `data` and builds the lookup tables. Errors (kCorruptFile) name the problem:
  // token counts that disagree, unknown token types, bos/eos out of range, malformed merges or
  // merges that reference text not in the vocabulary.
  static StatusOr<Vocab> Build(VocabData data);

  // Movable, not copyable: the lookup tables point into the token storage.
  Vocab(Vocab&&) = default;
  Vocab& operator=(Vocab&&) = default;
  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;

  const std::string& model() const { return model_; }
  const std::string& pre() const { return pre_; }
  int32_t size() const { return static_cast<int32_t>(tokens_.size()); }
  bool IsValidId(int64_t id) const { return id >= 0 && id < size(); }

  // Preconditions: IsValidId(id).
  const std::string& TokenText(int32_t id) const { return tokens_[id]; }
  TokenType Type(int32_t id) const { return types_[id]; }
  float Score(int32_t id) const { return scores_.empty() ? 0.0f : scores_[id]; }
  bool has_scores() const { return !scores_.empty(); }
  bool IsControl(int32_t id) const { return types_[id] == TokenType::kControl; }
  // llama.cpp's LSTRIP / RSTRIP token attributes: when this special token is split out of the
  // text, whitespace before (lstrip) / after (rstrip) it is dropped. Set by model name as
  // llama.cpp does (Phi-3: rstrip on the special tokens except <unk>, <s>, <|endoftext|>).
  bool lstrip(int32_t id) const { return (strip_[id] & kLstrip) != 0; }
  bool rstrip(int32_t id) const { return (strip_[id] & kRstrip) != 0; }

  // kNoToken when the text is not a token. Duplicate texts resolve to the lowest id.
  int32_t Find(std::string_view text) const;

  // BPE merges: rank (= position in the merges list) of the pair, or -1.
  int32_t MergeRank(std::string_view left, std::string_view right) const;
  // Merges as token ids, in rank order: left id, right id, merged id.
  struct Merge {
    int32_t left;
    int32_t right;
    int32_t merged;
  };
  const std::vector<Merge>& merges() const { return merges_; }

  // Special tokens (kNoToken when absent).
  int32_t bos() const { return bos_; }
  int32_t eos() const { return eos_; }
  int32_t eot() const { return eot_; }
  int32_t eom() const { return eom_; }
  int32_t unk() const { return unk_; }
  int32_t sep() const { return sep_; }
  int32_t pad() const { return pad_; }
  int32_t fim_pre() const { return fim_pre_; }
  int32_t fim_suf() const { return fim_suf_; }
  int32_t fim_mid() const { return fim_mid_; }
  int32_t fim_pad() const { return fim_pad_; }
  int32_t fim_rep() const { return fim_rep_; }
  int32_t fim_sep() const { return fim_sep_; }
  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  bool add_space_prefix() const { return add_space_prefix_; }
  // Pre-tokenizer settings implied by `pre` (llama.cpp semantics).
  bool ignore_merges() const { return ignore_merges_; }
  bool clean_spaces() const { return clean_spaces_; }

  // End-of-generation ids, ascending (llama.cpp's special_eog_ids rules).
  const std::vector<int32_t>& eog_ids() const { return eog_ids_; }

 private:
  Vocab() = default;
  Status Init(VocabData data);

  std::string model_;
  std::string pre_;
  std::vector<std::string> tokens_;
  std::vector<TokenType> types_;
  static constexpr uint8_t kLstrip = 1, kRstrip = 2;
  std::vector<uint8_t> strip_;  // kLstrip | kRstrip per token
  std::vector<float> scores_;
  // Text -> id: open addressing with linear probing over a power-of-two table (a node-based
  // map costs ~10x more to build for 262k-token vocabularies).
  struct Slot {
    uint32_t hash;
    int32_t id;  // kNoToken: empty
  };
  std::vector<Slot> index_;
  static uint32_t HashText(std::string_view text);
  std::vector<Merge> merges_;
  std::unordered_map<uint64_t, int32_t> merge_rank_;  // (left id << 32 | right id) -> rank

  int32_t bos_ = kNoToken, eos_ = kNoToken, eot_ = kNoToken, eom_ = kNoToken;
  int32_t unk_ = kNoToken, sep_ = kNoToken, pad_ = kNoToken;
  int32_t fim_pre_ = kNoToken, fim_suf_ = kNoToken, fim_mid_ = kNoToken;
  int32_t fim_pad_ = kNoToken, fim_rep_ = kNoToken, fim_sep_ = kNoToken;
  bool add_bos_ = false, add_eos_ = false, add_space_prefix_ = false;
  bool ignore_merges_ = false, clean_spaces_ = false;
  std::vector<int32_t> eog_ids_;
};

}  // namespace foundry
