#include "eval/kl_divergence.h"

#include <algorithm>
#include <cmath>

namespace foundry::eval {

void KlDivergence::Add(std::span<const float> reference_log_probs, std::span<const float> logits,
                       int32_t next) {
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  double sum_exp = 0.0;
  for (float v : logits) sum_exp += std::exp(v - max_logit);
  const double log_norm = max_logit + std::log(sum_exp);
  double kld = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const double ref = reference_log_probs[i];
    kld += std::exp(ref) * (ref - (logits[i] - log_norm));
  }
  sum_ += kld;
  sum2_ += kld * kld;
  reference_nll_ -= reference_log_probs[static_cast<size_t>(next)];
  const auto top = [](std::span<const float> v) {
    return std::max_element(v.begin(), v.end()) - v.begin();
  };
  same_top_ += top(reference_log_probs) == top(logits);
  ++n_;
}

KlSummary KlDivergence::Summary() const {
  KlSummary s;
  s.n = n_;
  if (n_ == 0) return s;
  const auto n = static_cast<double>(n_);
  s.mean_kld = sum_ / n;
  const double var = sum2_ / n - s.mean_kld * s.mean_kld;
  if (var > 0 && n_ > 1) s.kld_stderr = std::sqrt(var / (n - 1));
  s.top1_agreement = static_cast<double>(same_top_) / n;
  s.reference_ppl = std::exp(reference_nll_ / n);
  return s;
}

}  // namespace foundry::eval
