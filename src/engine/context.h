// A Context evaluates batches of tokens for up to n_seq sequences of one model: it owns their
// KV cache, the forward pass's scratch memory and the thread pool. Session (one sequence) and
// the runtime's Scheduler (continuous batching) are both built on it; neither calls the model
// directly.
//
// The forward pass is exact per sequence: a sequence's logits depend only on its own tokens and
// how many of them each batch holds (llama.cpp's summation orders do), not on the other
// sequences in the batch or the thread count.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/thread_pool.h"
#include "foundry/engine.h"
#include "kv/kv_cache.h"
#include "model/batch.h"
#include "model/workspace.h"

namespace foundry {

struct ContextOptions {
  int64_t n_seq = 1;  // sequences (KV-cache slots)
  int64_t n_ctx = 0;  // positions per sequence; 0: DefaultContextLength's
  uint64_t kv_budget_bytes = 0;  // n_ctx 0: the KV cache of all n_seq sequences fits this
  int n_threads = 0;  // 0: one per available core
};

// The context of a model loaded without one: its training context (4096 when it does not say),
// reduced so that n_seq sequences' KV cache (kv_bytes_per_position each) fits kv_budget_bytes,
// in whole multiples of 256 and never below 512; kv_budget_bytes 0 caps it at 4096 instead.
int64_t DefaultContextLength(int64_t n_ctx_train, int64_t n_seq, uint64_t kv_bytes_per_position,
                             uint64_t kv_budget_bytes);

class Context {
 public:
  static StatusOr<std::unique_ptr<Context>> Create(std::shared_ptr<const LanguageModel> lm,
                                                   const ContextOptions& options);

  const LanguageModel& model() const { return *lm_; }
  const std::shared_ptr<const LanguageModel>& shared_model() const { return lm_; }
  int64_t n_seq() const { return kv_->n_seq(); }
  int64_t n_ctx() const { return kv_->n_ctx(); }
  int64_t n_vocab() const { return n_vocab_; }
  size_t kv_bytes() const { return kv_->bytes(); }

  // Tokens of a sequence in the cache (the next position to decode).
  int64_t SeqLength(int64_t seq) const { return kv_->SeqLength(seq); }
  // Forget a sequence's positions >= keep (0 empties it); ClearAll forgets every sequence.
  void Truncate(int64_t seq, int64_t keep) { kv_->Truncate(seq, keep); }
  void ClearAll() { kv_->Clear(); }
  // Gives sequence `dst` the cells [from, to) of sequence `src` (see KvCache::CopyCells).
  void CopyCells(int64_t src, int64_t dst, int64_t from, int64_t to) {
    kv_->CopyCells(src, dst, from, to);
  }

  // Runs the batch, appending its tokens to their sequences, and keeps the n_vocab logits of
  // each token that asked for them: Logits(i) is the i-th such token in batch order, valid
  // until the next Decode. Fails (changing nothing) when a token id is out of range or a
  // sequence would pass the context or not continue where it left off.
  Status Decode(const Batch& batch);
  const float* Logits(int row) const {
    return logits_.data() + static_cast<size_t>(row) * n_vocab_;
  }
  // The logits of every flagged token, row after row.
  const std::vector<float>& all_logits() const { return logits_; }

  // As Decode, but skips the output head and keeps, for each flagged token, the n_embd floats
  // of its final hidden state after the output norm (what embeddings are pooled from).
  Status DecodeHidden(const Batch& batch);
  const float* Hidden(int row) const { return hidden_.data() + static_cast<size_t>(row) * n_embd_; }

 private:
  Context() = default;

  std::shared_ptr<const LanguageModel> lm_;
  int64_t n_vocab_ = 0;
  int64_t n_embd_ = 0;
  std::unique_ptr<KvCache> kv_;
  Workspace ws_;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<float> logits_;
  std::vector<float> hidden_;
};

}  // namespace foundry
