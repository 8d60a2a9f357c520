// The Llama family: `llama` (Llama 2/3, SmolLM, Mistral-style) and `qwen2` (QKV bias, NEOX
// RoPE). Pre-norm decoder blocks: RMSNorm -> GQA attention with RoPE -> residual ->
// RMSNorm -> SwiGLU FFN -> residual; output head tied to the embeddings when absent.
// Llama 3.1+ RoPE scaling comes as `rope_freqs.weight`: per-dimension divisors of theta,
// applied by RoPE as llama.cpp does.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/ops.h"
#include "model/arch_registry.h"
#include "model/forward_buffers.h"
#include "model/layers.h"
#include "model/rope_factors.h"

namespace foundry {
namespace {

struct LlamaLayer {
  Tensor attn_norm, wq, wk, wv, wo, bq, bk, bv, ffn_norm, gate, up, down;
};

class LlamaModel final : public Model {
 public:
  LlamaModel(std::shared_ptr<const GgufFile> gguf, HParams h) : Model(std::move(gguf), h) {}

  Status Bind() {
    const GgufFile& g = gguf();
    const HParams& h = hparams();
    FOUNDRY_RETURN_IF_ERROR(BindEmbeddingAndHead(g, h, &tok_embd_, &out_norm_, &output_));
    FOUNDRY_RETURN_IF_ERROR(BindRopeFactors(g, "rope_freqs.weight", h.n_rot, &rope_freqs_));
    layers_.resize(h.n_layer);
    for (int64_t i = 0; i < h.n_layer; ++i) {
      const std::string p = "blk." + std::to_string(i) + ".";
      LlamaLayer& L = layers_[i];
      FOUNDRY_RETURN_IF_ERROR(BindVector(g, p + "attn_norm.weight", h.n_embd, &L.attn_norm));
      FOUNDRY_RETURN_IF_ERROR(BindAttentionProjections(g, h, p, &L.wq, &L.wk, &L.wv, &L.wo));
      FOUNDRY_RETURN_IF_ERROR(BindVector(g, p + "attn_q.bias", h.q_dim(), &L.bq, true));
      FOUNDRY_RETURN_IF_ERROR(BindVector(g, p + "attn_k.bias", h.kv_dim(), &L.bk, true));
      FOUNDRY_RETURN_IF_ERROR(BindVector(g, p + "attn_v.bias", h.v_dim(), &L.bv, true));
      FOUNDRY_RETURN_IF_ERROR(BindVector(g, p + "ffn_norm.weight", h.n_embd, &L.ffn_norm));
      FOUNDRY_RETURN_IF_ERROR(BindMatrix(g, p + "ffn_gate.weight", h.n_embd, h.n_ff, &L.gate));
      FOUNDRY_RETURN_IF_ERROR(BindMatrix(g, p + "ffn_up.weight", h.n_embd, h.n_ff, &L.up));
      FOUNDRY_RETURN_IF_ERROR(BindMatrix(g, p + "ffn_down.weight", h.n_ff, h.n_embd, &L.down));
    }
    return OkStatus();
  }

 protected:
  void ForwardValidated(const Batch& batch, KvCache& kv, Workspace& ws, ThreadPool& pool,
                        float* logits, float* hidden) const override {
    const HParams& h = hparams();
    const int64_t n = static_cast<int64_t>(batch.size());
    const int64_t E = h.n_embd;
    const ForwardBuffers buf(h, n, 1, ws);
    float *x = buf.x, *xn = buf.xn, *q = buf.q, *k = buf.k, *v = buf.v, *attn = buf.attn;
    float *proj = buf.proj, *gate = buf.gate, *up = buf.up, *rope = buf.rope;

    GetRows(kernels(), tok_embd_, batch.tokens.data(), n, x);

    RopeParams rp;
    rp.n_rot = static_cast<int>(h.n_rot);
    rp.freq_base = h.rope_freq_base;
    rp.freq_scale = h.rope_freq_scale;
    rp.n_ctx_orig = static_cast<int>(h.n_ctx_train);
    rp.freq_factors = rope_freqs_.empty() ? nullptr : rope_freqs_.F32();
    const AttentionShape shape{h.n_head, h.n_head_kv, h.head_dim, h.head_dim_v,
                               1.0f / std::sqrt(static_cast<float>(h.head_dim))};

    for (int64_t il = 0; il < h.n_layer; ++il) {
      const LlamaLayer& L = layers_[il];
      ForEachToken(pool, n, [&](int64_t t) {
        RmsNorm(x + t * E, L.attn_norm.F32(), xn + t * E, E, h.rms_eps);
      });
      MatMuls(kernels(), {{&L.wq, q}, {&L.wk, k}, {&L.wv, v}}, xn, batch, ws, pool);
      AddBias(L.bq, q, n);
      AddBias(L.bk, k, n);
      AddBias(L.bv, v, n);
      ForEachToken(pool, n, [&](int64_t t) {
        float* cache = rope + t * h.n_rot;
        RopeCache(rp, batch.positions[t], cache);
        for (int64_t hh = 0; hh < h.n_head; ++hh)
          Rotate(q + (t * h.n_head + hh) * h.head_dim, cache);
        for (int64_t hh = 0; hh < h.n_head_kv; ++hh) {
          Rotate(k + (t * h.n_head_kv + hh) * h.head_dim, cache);
        }
      });
      StoreKv(kernels(), batch, k, v, kv, il, pool);
      Attention(kernels(), shape, batch, q, kv, il, attn, ws, pool);
      MatMul(kernels(), L.wo, attn, batch, proj, ws, pool);
      ForEachToken(pool, n, [&](int64_t t) {
        for (int64_t i = t * E; i < (t + 1) * E; ++i) x[i] += proj[i];
        RmsNorm(x + t * E, L.ffn_norm.F32(), xn + t * E, E, h.rms_eps);
      });
      MatMuls(kernels(), {{&L.gate, gate}, {&L.up, up}}, xn, batch, ws, pool);
      const int64_t F = h.n_ff;
      ForEachToken(pool, n, [&](int64_t t) {
        SwiGlu(*kernels().vector, gate + t * F, up + t * F, gate + t * F, F);
      });
      MatMul(kernels(), L.down, gate, batch, proj, ws, pool);
      ForEachToken(pool, n, [&](int64_t t) {
        for (int64_t i = t * E; i < (t + 1) * E; ++i) x[i] += proj[i];
      });
    }

    OutputHead(kernels(), x, batch, out_norm_, output_, h.rms_eps, buf.normed, hidden, logits, ws,
               pool);
  }

 private:
  void AddBias(const Tensor& b, float* y, int64_t n) const {
    if (b.empty()) return;
    const int64_t d = b.ne[0];
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t i = 0; i < d; ++i) y[t * d + i] += b.F32()[i];
    }
  }
  void Rotate(float* head, const float* cache) const {
    if (hparams().rope_layout == RopeLayout::kNeox) {
      RopeNeoxApply(head, cache, static_cast<int>(hparams().n_rot));
    } else {
      RopeNormApply(head, cache, static_cast<int>(hparams().n_rot));
    }
  }

  Tensor tok_embd_, out_norm_, output_, rope_freqs_;
  std::vector<LlamaLayer> layers_;
};

}  // namespace

StatusOr<std::unique_ptr<Model>> LoadLlamaFamily(std::shared_ptr<const GgufFile> gguf,
                                                 std::string_view arch) {
  FOUNDRY_ASSIGN_OR_RETURN(HParams h, ReadLlamaFamilyHParams(*gguf, arch));
  h.rope_layout = arch == "qwen2" ? RopeLayout::kNeox : RopeLayout::kNorm;
  auto model = std::make_unique<LlamaModel>(std::move(gguf), std::move(h));
  FOUNDRY_RETURN_IF_ERROR(model->Bind());
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace foundry
