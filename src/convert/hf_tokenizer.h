// A Hugging Face tokenizer folder (tokenizer.json, tokenizer_config.json,
// generation_config.json) read into the vocabulary a GGUF file carries: the same fields
// Vocab::FromGguf reads back, so a compiled model tokenizes like the original.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "base/status.h"
#include "tokenizer/vocab.h"

namespace foundry::convert {

struct HfTokenizer {
  VocabData vocab;            // tokenizer.ggml.*: model, pre, tokens, types, scores, merges, ids
  std::string chat_template;  // tokenizer.chat_template; "" when the folder has none
};

// Reads `dir`/tokenizer.json (required unless a Gemma 3 or Phi-3 folder has tokenizer.model, the
// SentencePiece model, then read with added_tokens.json; a Phi-3 folder whose
// tokenizer_config.json names GPT2Tokenizer, i.e. Phi-4-mini, is byte-level BPE) and, when present,
// tokenizer_config.json, config.json (vocab_size, *_token_id), chat_template.jinja /
// chat_template.json and merges.txt: the files llama.cpp's convert_hf_to_gguf.py reads for the
// vocabulary (generation_config.json is not among them: llama.cpp takes no token ids from it).
// Errors name the file and the problem (missing, not JSON, a tokenizer model or pre-tokenizer this
// engine does not run, with the supported ones listed).
StatusOr<HfTokenizer> ReadHfTokenizer(const std::filesystem::path& dir);

// The same from file contents already in memory (tests, the fuzz target): nullopt = absent.
struct HfTokenizerFiles {
  std::string tokenizer_json;
  std::optional<std::string> tokenizer_config_json;
  std::optional<std::string> config_json;
  std::optional<std::string> chat_template_jinja;
  std::optional<std::string> chat_template_json;
  std::optional<std::string> merges_txt;
  // tokenizer.model's bytes (SentencePiece); with it, tokenizer_json may be "" (absent).
  std::optional<std::string> tokenizer_model;
  std::optional<std::string> added_tokens_json;  // read with a tokenizer.model only
};
StatusOr<HfTokenizer> ParseHfTokenizer(const HfTokenizerFiles& files);

}  // namespace foundry::convert
