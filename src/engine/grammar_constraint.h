// Constrained decoding in the per-token step: SequenceGenerator's use of a GrammarMatcher
// (src/grammar/grammar_matcher.h) for SamplingParams::grammar / json_schema.
//
// Sample draws from the unconstrained logits first and keeps the token when the grammar
// allows it; only a rejected token costs a full mask over the vocabulary, after which the draw
// is repeated over the allowed tokens. For greedy decoding this is exactly the argmax over the
// allowed tokens; for a plain draw the accepted token's probability is the constrained one
// (p(t) + p(rejected) * p(t) / p(allowed) = p(t) / p(allowed)), as in llama.cpp's sampler.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "foundry/engine.h"
#include "grammar/grammar_matcher.h"
#include "sampling/sampler.h"

namespace foundry {

class GrammarConstraint {
 public:
  // Null when params ask for no constraint; InvalidArgument for a bad grammar or schema (the
  // message names the problem) or when both are given.
  static StatusOr<std::unique_ptr<GrammarConstraint>> Create(const LanguageModel& lm,
                                                             const SamplingParams& params);

  // The next token from n_vocab logits; -1 when the grammar allows no token at all.
  int32_t Sample(Sampler& sampler, const float* logits);
  // Advances the grammar over a sampled token (a no-op for end-of-generation tokens).
  void Accept(int32_t token);
  // Nothing but the end can follow: generation is complete.
  bool MustEnd() const { return active_ && matcher_.MustEnd(); }

  // A lazy grammar (SamplingParams::grammar_trigger) applies only once the output holds the
  // trigger; until then tokens are sampled freely and their text passed to Observe.
  bool active() const { return active_; }
  void Observe(std::string_view text);

  // Whether the last Sample computed a mask, and the logits it drew from then (disallowed
  // tokens at -infinity), e.g. for log-probabilities of the constrained distribution.
  bool masked() const { return masked_; }
  const std::vector<float>& masked_logits() const { return masked_logits_; }
  // Totals over the generation: time in the grammar (checks, masks, accepts) and full masks.
  double seconds() const { return seconds_; }
  int64_t masks() const { return masks_; }

 private:
  explicit GrammarConstraint(GrammarMatcher matcher, int64_t n_vocab, std::string trigger)
      : matcher_(std::move(matcher)),
        n_vocab_(n_vocab),
        trigger_(std::move(trigger)),
        active_(trigger_.empty()) {}

  GrammarMatcher matcher_;
  int64_t n_vocab_;
  std::string trigger_;  // lazy grammars: the text that makes them apply
  bool active_;
  bool given_up_ = false;  // the output after the trigger did not match: free to the end
  std::string observed_;   // lazy, inactive: the tail of the output that may start the trigger
  bool masked_ = false;
  double seconds_ = 0;
  int64_t masks_ = 0;
  std::vector<uint8_t> allowed_;
  std::vector<float> masked_logits_;
};

}  // namespace foundry
