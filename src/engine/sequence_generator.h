// One sequence's generation, token by token: the step every generation loop shares (Session's
// and the runtime Scheduler's). Given the logits row of the sequence's last token, it samples
// the next token, ends at an end-of-generation token, records the token for the penalties,
// decodes its text into whole UTF-8 characters, holds back text that may become a stop string
// and cuts the text at one, and applies the token and context limits.
//
// The caller owns the forward pass (a Context) and feeds TokenStep::token back into it.
// Per-token features belong here: constraining the candidates (grammars) before Sample,
// reporting log-probabilities next to the token in TokenStep.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/finish_reason.h"
#include "engine/grammar_constraint.h"
#include "engine/stop_matcher.h"
#include "engine/token_logprobs.h"
#include "foundry/engine.h"
#include "sampling/sampler.h"
#include "tokenizer/utf8_stream.h"

namespace foundry {

class Tokenizer;

struct TokenStep {
  // The sampled token, to be fed to the next forward pass unless finished; -1 when the model
  // sampled an end-of-generation token (which is neither emitted nor counted).
  int32_t token = -1;
  std::string text;  // text now safe to stream: whole characters, stop strings held back
  bool finished = false;
  FinishReason reason = FinishReason::kStop;  // when finished: kStop or kLength
  // With EnableLogprobs, for an emitted token: its log-probability and the top alternatives.
  std::optional<TokenLogprobs> logprobs;
};

class SequenceGenerator {
 public:
  // max_tokens < 0: no limit but the context. Empty stop strings are ignored. Fails with
  // InvalidArgument for sampling parameters out of range or a bad grammar / JSON schema
  // (params.grammar, params.json_schema). `lm` must outlive the generator.
  static StatusOr<SequenceGenerator> Create(const LanguageModel& lm, const SamplingParams& params,
                                            int64_t max_tokens, std::vector<std::string> stop = {});

  // Reports TokenStep::logprobs from now on, with top_n (0-20) alternatives per token.
  void EnableLogprobs(int top_n) { top_logprobs_ = top_n; }
  // Streams the text of control tokens too (tool-call markup such as <|python_tag|>).
  void RenderSpecialTokens() { render_special_ = true; }

  // Records the prompt in the penalty history, as llama.cpp does.
  void AcceptPrompt(const std::vector<int32_t>& prompt);
  // True when the token limit allows no (further) token.
  bool LimitReached() const { return max_tokens_ >= 0 && generated_ >= max_tokens_; }

  // One step from the n_vocab logits of the sequence's last token. context_full: the sequence's
  // cache has no room for the sampled token, so generation ends with it (kLength).
  TokenStep Next(const float* logits, bool context_full);

  // End of generation: the bytes of an unfinished character (as U+FFFD) and the text held back
  // for stop strings. Sets *stopped when generation ended at a stop string: one these complete
  // (the text then ends right before it) or one a step already cut (then nothing is left).
  std::string Flush(bool* stopped);

  int64_t generated() const { return generated_; }  // tokens sampled and emitted
  const Sampler& sampler() const { return sampler_; }
  const GrammarConstraint* grammar() const { return grammar_.get(); }  // null: unconstrained

 private:
  SequenceGenerator(const Tokenizer& tok, Sampler sampler, int64_t max_tokens,
                    std::vector<std::string> stop);
  int32_t SampleNext(const float* logits);

  const Tokenizer* tok_;
  Sampler sampler_;
  std::unique_ptr<GrammarConstraint> grammar_;  // null: unconstrained
  StopMatcher stops_;
  Utf8StreamDecoder decoder_;
  int64_t max_tokens_;
  int64_t generated_ = 0;
  bool hit_stop_ = false;
  int64_t n_vocab_ = 0;    // logits per step
  int top_logprobs_ = -1;  // < 0: no logprobs
  bool render_special_ = false;
};

}  // namespace foundry
