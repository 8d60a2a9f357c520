// What the layers of this repository (runtime, server, CLI, tests) reach behind the public
// API: the model, tokenizer and file a LanguageModel holds. Programs that use the engine as a
// library see only include/foundry/.
#pragma once

#include <memory>
#include <mutex>

#include "format/gguf_file.h"
#include "foundry/engine.h"
#include "grammar/token_table.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace foundry {
namespace internal {

struct LanguageModelParts {
  std::shared_ptr<const GgufFile> gguf;
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
  // The vocabulary as constrained decoding reads it, built on first use (TokenTableOf).
  mutable std::once_flag token_table_once;
  mutable std::shared_ptr<const TokenTable> token_table;
};

}  // namespace internal

inline const Model& ModelOf(const LanguageModel& lm) { return *internal::PartsOf(lm).model; }
inline const Tokenizer& TokenizerOf(const LanguageModel& lm) {
  return *internal::PartsOf(lm).tokenizer;
}
// Built once per model, on first use, from any thread (src/engine/token_table_of.cc).
std::shared_ptr<const TokenTable> TokenTableOf(const LanguageModel& lm);
inline const GgufFile& GgufOf(const LanguageModel& lm) { return *internal::PartsOf(lm).gguf; }

}  // namespace foundry
