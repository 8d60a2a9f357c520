#include "engine/token_logprobs.h"

#include <algorithm>
#include <cmath>

namespace foundry {

TokenLogprobs ComputeTokenLogprobs(const float* logits, int64_t n_vocab, int32_t token, int top_n) {
  float max = logits[0];
  for (int64_t i = 1; i < n_vocab; ++i) max = std::max(max, logits[i]);
  double sum = 0;
  for (int64_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - max);
  const double log_z = static_cast<double>(max) + std::log(sum);
  auto logprob = [&](int32_t id) {
    return static_cast<float>(static_cast<double>(logits[id]) - log_z);
  };

  TokenLogprobs out;
  out.chosen.token = token;
  out.chosen.logprob = logprob(token);
  if (top_n <= 0) return out;
  // The top_n largest in one pass: a small sorted list (top_n <= 20), no per-step vocabulary
  // sized allocation.
  auto better = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  std::vector<int32_t> best;
  best.reserve(static_cast<size_t>(top_n) + 1);
  for (int32_t i = 0; i < static_cast<int32_t>(n_vocab); ++i) {
    if (static_cast<int>(best.size()) == top_n && !better(i, best.back())) continue;
    best.insert(std::upper_bound(best.begin(), best.end(), i, better), i);
    if (static_cast<int>(best.size()) > top_n) best.pop_back();
  }
  for (int32_t id : best) out.top.push_back({id, logprob(id), {}});
  return out;
}

}  // namespace foundry
