// Log-probabilities of a sampled token and of the most likely alternatives, as OpenAI's
// `logprobs`/`top_logprobs` report them: the log-softmax of the model's raw logits (before
// penalties, biases, temperature or truncation by the sampler), like llama-server's default.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace foundry {

struct TokenLogprob {
  int32_t token = -1;
  float logprob = 0;
  std::string text;  // the token's bytes (special tokens rendered)
};

struct TokenLogprobs {
  TokenLogprob chosen;
  std::vector<TokenLogprob> top;  // most likely first; ties by lower token id
};

// log-softmax(logits)[token] for `token` and the `top_n` largest entries (text left empty).
// Computed in double: log p_i = l_i - max - log(sum_j exp(l_j - max)).
TokenLogprobs ComputeTokenLogprobs(const float* logits, int64_t n_vocab, int32_t token, int top_n);

}  // namespace foundry
