// Perplexity of a model over a text, computed the way llama.cpp's llama-perplexity does, so the
// two numbers compare: the text is tokenized once (with the vocabulary's BOS), cut into chunks of
// n_ctx tokens, each chunk evaluated from an empty cache with its first token replaced by BOS,
// and only the second half of each chunk scored (every scored token has at least n_ctx/2 tokens
// of context).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "foundry/engine.h"

namespace foundry::eval {

struct PerplexityOptions {
  int64_t n_ctx = 512;     // tokens per chunk
  int64_t n_batch = 512;   // tokens per forward pass (at most n_ctx)
  int64_t max_chunks = 0;  // 0: every whole chunk of the text
  int n_threads = 0;       // 0: one per available core
};

// The token stream and how it is cut, known before anything is evaluated (the KL-divergence
// mode checks it against the reference's).
struct ChunkPlan {
  std::vector<int32_t> tokens;  // n_chunks * n_ctx tokens
  int64_t n_text_tokens = 0;    // the whole text's
  int64_t n_ctx = 0;
  int64_t n_chunks = 0;
  int32_t bos = -1;  // replaces each chunk's first token; -1: the vocabulary adds no BOS
  int64_t first_scored() const { return n_ctx / 2; }
  int64_t scored_per_chunk() const { return n_ctx - first_scored() - 1; }
};

// Fails with InvalidArgument when the text has fewer than 2 * n_ctx tokens (as llama-perplexity)
// or the sizes are out of range.
StatusOr<ChunkPlan> PlanChunks(const LanguageModel& lm, std::string_view text,
                               const PerplexityOptions& options);

struct PerplexityResult {
  double ppl = 0;
  double ppl_stderr = 0;  // of the estimate, from the spread of per-token log-likelihoods
  int64_t n_chunks = 0;
  int64_t n_scored = 0;  // tokens scored
};

// Sees every scored position: the logits predicting `next` (n_vocab floats). An error stops the
// run and is returned.
using LogitsObserver = std::function<Status(std::span<const float> logits, int32_t next)>;
// After each chunk: chunks done and the running perplexity.
using ChunkProgress = std::function<void(int64_t chunks_done, double ppl)>;

StatusOr<PerplexityResult> Perplexity(std::shared_ptr<const LanguageModel> lm,
                                      const ChunkPlan& plan, const PerplexityOptions& options,
                                      const LogitsObserver& observe = nullptr,
                                      const ChunkProgress& progress = nullptr);

// log p(token | logits): the log-softmax of one row, in double as llama-perplexity sums it.
double LogProbability(std::span<const float> logits, int32_t token);

}  // namespace foundry::eval
