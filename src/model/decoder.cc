#include "model/decoder.h"

#include <cmath>
#include <utility>
#include <vector>

#include "model/forward_buffers.h"
#include "model/layers.h"
#include "model/repacked_weights.h"
#include "model/rope_factors.h"

namespace foundry {
namespace {

// A RopeSpec with its factor tensors bound.
struct BoundRope {
  RopeParams params;
  Tensor factors, long_factors;
  int64_t long_past_ctx = 0;

  // As llama.cpp: the long factors when a sequence's context exceeds the original one.
  RopeParams For(int64_t n_ctx) const {
    RopeParams p = params;
    const Tensor& f = long_past_ctx > 0 && n_ctx > long_past_ctx ? long_factors : factors;
    p.freq_factors = f.empty() ? nullptr : f.F32();
    return p;
  }
};

Status BindRope(const GgufFile& g, const HParams& h, const RopeSpec& spec, BoundRope* rope) {
  rope->params = spec.params;
  rope->long_past_ctx = spec.long_factors.empty() ? 0 : spec.long_past_ctx;
  if (!spec.long_factors.empty()) {
    FOUNDRY_RETURN_IF_ERROR(BindRopeFactors(g, spec.long_factors, h.n_rot, &rope->long_factors));
  }
  if (spec.factors.empty()) return OkStatus();
  return BindRopeFactors(g, spec.factors, h.n_rot, &rope->factors);
}

class DecoderModel final : public Model {
 public:
  DecoderModel(std::shared_ptr<const GgufFile> gguf, HParams h, DecoderSpec spec)
      : Model(std::move(gguf), std::move(h)), spec_(std::move(spec)) {}

  Status Bind() {
    const GgufFile& g = gguf();
    const HParams& h = hparams();
    FOUNDRY_RETURN_IF_ERROR(BindEmbeddingAndHead(g, h, &tok_embd_, &out_norm_, &output_));
    FOUNDRY_RETURN_IF_ERROR(BindRope(g, h, spec_.rope, &rope_));
    if (spec_.sliding_window > 0)
      FOUNDRY_RETURN_IF_ERROR(BindRope(g, h, spec_.rope_swa, &rope_swa_));
    layers_.resize(h.n_layer);
    for (int64_t il = 0; il < h.n_layer; ++il) {
      FOUNDRY_RETURN_IF_ERROR(BindDecoderLayer(g, h, il, spec_.tensors, &layers_[il]));
    }
    return OkStatus();
  }

 protected:
  // The matrices only MatMuls reads: every layer's projections and an output head of its own
  // (a tied one is the token embedding, whose rows GetRows reads).
  void RepackWeights(const Kernels& k, ThreadPool& pool) override {
    for (DecoderLayerWeights& L : layers_) {
      for (Tensor* t : {&L.wq, &L.wk, &L.wv, &L.wo, &L.gate, &L.up, &L.down}) {
        if (!t->empty()) repacked_.Repack(k, gguf(), t, pool);
      }
    }
    if (output_.data != tok_embd_.data) repacked_.Repack(k, gguf(), &output_, pool);
  }

  void ForwardValidated(const Batch& batch, KvCache& kv, Workspace& ws, ThreadPool& pool,
                        float* logits, float* hidden) const override {
    const HParams& h = hparams();
    const int64_t n = static_cast<int64_t>(batch.size());
    const int64_t E = h.n_embd;
    const bool has_swa = spec_.sliding_window > 0;
    const ForwardBuffers buf(h, n, has_swa ? 2 : 1, ws);
    float *x = buf.x, *proj = buf.proj;
    float* rope_swa = buf.rope + n * h.n_rot;  // the sliding-window layers' RoPE tables

    const Kernels& k = kernels();
    GetRows(k, tok_embd_, batch.tokens.data(), n, x);
    if (spec_.scale_embeddings) {
      const float embd_scale = std::sqrt(static_cast<float>(E));
      for (int64_t i = 0; i < n * E; ++i) x[i] *= embd_scale;
    }

    const RopeParams rp = rope_.For(kv.n_ctx());
    const RopeParams rp_swa = rope_swa_.For(kv.n_ctx());
    for (int64_t t = 0; t < n; ++t) {
      RopeCache(rp, batch.positions[t], buf.rope + t * h.n_rot);
      if (has_swa) RopeCache(rp_swa, batch.positions[t], rope_swa + t * h.n_rot);
    }

    for (int64_t il = 0; il < h.n_layer; ++il) {
      const DecoderLayerWeights& L = layers_[il];
      const bool swa = spec_.IsSwa(il);
      AttentionInput(k, h, L, batch, swa ? rope_swa : buf.rope, spec_.q_scale, il, buf, kv, ws,
                     pool);
      AttentionShape shape{h.n_head, h.n_head_kv, h.head_dim, h.head_dim_v, spec_.attn_scale};
      shape.sliding_window = swa ? spec_.sliding_window : 0;
      Attention(k, shape, batch, buf.q, kv, il, buf.attn, ws, pool);
      MatMul(k, L.wo, buf.attn, n, proj, ws, pool);
      ForEachToken(pool, n, [&](int64_t t) {
        AddResidual(L.post_attn_norm, proj + t * E, x + t * E);
        RmsNorm(x + t * E, L.ffn_norm.F32(), buf.xn + t * E, E, h.rms_eps);
      });
      FeedForward(k, h, L, spec_.ffn, batch, buf, ws, pool);
      ForEachToken(pool, n,
                   [&](int64_t t) { AddResidual(L.post_ffn_norm, proj + t * E, x + t * E); });
    }

    const int64_t n_out = OutputHead(k, x, batch, out_norm_, output_, h.rms_eps, buf.normed, hidden,
                                     logits, ws, pool);
    if (logits && spec_.final_logit_softcap > 0) {
      const float cap = spec_.final_logit_softcap, inv = 1.0f / cap;
      const int64_t total = n_out * h.n_vocab;
      for (int64_t i = 0; i < total; ++i) logits[i] = std::tanh(logits[i] * inv) * cap;
    }
  }

 private:
  // x += norm(y) (y normalized in place) when the layer has that norm, else x += y.
  void AddResidual(const Tensor& norm, float* y, float* x) const {
    const HParams& h = hparams();
    if (!norm.empty()) RmsNorm(y, norm.F32(), y, h.n_embd, h.rms_eps);
    for (int64_t i = 0; i < h.n_embd; ++i) x[i] += y[i];
  }

  DecoderSpec spec_;
  Tensor tok_embd_, out_norm_, output_;
  BoundRope rope_, rope_swa_;
  std::vector<DecoderLayerWeights> layers_;
  RepackedWeights repacked_;
};

}  // namespace

StatusOr<std::unique_ptr<Model>> LoadDecoder(std::shared_ptr<const GgufFile> gguf, HParams h,
                                             DecoderSpec spec) {
  auto model = std::make_unique<DecoderModel>(std::move(gguf), std::move(h), std::move(spec));
  FOUNDRY_RETURN_IF_ERROR(model->Bind());
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace foundry
