#include "tokenizer/vocab.h"

#include <algorithm>
#include <initializer_list>
#include <utility>

#include "format/gguf_file.h"
#include "tokenizer/pre_tokenizer.h"

namespace foundry {
namespace {

std::string Quote(std::string_view s) {
  std::string out = "'";
  const size_t n = std::min<size_t>(s.size(), 60);
  out.append(s.substr(0, n));
  if (n < s.size()) out += "...";
  out += "'";
  return out;
}

// Reads an optional integer key of any integer type (token ids are uint32 in practice, some
// converters write int32 with -1 for "none").
StatusOr<std::optional<int64_t>> FindInt(const GgufFile& gguf, std::string_view key) {
  const GgufValue* v = gguf.Find(key);
  if (v == nullptr) return std::optional<int64_t>();
  switch (v->type) {
    case GgufType::kUint8:
    case GgufType::kUint16:
    case GgufType::kUint32:
    case GgufType::kUint64:
      if (v->u > static_cast<uint64_t>(INT64_MAX)) return std::optional<int64_t>(INT64_MAX);
      return std::optional<int64_t>(static_cast<int64_t>(v->u));
    case GgufType::kInt8:
    case GgufType::kInt16:
    case GgufType::kInt32:
    case GgufType::kInt64:
      return std::optional<int64_t>(v->i);
    default:
      return CorruptFile("GGUF key " + std::string(key) + " should be an integer, found " +
                         std::string(GgufTypeName(v->type)));
  }
}

}  // namespace

StatusOr<Vocab> Vocab::FromGguf(const GgufFile& gguf) {
  VocabData d;
  FOUNDRY_ASSIGN_OR_RETURN(std::string_view model, gguf.GetString("tokenizer.ggml.model"));
  d.model = std::string(model);
  FOUNDRY_ASSIGN_OR_RETURN(std::optional<std::string_view> pre,
                           gguf.FindString("tokenizer.ggml.pre"));
  if (pre) d.pre = std::string(*pre);
  FOUNDRY_ASSIGN_OR_RETURN(std::optional<std::string_view> name, gguf.FindString("general.name"));
  if (name) d.name = std::string(*name);

  FOUNDRY_ASSIGN_OR_RETURN(const std::vector<std::string_view>* tokens,
                           gguf.GetStringArray("tokenizer.ggml.tokens"));
  d.tokens.assign(tokens->begin(), tokens->end());
  if (gguf.Find("tokenizer.ggml.token_type") != nullptr) {
    FOUNDRY_ASSIGN_OR_RETURN(d.token_types, gguf.GetIntArray("tokenizer.ggml.token_type"));
  }
  if (gguf.Find("tokenizer.ggml.scores") != nullptr) {
    FOUNDRY_ASSIGN_OR_RETURN(d.scores, gguf.GetFloatArray("tokenizer.ggml.scores"));
  }
  if (gguf.Find("tokenizer.ggml.merges") != nullptr) {
    FOUNDRY_ASSIGN_OR_RETURN(const std::vector<std::string_view>* merges,
                             gguf.GetStringArray("tokenizer.ggml.merges"));
    d.merges.assign(merges->begin(), merges->end());
  }

  for (const VocabIdKey& k : kVocabIdKeys) {
    FOUNDRY_ASSIGN_OR_RETURN(std::optional<int64_t> v, FindInt(gguf, k.key));
    if (v) d.*k.field = v;
  }
  // Deprecated spellings of the FIM ids.
  const std::pair<const char*, std::optional<int64_t>*> old_fim[] = {
      {"tokenizer.ggml.prefix_token_id", &d.fim_pre},
      {"tokenizer.ggml.suffix_token_id", &d.fim_suf},
      {"tokenizer.ggml.middle_token_id", &d.fim_mid},
  };
  for (const auto& [key, dst] : old_fim) {
    FOUNDRY_ASSIGN_OR_RETURN(std::optional<int64_t> v, FindInt(gguf, key));
    if (v) *dst = v;
  }
  for (const VocabFlagKey& k : kVocabFlagKeys) {
    FOUNDRY_ASSIGN_OR_RETURN(std::optional<bool> v, gguf.FindBool(k.key));
    if (v) d.*k.field = v;
  }
  return Build(std::move(d));
}

StatusOr<Vocab> Vocab::Build(VocabData data) {
  Vocab v;
  FOUNDRY_RETURN_IF_ERROR(v.Init(std::move(data)));
  return v;
}

uint32_t Vocab::HashText(std::string_view text) {
  // FNV-1a, 64-bit, folded.
  uint64_t h = 14695981039346656037ull;
  for (char c : text) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return static_cast<uint32_t>(h ^ (h >> 32));
}

int32_t Vocab::Find(std::string_view text) const {
  if (index_.empty()) return kNoToken;
  const uint32_t h = HashText(text);
  const size_t mask = index_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = index_[i];
    if (s.id == kNoToken) return kNoToken;
    if (s.hash == h && tokens_[s.id] == text) return s.id;
  }
}

int32_t Vocab::MergeRank(std::string_view left, std::string_view right) const {
  const int32_t l = Find(left);
  const int32_t r = Find(right);
  if (l < 0 || r < 0) return -1;
  auto it = merge_rank_.find((uint64_t{static_cast<uint32_t>(l)} << 32) | static_cast<uint32_t>(r));
  return it == merge_rank_.end() ? -1 : it->second;
}

Status Vocab::Init(VocabData d) {
  model_ = std::move(d.model);
  pre_ = std::move(d.pre);
  const bool is_bpe = model_ == "gpt2";
  const bool is_spm = model_ == "llama";

  // Token table.
  const size_t n = d.tokens.size();
  if (n == 0) return CorruptFile("tokenizer.ggml.tokens is empty");
  if (n > static_cast<size_t>(INT32_MAX)) return CorruptFile("tokenizer.ggml.tokens is too large");
  if (!d.token_types.empty() && d.token_types.size() != n) {
    return CorruptFile("tokenizer.ggml.token_type has " + std::to_string(d.token_types.size()) +
                       " entries but there are " + std::to_string(n) + " tokens");
  }
  if (!d.scores.empty() && d.scores.size() != n) {
    return CorruptFile("tokenizer.ggml.scores has " + std::to_string(d.scores.size()) +
                       " entries but there are " + std::to_string(n) + " tokens");
  }
  tokens_ = std::move(d.tokens);
  scores_ = std::move(d.scores);
  types_.assign(n, TokenType::kNormal);
  for (size_t i = 0; i < d.token_types.size(); ++i) {
    const int64_t t = d.token_types[i];
    if (t < 0 || t > static_cast<int64_t>(TokenType::kByte)) {
      return CorruptFile("token " + std::to_string(i) + " " + Quote(tokens_[i]) +
                         " has unknown token type " + std::to_string(t));
    }
    types_[i] = static_cast<TokenType>(t);
  }
  for (size_t i = 0; i < n; ++i) {
    // llama.cpp renames empty tokens so that every text is distinct and non-empty.
    if (tokens_[i].empty()) tokens_[i] = "[EMPTY_" + std::to_string(i) + "]";
  }
  size_t slots = 16;
  while (slots < 2 * n) slots *= 2;
  index_.assign(slots, Slot{0, kNoToken});
  std::vector<uint32_t> hashes(n);
  for (size_t id = 0; id < n; ++id) hashes[id] = HashText(tokens_[id]);
  constexpr size_t kAhead = 16;  // the table is larger than cache: prefetch the slots
  for (size_t id = 0; id < n; ++id) {
    if (id + kAhead < n) __builtin_prefetch(&index_[hashes[id + kAhead] & (slots - 1)]);
    const uint32_t h = hashes[id];
    for (size_t i = h & (slots - 1);; i = (i + 1) & (slots - 1)) {
      Slot& s = index_[i];
      if (s.id == kNoToken) {
        s = {h, static_cast<int32_t>(id)};
        break;
      }
      if (s.hash == h && tokens_[s.id] == tokens_[id]) break;  // duplicate text: first wins
    }
  }

  // Merges.
  if (is_bpe && d.merges.empty()) {
    return CorruptFile("byte-level BPE vocabulary has no tokenizer.ggml.merges");
  }
  merges_.reserve(d.merges.size());
  merge_rank_.reserve(d.merges.size());
  for (size_t i = 0; i < d.merges.size(); ++i) {
    const std::string& m = d.merges[i];
    const size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
    if (sp == std::string::npos || sp + 1 >= m.size()) {
      return CorruptFile("merge " + std::to_string(i) + " " + Quote(m) +
                         " is not two tokens separated by a space");
    }
    const std::string_view left(m.data(), sp);
    const std::string_view right(m.data() + sp + 1, m.size() - sp - 1);
    const int32_t l = Find(left);
    const int32_t r = Find(right);
    if (l < 0 || r < 0) {
      return CorruptFile("merge " + std::to_string(i) + " " + Quote(m) + " references " +
                         Quote(l < 0 ? left : right) + ", which is not in the vocabulary");
    }
    const int32_t merged = Find(std::string(left) + std::string(right));
    if (merged < 0) {
      return CorruptFile("merge " + std::to_string(i) + " " + Quote(m) +
                         " produces a token that is not in the vocabulary");
    }
    const uint64_t key = (uint64_t{static_cast<uint32_t>(l)} << 32) | static_cast<uint32_t>(r);
    if (merge_rank_.emplace(key, static_cast<int32_t>(merges_.size())).second) {
      merges_.push_back({l, r, merged});
    }
  }

  // Tokenizer defaults (llama.cpp), then the file's values.
  if (is_bpe) {
    const PreTokenizerConfig pc = LookupPreTokenizer(pre_);
    ignore_merges_ = pc.ignore_merges;
    clean_spaces_ = pc.clean_spaces;
    add_bos_ = pc.add_bos;
    bos_ = eos_ = 11;  // llama.cpp's BPE defaults (Falcon)
  } else if (is_spm) {
    add_bos_ = true;
    add_space_prefix_ = true;
    bos_ = 1;
    eos_ = 2;
    unk_ = 0;
  }
  if (bos_ >= static_cast<int64_t>(n)) bos_ = kNoToken;
  if (eos_ >= static_cast<int64_t>(n)) eos_ = kNoToken;
  if (unk_ >= static_cast<int64_t>(n)) unk_ = kNoToken;
  if (d.add_bos) add_bos_ = *d.add_bos;
  if (d.add_eos) add_eos_ = *d.add_eos;
  if (d.add_space_prefix) add_space_prefix_ = *d.add_space_prefix;

  // Special ids. bos/eos/unk must be valid when given; the others are dropped when out of
  // range (llama.cpp warns and ignores them; real files carry e.g. pad = vocab size).
  struct Special {
    const char* name;
    const std::optional<int64_t>& value;
    int32_t* dst;
    bool required_valid;
  };
  const Special specials[] = {
      {"bos_token_id", d.bos, &bos_, true},
      {"eos_token_id", d.eos, &eos_, true},
      {"unknown_token_id", d.unk, &unk_, true},
      {"eot_token_id", d.eot, &eot_, false},
      {"eom_token_id", d.eom, &eom_, false},
      {"seperator_token_id", d.sep, &sep_, false},
      {"padding_token_id", d.pad, &pad_, false},
      {"fim_pre_token_id", d.fim_pre, &fim_pre_, false},
      {"fim_suf_token_id", d.fim_suf, &fim_suf_, false},
      {"fim_mid_token_id", d.fim_mid, &fim_mid_, false},
      {"fim_pad_token_id", d.fim_pad, &fim_pad_, false},
      {"fim_rep_token_id", d.fim_rep, &fim_rep_, false},
      {"fim_sep_token_id", d.fim_sep, &fim_sep_, false},
  };
  for (const Special& s : specials) {
    if (!s.value) continue;
    const int64_t id = *s.value;
    if (id < 0) {
      *s.dst = kNoToken;  // some converters write -1 for "none"
    } else if (id < static_cast<int64_t>(n)) {
      *s.dst = static_cast<int32_t>(id);
    } else if (s.required_valid) {
      return CorruptFile(std::string("tokenizer.ggml.") + s.name + " = " + std::to_string(id) +
                         " is out of range for a vocabulary of " + std::to_string(n) + " tokens");
    }
  }
  if (add_bos_ && bos_ == kNoToken) {
    return CorruptFile("tokenizer.ggml.add_bos_token is set but the vocabulary has no BOS token");
  }
  if (add_eos_ && eos_ == kNoToken) {
    return CorruptFile("tokenizer.ggml.add_eos_token is set but the vocabulary has no EOS token");
  }

  // Auto-detect special tokens by their text, as llama.cpp does; tokens found this way (and
  // every end-of-generation token) become control tokens.
  const auto detect = [&](int32_t* dst, std::initializer_list<std::string_view> texts) {
    if (*dst != kNoToken) return;
    for (std::string_view t : texts) {
      const int32_t id = Find(t);
      if (id >= 0 && (*dst == kNoToken || id < *dst)) *dst = id;
    }
    if (*dst != kNoToken) types_[*dst] = TokenType::kControl;
  };
  detect(&eot_, {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                 "<|end_of_text|>", "<EOT>", "_<EOT>",
                 "<\xef\xbd\x9c"
                 "end\xe2\x96\x81of\xe2\x96\x81"
                 "sentence\xef\xbd\x9c>",
                 "<end_of_utterance>"});
  detect(&eom_, {"<|eom_id|>"});
  detect(&fim_pre_, {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
                     "<\xef\xbd\x9c"
                     "fim\xe2\x96\x81"
                     "begin\xef\xbd\x9c>",
                     "<PRE>", "\xe2\x96\x81<PRE>", "<|code_prefix|>"});
  detect(&fim_suf_, {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
                     "<\xef\xbd\x9c"
                     "fim\xe2\x96\x81"
                     "hole\xef\xbd\x9c>",
                     "<SUF>", "\xe2\x96\x81<SUF>", "<|code_suffix|>"});
  detect(&fim_mid_, {"<|fim_middle|>", "<fim-middle>", "<fim_middle>",
                     "<\xef\xbd\x9c"
                     "fim\xe2\x96\x81"
                     "end\xef\xbd\x9c>",
                     "<MID>", "\xe2\x96\x81<MID>", "<|code_middle|>"});
  detect(&fim_pad_, {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>"});
  detect(&fim_rep_, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"});
  detect(&fim_sep_, {"<|file_sep|>"});

  std::vector<int32_t> eog;
  for (int32_t id : {fim_pad_, fim_rep_, fim_sep_}) {
    if (id != kNoToken) eog.push_back(id);
  }
  for (std::string_view t : {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
                             "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>",
                             "_<EOT>", "<|end_of_text|>", "<end_of_utterance>"}) {
    const int32_t id = Find(t);
    if (id >= 0) {
      eog.push_back(id);
      types_[id] = TokenType::kControl;
    }
  }
  for (int32_t id : {eos_, eot_, eom_}) {
    if (id != kNoToken) eog.push_back(id);
  }
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  // o200k_harmony (gpt-oss): "<|end|>" ends a message, not the generation.
  const int32_t ret = Find("<|return|>"), call = Find("<|call|>"), end = Find("<|end|>");
  const auto in_eog = [&](int32_t id) {
    return id >= 0 && std::binary_search(eog.begin(), eog.end(), id);
  };
  if (in_eog(ret) && in_eog(call) && in_eog(end)) {
    eog.erase(std::find(eog.begin(), eog.end(), end));
    types_[end] = TokenType::kUserDefined;
  }
  for (std::string_view t : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}) {
    const int32_t id = Find(t);
    if (id >= 0) types_[id] = TokenType::kUserDefined;  // always rendered (llama.cpp)
  }
  eog_ids_ = std::move(eog);

  // Per-token attributes llama.cpp sets by model name (after the type fixes above).
  strip_.assign(n, 0);
  std::string lower_name = d.name;
  for (char& c : lower_name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (lower_name.find("phi-3") != std::string::npos ||
      lower_name.find("phi3") != std::string::npos) {
    for (size_t i = 0; i < n; ++i) {
      const TokenType t = types_[i];
      if (t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown) {
        strip_[i] |= kRstrip;
      }
    }
    const auto set_rstrip = [&](std::string_view text, bool on) {
      const int32_t id = Find(text);
      if (id < 0) return;
      strip_[id] = on ? (strip_[id] | kRstrip) : (strip_[id] & ~kRstrip);
    };
    set_rstrip("</s>", true);
    for (std::string_view t : {"<unk>", "<s>", "<|endoftext|>"}) set_rstrip(t, false);
  }
  return OkStatus();
}

}  // namespace foundry
