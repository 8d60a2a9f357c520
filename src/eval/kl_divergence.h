// How far a model's next-token distributions are from a reference's on the same tokens: the
// mean KL divergence KL(reference || model), how often both rank the same token first, and both
// perplexities. Measures what a quantization or a KV type costs.
#pragma once

#include <cstdint>
#include <span>

namespace foundry::eval {

struct KlSummary {
  double mean_kld = 0;
  double kld_stderr = 0;
  double top1_agreement = 0;  // share of positions whose most likely token is the same
  double reference_ppl = 0;
  int64_t n = 0;
};

class KlDivergence {
 public:
  // One scored position: the reference's log-probabilities, the model's logits and the token
  // that came next. Both spans hold the whole vocabulary.
  void Add(std::span<const float> reference_log_probs, std::span<const float> logits, int32_t next);
  KlSummary Summary() const;

 private:
  double sum_ = 0, sum2_ = 0, reference_nll_ = 0;
  int64_t same_top_ = 0, n_ = 0;
};

}  // namespace foundry::eval
