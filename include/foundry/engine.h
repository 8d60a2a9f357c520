// The engine's public C++ API: load a GGUF model, tokenize, evaluate, generate.
// No JSON, no HTTP, no files other than the model. A 30-line program can chat with it
// (tests/unit/engine_api_test.cc is one). Only foundry/ headers are included and no internal
// type is named: the layers of this repository that need the model, tokenizer or file behind a
// LanguageModel reach them through src/engine/internal.h.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "foundry/sampling_params.h"
#include "foundry/status.h"

namespace foundry {

class LanguageModel;
namespace internal {
struct LanguageModelParts;  // src/engine/internal.h
const LanguageModelParts& PartsOf(const LanguageModel& lm);
}  // namespace internal

// How to load a model; filled at the edge (CLI flags/environment, service start-up).
struct LoadOptions {
  std::string isa;           // "": the fastest verified ISA of this CPU; or scalar, avx2, avx512
  bool map_weights = false;  // mmap the file instead of copying it into huge pages
  // Rewrite the matrices the kernels have an interleaved layout for (Q4_0, Q5_0, Q8_0, Q4_K and
  // Q5_K on AVX2) at load; false keeps the file's layout (slower), where Q5_0 and Q8_0 matrices,
  // which llama.cpp does not repack, sum exactly as llama.cpp's do.
  bool repack_weights = true;
};

struct EngineOptions {
  int n_threads = 0;      // 0: one per available core
  int64_t n_ctx = 0;      // 0: the model's training context, capped as kv_budget_bytes says
  // With n_ctx 0: the most memory the KV cache may take; the context is the training one or
  // less, so that the cache fits (0: the training context capped at 4096 positions).
  uint64_t kv_budget_bytes = 0;
  int64_t n_batch = 512;  // prompt tokens per forward pass
};

struct GenerationStats {
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  double prompt_seconds = 0;
  double generate_seconds = 0;
  bool stopped_by_model = false;  // an end-of-generation token, rather than the token limit
  // Constrained decoding (SamplingParams::grammar / json_schema): time spent in the grammar
  // (part of generate_seconds) and how many steps needed a full vocabulary mask.
  double grammar_seconds = 0;
  int64_t grammar_masks = 0;
};

// One message of a conversation.
struct ChatTurn {
  std::string role;  // system, user, assistant
  std::string content;
};

// A loaded model with its tokenizer. Immutable; share it between sessions.
class LanguageModel {
 public:
  // Weights are read into huge pages when the file takes at most a quarter of the machine's
  // memory, and mapped otherwise or when options.map_weights asks for the map. An ISA this CPU
  // lacks, or an unknown name, loads with the default ISA and says so on stderr.
  static StatusOr<std::shared_ptr<LanguageModel>> Load(const std::string& path,
                                                       const LoadOptions& options = {});
  ~LanguageModel();

  int64_t n_vocab() const;
  int64_t n_ctx_train() const;
  int64_t n_embd() const;        // floats in an embedding (Session::Embed)
  std::string_view isa() const;  // the ISA whose kernels run the model: scalar, avx2 or avx512

  std::vector<int32_t> Tokenize(std::string_view text, bool add_special, bool parse_special) const;
  // The prompt text for a conversation in the model's own chat format: its
  // `tokenizer.chat_template` rendered with add_generation_prompt, bos_token and eos_token;
  // without a template (or with one we cannot parse) the family's format, recognized by its
  // turn tokens (Gemma, Llama 3, Phi-3; otherwise ChatML). A template that refuses the messages
  // (raise_exception, e.g. roles not alternating) is InvalidArgument with its message.
  StatusOr<std::string> FormatChat(const std::vector<ChatTurn>& messages) const;
  // Token ids of a formatted chat prompt: special tokens parsed, the vocabulary's BOS rule
  // applied, and one BOS even when both the template and the vocabulary add one.
  std::vector<int32_t> TokenizeChat(const std::string& text) const;

 private:
  friend const internal::LanguageModelParts& internal::PartsOf(const LanguageModel& lm);
  LanguageModel();
  std::unique_ptr<internal::LanguageModelParts> parts_;
};

// One sequence being evaluated: its KV cache, scratch and threads (a one-sequence Context,
// src/engine/context.h).
class Session {
 public:
  static StatusOr<std::unique_ptr<Session>> Create(std::shared_ptr<const LanguageModel> lm,
                                                   const EngineOptions& options);
  ~Session();

  int64_t n_ctx() const;
  int64_t position() const;  // tokens evaluated so far
  void Reset();              // forget the sequence
  void Truncate(int64_t keep);  // forget positions >= keep (a prefix stays in the KV cache)

  // Appends tokens to the sequence. With all_logits, `logits` receives n_vocab floats per
  // token; otherwise only the last token's. Fails with OutOfRange past the context.
  Status Evaluate(const std::vector<int32_t>& tokens, bool all_logits, std::vector<float>* logits);

  // A sentence embedding of `tokens` alone: the mean over its tokens of the final hidden state
  // after the output norm (what llama.cpp returns with mean pooling), scaled to unit length;
  // n_embd floats. Forgets the sequence before and after. Fails with InvalidArgument when
  // empty and OutOfRange past the context.
  StatusOr<std::vector<float>> Embed(const std::vector<int32_t>& tokens);
  // The same for text, tokenized as a completion prompt (the vocabulary's BOS rule, special
  // tokens as plain text).
  StatusOr<std::vector<float>> Embed(std::string_view text);

  // Evaluates the prompt, then samples up to max_tokens tokens, stopping early at an
  // end-of-generation token (not passed to on_token). on_token gets each token and the text
  // it completes (whole UTF-8 characters only; trailing bytes of an unfinished character come
  // last with token -1); returning false stops generation.
  StatusOr<GenerationStats> Generate(
      const std::vector<int32_t>& prompt, const SamplingParams& params, int64_t max_tokens,
      const std::function<bool(int32_t token, std::string_view text)>& on_token);

 private:
  struct State;
  explicit Session(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace foundry
