// Pre-tokenizers for byte-level BPE: split text into words before merging, emulating the
// regex lists llama.cpp (and the Hugging Face tokenizer.json files) use for each
// `tokenizer.ggml.pre` value. The regexes are implemented as hand-written matchers.
#pragma once

#include <string_view>
#include <vector>

namespace foundry {

enum class PreTokenizerKind {
  kDefault,        // llama.cpp's fallback list
  kGpt2,           // gpt-2, mpt, olmo, jais, phi-2, ...
  kStarcoder,      // starcoder, refact, smollm, command-r, codeshell, exaone, minerva-7b
  kLlama3,         // llama3, llama-bpe, llama-v3, falcon3, pixtral, dbrx, smaug-bpe, ...
  kQwen2,          // qwen2, deepseek-r1-qwen, stablelm2, megrez
  kDeepseekLlm,    // deepseek-llm
  kDeepseekCoder,  // deepseek-coder
  kFalcon,         // falcon
  kGpt4o,          // gpt-4o, llama4
};

struct PreTokenizerConfig {
  PreTokenizerKind kind = PreTokenizerKind::kDefault;
  bool known = false;          // false: unrecognized name, llama.cpp falls back to kDefault
  bool ignore_merges = false;  // a word that is itself a token skips merging
  bool clean_spaces = true;    // llama.cpp's clean_up_tokenization_spaces default for BPE
  bool add_bos = false;        // default for tokenizer.ggml.add_bos_token when absent
};

// Maps a `tokenizer.ggml.pre` value (empty = absent) to its pre-tokenizer and settings.
PreTokenizerConfig LookupPreTokenizer(std::string_view name);

class PreTokenizer {
 public:
  explicit PreTokenizer(PreTokenizerKind kind) : kind_(kind) {}
  PreTokenizerKind kind() const { return kind_; }

  // Appends the words of `text` to `words`, in order; they cover `text` exactly and point
  // into it. Bytes that are not valid UTF-8 are kept, each as a character of class "other".
  void Split(std::string_view text, std::vector<std::string_view>* words) const;

 private:
  PreTokenizerKind kind_;
};

}  // namespace foundry
