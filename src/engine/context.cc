#include "engine/context.h"

#include <algorithm>
#include <thread>

#include "engine/internal.h"

namespace foundry {

int64_t DefaultContextLength(int64_t n_ctx_train, int64_t n_seq, uint64_t kv_bytes_per_position,
                             uint64_t kv_budget_bytes) {
  const int64_t trained = n_ctx_train > 0 ? n_ctx_train : 4096;  // a model that does not say
  if (kv_budget_bytes == 0) return std::min<int64_t>(trained, 4096);
  const uint64_t per_position = std::max<uint64_t>(1, kv_bytes_per_position) *
                                static_cast<uint64_t>(std::max<int64_t>(1, n_seq));
  const uint64_t fits = kv_budget_bytes / per_position / 256 * 256;
  const int64_t capped = static_cast<int64_t>(std::min<uint64_t>(fits, uint64_t{1} << 40));
  return std::min(trained, std::max<int64_t>(capped, 512));
}

StatusOr<std::unique_ptr<Context>> Context::Create(std::shared_ptr<const LanguageModel> lm,
                                                   const ContextOptions& options) {
  if (options.n_threads < 0 || options.n_threads > 512) {
    return InvalidArgument("thread count must be between 1 and 512");
  }
  if (options.n_seq < 1 || options.n_ctx < 0) {
    return InvalidArgument("context and batch sizes must be positive");
  }
  int threads = options.n_threads;
  if (threads == 0) {
    const unsigned hc = std::thread::hardware_concurrency();
    threads = hc == 0 ? 1 : static_cast<int>(hc);
  }
  const int64_t n_ctx =
      options.n_ctx > 0
          ? options.n_ctx
          : DefaultContextLength(lm->n_ctx_train(), options.n_seq,
                                 ModelOf(*lm).KvBytesPerPosition(), options.kv_budget_bytes);
  std::unique_ptr<Context> c(new Context());
  c->n_vocab_ = lm->n_vocab();
  c->n_embd_ = lm->n_embd();
  c->kv_ = ModelOf(*lm).NewKvCache(options.n_seq, n_ctx);
  c->pool_ = std::make_unique<ThreadPool>(threads);
  c->lm_ = std::move(lm);
  return c;
}

Status Context::Decode(const Batch& batch) {
  logits_.resize(static_cast<size_t>(batch.NumLogits()) * n_vocab_);
  return ModelOf(*lm_).Forward(batch, *kv_, ws_, *pool_, logits_.data());
}

Status Context::DecodeHidden(const Batch& batch) {
  hidden_.resize(static_cast<size_t>(batch.NumLogits()) * n_embd_);
  return ModelOf(*lm_).Forward(batch, *kv_, ws_, *pool_, nullptr, hidden_.data());
}

}  // namespace foundry
