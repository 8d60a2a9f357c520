#include "engine/context.h"

#include <algorithm>
#include <thread>

#include "engine/internal.h"

namespace foundry {

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
  int64_t n_ctx = options.n_ctx > 0 ? options.n_ctx : std::min<int64_t>(lm->n_ctx_train(), 4096);
  if (n_ctx < 1) n_ctx = 4096;  // a model that does not say
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
