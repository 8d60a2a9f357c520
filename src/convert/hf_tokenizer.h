// A Hugging Face tokenizer folder (tokenizer.json, tokenizer_config.json,
// generation_config.json) read into the vocabulary a GGUF file carries: the same fields
// Vocab::FromGguf reads back, so a compiled model tokenizes like the original.
#pragma once

#include <filesystem>
#include <string>

#include "base/status.h"
#include "tokenizer/vocab.h"

namespace foundry::convert {

struct HfTokenizer {
  VocabData vocab;            // tokenizer.ggml.*: model, pre, tokens, types, scores, merges, ids
  std::string chat_template;  // tokenizer.chat_template; "" when the folder has none
};

// Reads `dir`/tokenizer.json (required) and, when present, tokenizer_config.json and
// generation_config.json. Errors name the file and the problem (missing, not JSON, a
// tokenizer model or pre-tokenizer this engine does not run, with the supported ones listed).
StatusOr<HfTokenizer> ReadHfTokenizer(const std::filesystem::path& dir);

}  // namespace foundry::convert
