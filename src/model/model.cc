#include "model/model.h"

#include <algorithm>
#include <string>
#include <thread>

#include "model/arch_registry.h"

namespace foundry {

StatusOr<std::unique_ptr<Model>> Model::Load(std::shared_ptr<const GgufFile> gguf,
                                              const Kernels& kernels, bool repack) {
  FOUNDRY_ASSIGN_OR_RETURN(auto arch, gguf->GetString("general.architecture"));
  const ArchEntry* entry = FindArch(arch);
  if (!entry) {
    return Unimplemented("model architecture '" + std::string(arch) +
                         "' is not supported (supported: " + SupportedArchList() + ")");
  }
  FOUNDRY_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, entry->load(std::move(gguf), arch));
  model->kernels_ = &kernels;
  if (repack) {
    // A one-off job at load: every core, each thread repacking its share of a matrix's rows.
    ThreadPool pool(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())), 0);
    model->RepackWeights(kernels, pool);
  }
  return model;
}

std::unique_ptr<KvCache> Model::NewKvCache(int64_t n_seq, int64_t n_ctx) const {
  return std::make_unique<KvCache>(hparams_.n_layer, n_seq, n_ctx, hparams_.kv_dim(),
                                   hparams_.v_dim());
}

uint64_t Model::KvBytesPerPosition() const {
  return static_cast<uint64_t>(hparams_.n_layer * (hparams_.kv_dim() + hparams_.v_dim())) *
         sizeof(uint16_t);
}

Status Model::Forward(const Batch& batch, KvCache& kv, Workspace& ws, ThreadPool& pool,
                      float* logits, float* hidden) const {
  const size_t n = batch.tokens.size();
  if (batch.positions.size() != n || batch.seq_ids.size() != n || batch.logits.size() != n) {
    return InvalidArgument("batch fields differ in length");
  }
  for (int32_t t : batch.tokens) {
    if (t < 0 || t >= hparams_.n_vocab) {
      return InvalidArgument("token id " + std::to_string(t) + " is outside the vocabulary of " +
                             std::to_string(hparams_.n_vocab));
    }
  }
  FOUNDRY_RETURN_IF_ERROR(kv.CheckBatch(batch.seq_ids, batch.positions));
  if (n == 0) return OkStatus();
  ForwardValidated(batch, kv, ws, pool, logits, hidden);
  kv.Commit(batch.seq_ids, batch.positions);
  return OkStatus();
}

}  // namespace foundry
