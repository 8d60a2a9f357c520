#include "engine/sequence_generator.h"

#include "engine/internal.h"

namespace foundry {

SequenceGenerator::SequenceGenerator(const Tokenizer& tok, Sampler sampler, int64_t max_tokens,
                                     std::vector<std::string> stop)
    : tok_(&tok), sampler_(std::move(sampler)), stops_(std::move(stop)), max_tokens_(max_tokens) {}

StatusOr<SequenceGenerator> SequenceGenerator::Create(const LanguageModel& lm,
                                                      const SamplingParams& params,
                                                      int64_t max_tokens,
                                                      std::vector<std::string> stop) {
  FOUNDRY_ASSIGN_OR_RETURN(Sampler sampler,
                           Sampler::Create(params, static_cast<int32_t>(lm.n_vocab())));
  FOUNDRY_ASSIGN_OR_RETURN(std::unique_ptr<GrammarConstraint> grammar,
                           GrammarConstraint::Create(lm, params));
  SequenceGenerator gen(TokenizerOf(lm), std::move(sampler), max_tokens, std::move(stop));
  gen.grammar_ = std::move(grammar);
  gen.n_vocab_ = lm.n_vocab();
  return gen;
}

int32_t SequenceGenerator::SampleNext(const float* logits) {
  if (!grammar_) return sampler_.Sample(logits);
  if (!grammar_->active()) {  // a lazy grammar waiting for its trigger
    const int32_t next = sampler_.Sample(logits);
    grammar_->Observe(tok_->TokenToPiece(next, /*render_special=*/true));
    return next;
  }
  // A complete grammar ends generation as an end-of-generation token would.
  if (grammar_->MustEnd()) return -1;
  const int32_t next = grammar_->Sample(sampler_, logits);
  if (next >= 0) grammar_->Accept(next);
  return next;
}

void SequenceGenerator::AcceptPrompt(const std::vector<int32_t>& prompt) {
  for (int32_t t : prompt) sampler_.Accept(t);
}

TokenStep SequenceGenerator::Next(const float* logits, bool context_full) {
  TokenStep step;
  const int32_t next = SampleNext(logits);
  if (next < 0 || tok_->IsEndOfGeneration(next)) {
    step.finished = true;
    step.reason = FinishReason::kStop;
    return step;
  }
  sampler_.Accept(next);
  ++generated_;
  step.token = next;
  if (top_logprobs_ >= 0) {
    step.logprobs = ComputeTokenLogprobs(logits, n_vocab_, next, top_logprobs_);
    step.logprobs->chosen.text = tok_->TokenToPiece(next, /*render_special=*/true);
    for (TokenLogprob& t : step.logprobs->top) t.text = tok_->TokenToPiece(t.token, true);
  }
  step.text = stops_.Push(decoder_.Push(tok_->TokenToPiece(next, render_special_)), &hit_stop_);
  if (hit_stop_) {
    step.finished = true;
    step.reason = FinishReason::kStop;
  } else if (LimitReached() || context_full) {
    step.finished = true;
    step.reason = FinishReason::kLength;
  }
  return step;
}

std::string SequenceGenerator::Flush(bool* stopped) {
  *stopped = hit_stop_;
  if (hit_stop_) return {};
  std::string tail = stops_.Push(decoder_.Flush(), stopped);
  if (!*stopped) tail += stops_.Flush();
  hit_stop_ = *stopped;
  return tail;
}

}  // namespace foundry
