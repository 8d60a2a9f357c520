// Gemma 3 (`gemma3`), following llama.cpp's graph: embeddings scaled by sqrt(n_embd);
// per layer RMSNorm -> Q/K/V -> per-head RMSNorm of Q and K -> NEOX RoPE -> Q scaled by
// 1/sqrt(head_dim) -> attention (sliding-window on 5 of every 6 layers, with their own RoPE
// base) -> RMSNorm of the attention output -> residual -> RMSNorm -> GeGLU FFN (tanh GELU)
// -> RMSNorm of the FFN output -> residual; final RMSNorm; output head tied to the
// embeddings when absent. The GGUF converter already folds Gemma's (1 + w) into the norm
// weights, so every norm is a plain RMSNorm times its weight.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/ops.h"
#include "model/arch_registry.h"
#include "model/forward_buffers.h"
#include "model/layers.h"

namespace foundry {
namespace {

struct Gemma3Layer {
  Tensor attn_norm, wq, wk, wv, q_norm, k_norm, wo, post_attn_norm;
  Tensor ffn_norm, gate, up, down, post_ffn_norm;
};

// Gemma 3 settings beyond the llama-family hyper-parameters.
struct Gemma3Params {
  int64_t n_swa = 0;        // sliding window (0: every layer attends to all positions)
  int64_t swa_pattern = 6;  // layer il is sliding-window iff il % pattern < pattern - 1
  float rope_freq_base_swa = 10000.0f;
  float attn_scale = 1.0f;           // applied to Q after RoPE (f_attention_scale)
  float final_logit_softcap = 0.0f;  // > 0: logits = cap * tanh(logits / cap)

  bool IsSwa(int64_t il) const {
    return n_swa > 0 && (swa_pattern == 0 || il % swa_pattern < swa_pattern - 1);
  }
};

StatusOr<Gemma3Params> ReadGemma3Params(const GgufFile& g, const HParams& h) {
  Gemma3Params p;
  const std::string a = h.arch + ".";
  FOUNDRY_ASSIGN_OR_RETURN(auto swa, g.FindUint(a + "attention.sliding_window"));
  if (swa && *swa > (uint64_t{1} << 24)) {
    return CorruptFile("metadata '" + a + "attention.sliding_window' = " + std::to_string(*swa) +
                       " is out of range");
  }
  p.n_swa = swa ? static_cast<int64_t>(*swa) : 0;
  if (p.n_swa > 0) {
    // Newer converters may record the pattern and the local RoPE base; Gemma 3's defaults
    // (every 6th layer global, local base 10000) are what llama.cpp assumes otherwise.
    FOUNDRY_ASSIGN_OR_RETURN(auto pattern, g.FindUint(a + "attention.sliding_window_pattern"));
    if (pattern) {
      if (*pattern > 1024) return CorruptFile("attention.sliding_window_pattern is out of range");
      p.swa_pattern = static_cast<int64_t>(*pattern);
    }
    FOUNDRY_ASSIGN_OR_RETURN(auto base_swa, g.FindFloat(a + "rope.freq_base_swa"));
    if (base_swa) p.rope_freq_base_swa = static_cast<float>(*base_swa);
    if (!(p.rope_freq_base_swa > 0)) return CorruptFile("rope.freq_base_swa must be positive");
  } else {
    FOUNDRY_ASSIGN_OR_RETURN(auto cap, g.FindFloat(a + "final_logit_softcapping"));
    if (cap && *cap > 0) p.final_logit_softcap = static_cast<float>(*cap);
  }
  // llama.cpp (after gemma_pytorch's config): 27B scales by 1/sqrt(n_embd / n_head), the
  // others by 1/sqrt(head_dim).
  const bool is_27b = h.n_layer == 62;
  p.attn_scale = is_27b ? 1.0f / std::sqrt(static_cast<float>(h.n_embd / h.n_head))
                        : 1.0f / std::sqrt(static_cast<float>(h.head_dim));
  return p;
}

class Gemma3Model final : public Model {
 public:
  Gemma3Model(std::shared_ptr<const GgufFile> gguf, HParams h, Gemma3Params p)
      : Model(std::move(gguf), std::move(h)), p_(p) {}

  Status Bind() {
    const GgufFile& g = gguf();
    const HParams& h = hparams();
    FOUNDRY_RETURN_IF_ERROR(BindEmbeddingAndHead(g, h, &tok_embd_, &out_norm_, &output_));
    layers_.resize(h.n_layer);
    for (int64_t i = 0; i < h.n_layer; ++i) {
      const std::string p = "blk." + std::to_string(i) + ".";
      Gemma3Layer& L = layers_[i];
      FOUNDRY_RETURN_IF_ERROR(BindVector(g, p + "attn_norm.weight", h.n_embd, &L.attn_norm));
      FOUNDRY_RETURN_IF_ERROR(BindAttentionProjections(g, h, p, &L.wq, &L.wk, &L.wv, &L.wo));
      FOUNDRY_RETURN_IF_ERROR(BindVector(g, p + "attn_q_norm.weight", h.head_dim, &L.q_norm));
      FOUNDRY_RETURN_IF_ERROR(BindVector(g, p + "attn_k_norm.weight", h.head_dim, &L.k_norm));
      FOUNDRY_RETURN_IF_ERROR(
          BindVector(g, p + "post_attention_norm.weight", h.n_embd, &L.post_attn_norm));
      FOUNDRY_RETURN_IF_ERROR(BindVector(g, p + "ffn_norm.weight", h.n_embd, &L.ffn_norm));
      FOUNDRY_RETURN_IF_ERROR(BindMatrix(g, p + "ffn_gate.weight", h.n_embd, h.n_ff, &L.gate));
      FOUNDRY_RETURN_IF_ERROR(BindMatrix(g, p + "ffn_up.weight", h.n_embd, h.n_ff, &L.up));
      FOUNDRY_RETURN_IF_ERROR(BindMatrix(g, p + "ffn_down.weight", h.n_ff, h.n_embd, &L.down));
      FOUNDRY_RETURN_IF_ERROR(
          BindVector(g, p + "post_ffw_norm.weight", h.n_embd, &L.post_ffn_norm));
    }
    return OkStatus();
  }

 protected:
  void ForwardValidated(const Batch& batch, KvCache& kv, Workspace& ws, ThreadPool& pool,
                        float* logits, float* hidden) const override {
    const HParams& h = hparams();
    const int64_t n = static_cast<int64_t>(batch.size());
    const int64_t E = h.n_embd, D = h.head_dim;
    const ForwardBuffers buf(h, n, 2, ws);
    float *x = buf.x, *xn = buf.xn, *q = buf.q, *k = buf.k, *v = buf.v, *attn = buf.attn;
    float *proj = buf.proj, *gate = buf.gate, *up = buf.up, *rope = buf.rope;
    float* rope_swa = rope + n * h.n_rot;  // the sliding-window layers' RoPE tables

    GetRows(kernels(), tok_embd_, batch.tokens.data(), n, x);
    const float embd_scale = std::sqrt(static_cast<float>(E));
    for (int64_t i = 0; i < n * E; ++i) x[i] *= embd_scale;

    RopeParams rp;
    rp.n_rot = static_cast<int>(h.n_rot);
    rp.freq_base = h.rope_freq_base;
    rp.freq_scale = h.rope_freq_scale;
    rp.n_ctx_orig = static_cast<int>(h.n_ctx_train);
    RopeParams rp_swa = rp;
    rp_swa.freq_base = p_.rope_freq_base_swa;
    rp_swa.freq_scale = 1.0f;
    for (int64_t t = 0; t < n; ++t) {
      RopeCache(rp, batch.positions[t], rope + t * h.n_rot);
      RopeCache(rp_swa, batch.positions[t], rope_swa + t * h.n_rot);
    }

    for (int64_t il = 0; il < h.n_layer; ++il) {
      const Gemma3Layer& L = layers_[il];
      const bool swa = p_.IsSwa(il);
      const float* rope_l = swa ? rope_swa : rope;
      ForEachToken(pool, n, [&](int64_t t) {
        RmsNorm(x + t * E, L.attn_norm.F32(), xn + t * E, E, h.rms_eps);
      });
      MatMuls(kernels(), {{&L.wq, q}, {&L.wk, k}, {&L.wv, v}}, xn, batch, ws, pool);
      ForEachToken(pool, n, [&](int64_t t) {
        const float* cache = rope_l + t * h.n_rot;
        for (int64_t hh = 0; hh < h.n_head; ++hh) {
          float* qh = q + (t * h.n_head + hh) * D;
          RmsNorm(qh, L.q_norm.F32(), qh, D, h.rms_eps);
          RopeNeoxApply(qh, cache, static_cast<int>(h.n_rot));
          for (int64_t i = 0; i < D; ++i) qh[i] *= p_.attn_scale;
        }
        for (int64_t hh = 0; hh < h.n_head_kv; ++hh) {
          float* kh = k + (t * h.n_head_kv + hh) * D;
          RmsNorm(kh, L.k_norm.F32(), kh, D, h.rms_eps);
          RopeNeoxApply(kh, cache, static_cast<int>(h.n_rot));
        }
      });
      StoreKv(kernels(), batch, k, v, kv, il, pool);
      AttentionShape shape{h.n_head, h.n_head_kv, D, h.head_dim_v, 1.0f};
      shape.sliding_window = swa ? p_.n_swa : 0;
      Attention(kernels(), shape, batch, q, kv, il, attn, ws, pool);
      MatMul(kernels(), L.wo, attn, batch, proj, ws, pool);
      ForEachToken(pool, n, [&](int64_t t) {
        RmsNorm(proj + t * E, L.post_attn_norm.F32(), proj + t * E, E, h.rms_eps);
        for (int64_t i = t * E; i < (t + 1) * E; ++i) x[i] += proj[i];
        RmsNorm(x + t * E, L.ffn_norm.F32(), xn + t * E, E, h.rms_eps);
      });
      MatMuls(kernels(), {{&L.gate, gate}, {&L.up, up}}, xn, batch, ws, pool);
      const int64_t F = h.n_ff;
      ForEachToken(pool, n, [&](int64_t t) {
        GeGlu(*kernels().vector, gate + t * F, up + t * F, gate + t * F, F);
      });
      MatMul(kernels(), L.down, gate, batch, proj, ws, pool);
      ForEachToken(pool, n, [&](int64_t t) {
        RmsNorm(proj + t * E, L.post_ffn_norm.F32(), proj + t * E, E, h.rms_eps);
        for (int64_t i = t * E; i < (t + 1) * E; ++i) x[i] += proj[i];
      });
    }

    const int64_t n_out = OutputHead(kernels(), x, batch, out_norm_, output_, h.rms_eps, buf.normed,
                                     hidden, logits, ws, pool);
    if (logits && p_.final_logit_softcap > 0) {
      const float cap = p_.final_logit_softcap, inv = 1.0f / cap;
      const int64_t total = n_out * h.n_vocab;
      for (int64_t i = 0; i < total; ++i) logits[i] = std::tanh(logits[i] * inv) * cap;
    }
  }

 private:
  Gemma3Params p_;
  Tensor tok_embd_, out_norm_, output_;
  std::vector<Gemma3Layer> layers_;
};

}  // namespace

StatusOr<std::unique_ptr<Model>> LoadGemma3(std::shared_ptr<const GgufFile> gguf,
                                            std::string_view arch) {
  FOUNDRY_ASSIGN_OR_RETURN(HParams h, ReadLlamaFamilyHParams(*gguf, arch));
  h.rope_layout = RopeLayout::kNeox;
  FOUNDRY_ASSIGN_OR_RETURN(Gemma3Params p, ReadGemma3Params(*gguf, h));
  auto model = std::make_unique<Gemma3Model>(std::move(gguf), std::move(h), p);
  FOUNDRY_RETURN_IF_ERROR(model->Bind());
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace foundry
