// Token sampling: the llama.cpp default chain, seeded and reproducible.
//
//   logit bias -> penalties (repeat, presence, frequency) -> top-k -> top-p -> min-p
//   -> temperature -> softmax -> draw
//
// temperature <= 0 is greedy: the argmax after bias and penalties (ties go to the lowest id).
// The draw uses std::mt19937_64 (whose output the standard fixes) and our own uniform-double
// derivation, and candidates are drawn in ascending-id order, so the same seed and the same
// logits give the same tokens on every platform.
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "base/status.h"
#include "foundry/sampling_params.h"

namespace foundry {

// One entry of the candidate set a draw picks from.
struct TokenCandidate {
  int32_t id;
  float logit;  // after bias, penalties and temperature
  float p;      // probability within the candidate set (sums to 1)
};

class Sampler {
 public:
  // Checks ranges that do not depend on the vocabulary (bias ids are checked by Create).
  static Status Validate(const SamplingParams& params);
  static StatusOr<Sampler> Create(const SamplingParams& params, int32_t n_vocab);

  // Picks the next token from n_vocab logits (not modified). NaN logits count as -infinity.
  // Does not record the token: call Accept with the token that was actually emitted.
  int32_t Sample(const float* logits);

  // Records a token in the penalty history. To match llama.cpp, Accept the prompt tokens too.
  // Ids outside [0, n_vocab) are recorded but never penalized.
  void Accept(int32_t token);

  // Clears the history and restarts the random stream from seed().
  void Reset();

  // The candidate set Sample would draw from (after every filter and the temperature), sorted by
  // descending probability, ties by ascending id. Greedy yields the single argmax with p = 1.
  // Does not consume randomness. Meant for tests, debugging and log-probabilities.
  void Candidates(const float* logits, std::vector<TokenCandidate>* out);

  const SamplingParams& params() const { return params_; }
  int32_t n_vocab() const { return n_vocab_; }
  uint64_t seed() const { return seed_; }  // the seed in use (a drawn one for kRandomSeed)
  const std::vector<int32_t>& history() const { return history_; }  // may hold more than the window

 private:
  struct Cand {
    int32_t id;
    float logit;
  };

  Sampler(const SamplingParams& params, int32_t n_vocab, uint64_t seed);

  // Copies logits into work_ (NaN -> -inf), then applies bias and penalties.
  void PrepareLogits(const float* logits);
  int32_t Argmax() const;
  // Fills cand_ with the set that survives top-k, top-p and min-p, sorted by ascending id, with
  // temperature applied to logits; writes softmax weights (unnormalized) to weights_ and their
  // sum to *sum.
  void Filter(double* sum);
  double NextUniform();  // [0, 1) with 53 random bits

  SamplingParams params_;
  int32_t n_vocab_;
  uint64_t seed_;
  std::mt19937_64 rng_;
  std::vector<int32_t> history_;

  // Scratch reused across calls so that steady-state sampling does not allocate.
  std::vector<float> work_;
  std::vector<Cand> cand_;
  std::vector<float> weights_;
  std::vector<int32_t> window_;
};

}  // namespace foundry
