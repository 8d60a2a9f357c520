#include "eval/perplexity.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace foundry::eval {

StatusOr<ChunkPlan> PlanChunks(const LanguageModel& lm, std::string_view text,
                               const PerplexityOptions& options) {
  if (options.n_ctx < 4) return InvalidArgument("--ctx must be at least 4 tokens");
  if (options.n_batch < 1) return InvalidArgument("--batch must be at least 1");
  if (options.max_chunks < 0) return InvalidArgument("--chunks must not be negative");
  if (options.n_ctx > lm.n_ctx_train() && lm.n_ctx_train() > 0) {
    return InvalidArgument("--ctx " + std::to_string(options.n_ctx) + " exceeds the model's " +
                           "training context of " + std::to_string(lm.n_ctx_train()));
  }
  ChunkPlan plan;
  plan.n_ctx = options.n_ctx;
  plan.tokens = lm.Tokenize(text, /*add_special=*/true, /*parse_special=*/false);
  const auto n = static_cast<int64_t>(plan.tokens.size());
  if (n < 2 * options.n_ctx) {
    return InvalidArgument("the text tokenizes to " + std::to_string(n) + " tokens; perplexity " +
                           "with --ctx " + std::to_string(options.n_ctx) + " needs at least " +
                           std::to_string(2 * options.n_ctx) + " (give a longer text or a " +
                           "smaller --ctx)");
  }
  plan.n_text_tokens = n;
  plan.n_chunks = n / options.n_ctx;
  if (options.max_chunks > 0) plan.n_chunks = std::min(plan.n_chunks, options.max_chunks);
  plan.tokens.resize(static_cast<size_t>(plan.n_chunks * options.n_ctx));
  // The vocabulary's BOS, if it adds one: what an empty text tokenizes to.
  const std::vector<int32_t> empty = lm.Tokenize("", /*add_special=*/true, false);
  if (!empty.empty()) plan.bos = empty.front();
  return plan;
}

double LogProbability(std::span<const float> logits, int32_t token) {
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  double sum_exp = 0.0;
  for (float v : logits) sum_exp += std::exp(v - max_logit);
  return static_cast<double>(logits[static_cast<size_t>(token)] - max_logit) - std::log(sum_exp);
}

StatusOr<PerplexityResult> Perplexity(std::shared_ptr<const LanguageModel> lm,
                                      const ChunkPlan& plan, const PerplexityOptions& options,
                                      const LogitsObserver& observe,
                                      const ChunkProgress& progress) {
  EngineOptions engine;
  engine.n_threads = options.n_threads;
  engine.n_ctx = plan.n_ctx;
  engine.n_batch = std::min(options.n_batch, plan.n_ctx);
  FOUNDRY_ASSIGN_OR_RETURN(auto session, Session::Create(lm, engine));
  const auto n_vocab = static_cast<size_t>(lm->n_vocab());
  const int64_t first = plan.first_scored();

  double nll = 0, nll2 = 0;
  int64_t count = 0;
  std::vector<float> logits;
  for (int64_t c = 0; c < plan.n_chunks; ++c) {
    session->Reset();
    const auto chunk = plan.tokens.begin() + c * plan.n_ctx;
    for (int64_t b = 0; b < plan.n_ctx; b += engine.n_batch) {
      const int64_t len = std::min(engine.n_batch, plan.n_ctx - b);
      std::vector<int32_t> batch(chunk + b, chunk + b + len);
      if (b == 0 && plan.bos >= 0) batch.front() = plan.bos;
      // Every position's logits only where the batch reaches the scored half.
      const bool scored = b + len > first;
      FOUNDRY_RETURN_IF_ERROR(session->Evaluate(batch, scored, &logits));
      if (!scored) continue;
      for (int64_t j = std::max(b, first); j < b + len && j < plan.n_ctx - 1; ++j) {
        const std::span<const float> row(logits.data() + static_cast<size_t>(j - b) * n_vocab,
                                         n_vocab);
        const int32_t next = chunk[j + 1];
        const double lp = LogProbability(row, next);
        nll -= lp;
        nll2 += lp * lp;
        ++count;
        if (observe) FOUNDRY_RETURN_IF_ERROR(observe(row, next));
      }
    }
    if (progress) progress(c + 1, std::exp(nll / static_cast<double>(count)));
  }
  PerplexityResult r;
  r.n_chunks = plan.n_chunks;
  r.n_scored = count;
  const double mean = nll / static_cast<double>(count);
  r.ppl = std::exp(mean);
  const double var = nll2 / static_cast<double>(count) - mean * mean;
  if (var > 0 && count > 1) r.ppl_stderr = std::sqrt(var / static_cast<double>(count - 1)) * r.ppl;
  return r;
}

}  // namespace foundry::eval
