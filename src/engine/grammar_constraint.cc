#include "engine/grammar_constraint.h"

#include <chrono>
#include <algorithm>
#include <limits>

#include "engine/internal.h"
#include "grammar/gbnf_parser.h"
#include "grammar/json_schema_grammar.h"

namespace foundry {

StatusOr<std::unique_ptr<GrammarConstraint>> GrammarConstraint::Create(
    const LanguageModel& lm, const SamplingParams& params) {
  if (params.grammar.empty() && params.json_schema.empty())
    return std::unique_ptr<GrammarConstraint>();
  if (!params.grammar.empty() && !params.json_schema.empty()) {
    return InvalidArgument("give a grammar or a JSON schema, not both");
  }
  std::string gbnf = params.grammar;
  if (gbnf.empty()) {
    FOUNDRY_ASSIGN_OR_RETURN(gbnf, JsonSchemaTextToGbnf(params.json_schema));
  }
  FOUNDRY_ASSIGN_OR_RETURN(Grammar grammar, ParseGbnf(gbnf));
  GrammarMatcher matcher(std::make_shared<const Grammar>(std::move(grammar)), TokenTableOf(lm));
  if (!params.grammar_prefill.empty() && !params.grammar_trigger.empty()) {
    return InvalidArgument("give a grammar prefill or a lazy grammar trigger, not both");
  }
  if (!matcher.AcceptText(params.grammar_prefill)) {
    return InvalidArgument("the grammar does not accept the answer's prefilled start '" +
                           params.grammar_prefill + "'");
  }
  return std::unique_ptr<GrammarConstraint>(
      new GrammarConstraint(std::move(matcher), lm.n_vocab(), params.grammar_trigger));
}

void GrammarConstraint::Observe(std::string_view text) {
  if (active_ || given_up_) return;
  observed_.append(text);
  const size_t at = observed_.find(trigger_);
  if (at == std::string::npos) {
    // Keep only what could still be the start of the trigger.
    const size_t keep = std::min(observed_.size(), trigger_.size() - 1);
    observed_.erase(0, observed_.size() - keep);
    return;
  }
  active_ = matcher_.AcceptText(observed_.substr(at));
  given_up_ = !active_;
  observed_.clear();
}

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

void GrammarConstraint::Accept(int32_t token) {
  const auto t = Clock::now();
  matcher_.Accept(token);
  seconds_ += Since(t);
}

int32_t GrammarConstraint::Sample(Sampler& sampler, const float* logits) {
  masked_ = false;
  const int32_t first = sampler.Sample(logits);
  auto t = Clock::now();
  const bool allowed = matcher_.IsAllowed(first);
  seconds_ += Since(t);
  if (allowed) return first;

  masked_ = true;
  ++masks_;
  t = Clock::now();
  matcher_.FillMask(&allowed_);
  seconds_ += Since(t);
  const size_t n = static_cast<size_t>(n_vocab_);
  masked_logits_.assign(logits, logits + n);
  bool any = false;
  for (size_t i = 0; i < n; ++i) {
    if (i >= allowed_.size() || !allowed_[i]) {
      masked_logits_[i] = -std::numeric_limits<float>::infinity();
    } else {
      any = true;
    }
  }
  if (!any) return -1;
  const int32_t next = sampler.Sample(masked_logits_.data());
  if (static_cast<size_t>(next) < allowed_.size() && allowed_[static_cast<size_t>(next)])
    return next;
  // Every allowed token was banned (logit bias -inf): the sampler fell back to a uniform draw
  // that may land anywhere, so take the best allowed token instead.
  int32_t best = -1;
  for (size_t i = 0; i < allowed_.size() && i < n; ++i) {
    if (allowed_[i] && (best < 0 || logits[i] > logits[static_cast<size_t>(best)])) {
      best = static_cast<int32_t>(i);
    }
  }
  return best;
}

}  // namespace foundry
