#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace foundry {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Larger logit first, then smaller id: a strict total order, so every selection below has one
// answer whatever the standard library's algorithms do with ties.
struct Better {
  template <typename C>
  bool operator()(const C& a, const C& b) const {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  }
};

// Above this k the bounded-heap scan loses to building all candidates and nth_element.
constexpr int32_t kHeapTopKLimit = 4096;

std::string Num(double v) { return std::to_string(v); }

}  // namespace

Status Sampler::Validate(const SamplingParams& p) {
  if (std::isnan(p.temperature) || p.temperature < 0.0f) {
    return InvalidArgument("temperature must be >= 0 (0 means greedy), got " + Num(p.temperature));
  }
  if (std::isinf(p.temperature)) return InvalidArgument("temperature must be finite");
  if (p.top_k < 0) {
    return InvalidArgument("top_k must be >= 0 (0 disables it), got " + std::to_string(p.top_k));
  }
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) {
    return InvalidArgument("top_p must be in (0, 1] (1 disables it), got " + Num(p.top_p));
  }
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) {
    return InvalidArgument("min_p must be in [0, 1] (0 disables it), got " + Num(p.min_p));
  }
  if (!(p.repeat_penalty > 0.0f) || std::isinf(p.repeat_penalty)) {
    return InvalidArgument("repeat_penalty must be finite and > 0 (1 disables it), got " +
                           Num(p.repeat_penalty));
  }
  if (p.repeat_last_n < -1) {
    return InvalidArgument("repeat_last_n must be >= -1 (-1: all tokens, 0: disabled), got " +
                           std::to_string(p.repeat_last_n));
  }
  if (!std::isfinite(p.presence_penalty)) {
    return InvalidArgument("presence_penalty must be finite");
  }
  if (!std::isfinite(p.frequency_penalty)) {
    return InvalidArgument("frequency_penalty must be finite");
  }
  for (const auto& [id, bias] : p.logit_bias) {
    if (id < 0)
      return InvalidArgument("logit_bias token id must be >= 0, got " + std::to_string(id));
    if (std::isnan(bias) || bias == std::numeric_limits<float>::infinity()) {
      return InvalidArgument("logit_bias for token " + std::to_string(id) +
                             " must be a number or -inf (to ban it)");
    }
  }
  return OkStatus();
}

StatusOr<Sampler> Sampler::Create(const SamplingParams& params, int32_t n_vocab) {
  FOUNDRY_RETURN_IF_ERROR(Validate(params));
  if (n_vocab <= 0) {
    return InvalidArgument("vocabulary size must be > 0, got " + std::to_string(n_vocab));
  }
  for (const auto& [id, bias] : params.logit_bias) {
    if (id >= n_vocab) {
      return InvalidArgument("logit_bias token id " + std::to_string(id) +
                             " is outside the vocabulary of " + std::to_string(n_vocab));
    }
  }
  uint64_t seed = params.seed;
  if (seed == SamplingParams::kRandomSeed) {
    std::random_device rd;
    seed = (uint64_t{rd()} << 32) ^ uint64_t { rd() };
  }
  return Sampler(params, n_vocab, seed);
}

Sampler::Sampler(const SamplingParams& params, int32_t n_vocab, uint64_t seed)
    : params_(params), n_vocab_(n_vocab), seed_(seed), rng_(seed) {
  work_.resize(static_cast<size_t>(n_vocab));
}

void Sampler::Accept(int32_t token) {
  const int32_t n = params_.repeat_last_n;
  history_.push_back(token);
  // Keep at most 2n entries so that a long generation does not grow memory; the window is the
  // last n. For n == -1 (all tokens) the history is bounded by the caller's context.
  if (n >= 0 && history_.size() > 2 * static_cast<size_t>(n) + 16) {
    history_.erase(history_.begin(), history_.end() - n);
  }
}

void Sampler::Reset() {
  history_.clear();
  rng_.seed(seed_);
}

double Sampler::NextUniform() {
  // The top 53 bits of one 64-bit draw, scaled exactly: uniform on [0, 1) with step 2^-53.
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

void Sampler::PrepareLogits(const float* logits) {
  const size_t n = static_cast<size_t>(n_vocab_);
  float* w = work_.data();
  for (size_t i = 0; i < n; ++i) {
    const float v = logits[i];
    w[i] = std::isnan(v) ? kNegInf : v;
  }
  for (const auto& [id, bias] : params_.logit_bias) w[id] += bias;

  const SamplingParams& p = params_;
  const bool penalize =
      p.repeat_last_n != 0 &&
      (p.repeat_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f);
  if (!penalize || history_.empty()) return;

  const size_t window = p.repeat_last_n < 0
                            ? history_.size()
                            : std::min(history_.size(), static_cast<size_t>(p.repeat_last_n));
  window_.assign(history_.end() - static_cast<std::ptrdiff_t>(window), history_.end());
  std::sort(window_.begin(), window_.end());
  for (size_t i = 0; i < window_.size();) {
    const int32_t tok = window_[i];
    size_t j = i;
    while (j < window_.size() && window_[j] == tok) ++j;
    const float count = static_cast<float>(j - i);
    i = j;
    if (tok < 0 || tok >= n_vocab_) continue;
    float& l = w[tok];
    if (p.repeat_penalty != 1.0f) l = l <= 0.0f ? l * p.repeat_penalty : l / p.repeat_penalty;
    l -= count * p.frequency_penalty + p.presence_penalty;
  }
}

int32_t Sampler::Argmax() const {
  const float* w = work_.data();
  int32_t best = 0;
  for (int32_t i = 1; i < n_vocab_; ++i) {
    if (w[i] > w[best]) best = i;
  }
  return best;
}

void Sampler::Filter(double* sum) {
  const SamplingParams& p = params_;
  const float* w = work_.data();
  const int32_t n = n_vocab_;
  bool sorted = false;    // cand_ sorted by Better
  bool permuted = false;  // cand_ no longer in ascending-id order

  // top-k
  cand_.clear();
  if (p.top_k > 0 && p.top_k < n && p.top_k <= kHeapTopKLimit) {
    // Bounded min-heap (worst on top) over one pass: a single compare for most entries.
    const size_t k = static_cast<size_t>(p.top_k);
    cand_.reserve(k);
    const Better better;
    for (int32_t i = 0; i < n; ++i) {
      const Cand c{i, w[i]};
      if (cand_.size() < k) {
        cand_.push_back(c);
        std::push_heap(cand_.begin(), cand_.end(), better);
      } else if (better(c, cand_.front())) {
        std::pop_heap(cand_.begin(), cand_.end(), better);
        cand_.back() = c;
        std::push_heap(cand_.begin(), cand_.end(), better);
      }
    }
    std::sort(cand_.begin(), cand_.end(), better);
    sorted = permuted = true;
  } else {
    cand_.resize(static_cast<size_t>(n));
    for (int32_t i = 0; i < n; ++i) cand_[static_cast<size_t>(i)] = Cand{i, w[i]};
    if (p.top_k > 0 && p.top_k < n) {
      std::nth_element(cand_.begin(), cand_.begin() + p.top_k, cand_.end(), Better());
      cand_.resize(static_cast<size_t>(p.top_k));
      std::sort(cand_.begin(), cand_.end(), Better());
      sorted = permuted = true;
    }
  }

  // top-p: the shortest prefix (by descending logit) whose probability reaches top_p, computed at
  // temperature 1 like llama.cpp.
  if (p.top_p < 1.0f && cand_.size() > 1) {
    float max_logit = kNegInf;
    for (const Cand& c : cand_) max_logit = std::max(max_logit, c.logit);
    if (max_logit != kNegInf) {
      auto mass = [&](size_t b, size_t e) {
        double m = 0.0;
        for (size_t i = b; i < e; ++i) m += std::exp(cand_[i].logit - max_logit);
        return m;
      };
      const double target = static_cast<double>(p.top_p) * mass(0, cand_.size());
      // Narrow [lo, hi) to a small range holding the crossing point without sorting everything:
      // everything before lo outranks [lo, hi) and carries mass_before. Expected O(n).
      size_t lo = 0;
      size_t hi = cand_.size();
      double mass_before = 0.0;
      if (!sorted) {
        const auto at = [&](size_t i) { return cand_.begin() + static_cast<std::ptrdiff_t>(i); };
        while (hi - lo > 64) {
          const size_t mid = lo + (hi - lo) / 4;  // the nucleus is usually a small head
          std::nth_element(at(lo), at(mid), at(hi), Better());
          const double m = mass(lo, mid);
          if (mass_before + m >= target) {
            hi = mid;
          } else {
            mass_before += m;
            lo = mid;
          }
        }
        std::sort(at(lo), at(hi), Better());
      }
      size_t keep = hi;  // rounding may leave the target unreached in [lo, hi): keep it all
      double cum = mass_before;
      for (size_t i = lo; i < hi; ++i) {
        cum += std::exp(cand_[i].logit - max_logit);
        if (cum >= target) {
          keep = i + 1;
          break;
        }
      }
      cand_.resize(keep);
      permuted = permuted || !sorted;
      sorted = sorted || lo == 0;
    }
  }

  // min-p: keep p >= min_p * p_max, i.e. logit >= max_logit + log(min_p).
  if (p.min_p > 0.0f && cand_.size() > 1) {
    float max_logit = kNegInf;
    if (sorted) {
      max_logit = cand_.front().logit;
    } else {
      for (const Cand& c : cand_) max_logit = std::max(max_logit, c.logit);
    }
    if (max_logit != kNegInf) {
      const float threshold = max_logit + std::log(p.min_p);
      size_t out = 0;
      for (size_t i = 0; i < cand_.size(); ++i) {
        if (cand_[i].logit >= threshold) cand_[out++] = cand_[i];
      }
      cand_.resize(out);
    }
  }

  // Canonical draw order: ascending id.
  if (permuted) {
    std::sort(cand_.begin(), cand_.end(), [](const Cand& a, const Cand& b) { return a.id < b.id; });
  }

  // temperature and softmax weights
  const float temp = p.temperature;
  float max_logit = kNegInf;
  for (Cand& c : cand_) {
    c.logit /= temp;
    max_logit = std::max(max_logit, c.logit);
  }
  weights_.resize(cand_.size());
  double s = 0.0;
  if (max_logit == kNegInf) {
    // Every candidate is banned: fall back to a uniform draw among them.
    std::fill(weights_.begin(), weights_.end(), 1.0f);
    s = static_cast<double>(cand_.size());
  } else {
    for (size_t i = 0; i < cand_.size(); ++i) {
      weights_[i] = std::exp(cand_[i].logit - max_logit);
      s += weights_[i];
    }
  }
  *sum = s;
}

int32_t Sampler::Sample(const float* logits) {
  PrepareLogits(logits);
  if (params_.temperature <= 0.0f) return Argmax();
  double sum = 0.0;
  Filter(&sum);
  const double target = NextUniform() * sum;
  double cum = 0.0;
  for (size_t i = 0; i < cand_.size(); ++i) {
    cum += weights_[i];
    if (cum > target) return cand_[i].id;
  }
  // Rounding left target at or above the final sum: take the last candidate with weight.
  for (size_t i = cand_.size(); i-- > 0;) {
    if (weights_[i] > 0.0f) return cand_[i].id;
  }
  return cand_.back().id;
}

void Sampler::Candidates(const float* logits, std::vector<TokenCandidate>* out) {
  out->clear();
  PrepareLogits(logits);
  if (params_.temperature <= 0.0f) {
    const int32_t best = Argmax();
    out->push_back(TokenCandidate{best, work_[static_cast<size_t>(best)], 1.0f});
    return;
  }
  double sum = 0.0;
  Filter(&sum);
  out->reserve(cand_.size());
  for (size_t i = 0; i < cand_.size(); ++i) {
    out->push_back(
        TokenCandidate{cand_[i].id, cand_[i].logit, static_cast<float>(weights_[i] / sum)});
  }
  std::sort(out->begin(), out->end(), [](const TokenCandidate& a, const TokenCandidate& b) {
    return a.p > b.p || (a.p == b.p && a.id < b.id);
  });
}

}  // namespace foundry
