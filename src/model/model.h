// A loaded model: immutable weights plus a forward pass over a batch of tokens from any
// number of sequences. One Model can serve many callers at once; each caller brings its
// own KvCache and Workspace.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "base/thread_pool.h"
#include "format/gguf_file.h"
#include "kernels/kernels.h"
#include "kv/kv_cache.h"
#include "model/batch.h"
#include "model/hparams.h"
#include "model/workspace.h"

namespace foundry {

class Model {
 public:
  // Picks the architecture from `general.architecture` and binds the weights. The model keeps
  // the file alive and computes with `kernels` (KernelsForIsa: immutable, never freed). With
  // `repack`, matrices the kernels have an interleaved layout for are rewritten into it
  // (RepackWeights); without, every matrix stays as the file lays it out.
  static StatusOr<std::unique_ptr<Model>> Load(std::shared_ptr<const GgufFile> gguf,
                                               const Kernels& kernels, bool repack = true);

  virtual ~Model() = default;
  const HParams& hparams() const { return hparams_; }
  const GgufFile& gguf() const { return *gguf_; }
  // The kernels of the ISA the model was loaded for; the architectures pass them to the layers.
  const Kernels& kernels() const { return *kernels_; }

  // A cache sized for this model.
  std::unique_ptr<KvCache> NewKvCache(int64_t n_seq, int64_t n_ctx) const;
  // What one position of one sequence takes in the KV cache (every layer's key and value).
  uint64_t KvBytesPerPosition() const;

  // Runs the batch, appending its keys/values to `kv`. For each token whose logits flag is
  // set, writes n_vocab logits to `logits` and, when `hidden` is given, the n_embd floats of
  // its final hidden state after the output norm (what the output head reads; embeddings are
  // pooled from these), in batch order. `logits` may be null to skip the output head. Fails
  // (changing nothing) when a position is past the cache's context or a token id is out of
  // range.
  Status Forward(const Batch& batch, KvCache& kv, Workspace& ws, ThreadPool& pool, float* logits,
                 float* hidden = nullptr) const;

 protected:
  Model(std::shared_ptr<const GgufFile> gguf, HParams hparams)
      : gguf_(std::move(gguf)), hparams_(std::move(hparams)) {}
  // Copies the weight matrices the kernels read faster in another layout (RepackedWeights), on
  // the pool's threads; Load calls it once the kernels are known. Default: none.
  virtual void RepackWeights(const Kernels& /*kernels*/, ThreadPool& /*pool*/) {}
  // The architecture's pass; inputs are already validated.
  virtual void ForwardValidated(const Batch& batch, KvCache& kv, Workspace& ws, ThreadPool& pool,
                                float* logits, float* hidden) const = 0;

 private:
  std::shared_ptr<const GgufFile> gguf_;
  HParams hparams_;
  const Kernels* kernels_ = nullptr;  // set by Load
};

}  // namespace foundry
