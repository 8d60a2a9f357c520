// Phi-3 / Phi-3.5 / Phi-4-mini (`phi3`), following llama.cpp's graph: pre-norm blocks with a
// fused QKV projection (`attn_qkv`: Q rows, then K, then V) or separate Q/K/V, NEOX RoPE on
// the first `rope.dimension_count` dimensions of each head (partial rotary), Q scaled by
// 1/sqrt(head_dim) after RoPE, and a SwiGLU FFN whose gate and up halves are fused in
// `ffn_up` (2 * n_ff rows, gate first). LongRoPE: per-dimension frequency divisors
// `rope_factors_long` / `rope_factors_short`, long when the context per sequence exceeds
// `rope.scaling.original_context_length`, and `rope.scaling.attn_factor` scaling cos/sin.
// The sliding window in the metadata is read but not applied: llama.cpp (our reference)
// disables Phi-3 SWA, so every layer attends to the whole context.
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

struct Phi3Layer {
  Tensor attn_norm, wq, wk, wv, wo, ffn_norm, gate, up, down;
};

struct Phi3Params {
  int64_t n_ctx_orig = 0;    // rope.scaling.original_context_length (n_ctx_train by default)
  float attn_factor = 1.0f;  // rope.scaling.attn_factor
  int64_t n_swa = 0;         // recorded only (see above)
};

StatusOr<Phi3Params> ReadPhi3Params(const GgufFile& g, const HParams& h) {
  Phi3Params p;
  const std::string a = h.arch + ".";
  FOUNDRY_ASSIGN_OR_RETURN(auto orig, g.FindUint(a + "rope.scaling.original_context_length"));
  if (orig && (*orig == 0 || *orig > (uint64_t{1} << 24))) {
    return CorruptFile("metadata '" + a + "rope.scaling.original_context_length' = " +
                       std::to_string(*orig) + " is out of range");
  }
  p.n_ctx_orig = orig ? static_cast<int64_t>(*orig) : h.n_ctx_train;
  FOUNDRY_ASSIGN_OR_RETURN(auto attn_factor, g.FindFloat(a + "rope.scaling.attn_factor"));
  if (attn_factor) {
    if (!(*attn_factor > 0 && *attn_factor < 100)) {
      return CorruptFile("metadata '" + a + "rope.scaling.attn_factor' is out of range");
    }
    p.attn_factor = static_cast<float>(*attn_factor);
  }
  FOUNDRY_ASSIGN_OR_RETURN(auto swa, g.FindUint(a + "attention.sliding_window"));
  if (swa) p.n_swa = static_cast<int64_t>(*swa);
  return p;
}

// A view of rows [first, first + n) of a bound matrix.
Tensor RowSlice(const Tensor& t, int64_t first, int64_t n) {
  Tensor s = t;
  s.data = t.Row(first);
  s.ne[1] = n;
  return s;
}

class Phi3Model final : public Model {
 public:
  Phi3Model(std::shared_ptr<const GgufFile> gguf, HParams h, Phi3Params p)
      : Model(std::move(gguf), std::move(h)), p_(p) {}

  Status Bind() {
    const GgufFile& g = gguf();
    const HParams& h = hparams();
    FOUNDRY_RETURN_IF_ERROR(BindEmbeddingAndHead(g, h, &tok_embd_, &out_norm_, &output_));
    FOUNDRY_RETURN_IF_ERROR(BindRopeFactors(g, "rope_factors_long.weight", h.n_rot, &rope_long_));
    FOUNDRY_RETURN_IF_ERROR(BindRopeFactors(g, "rope_factors_short.weight", h.n_rot, &rope_short_));
    layers_.resize(h.n_layer);
    for (int64_t i = 0; i < h.n_layer; ++i) {
      const std::string p = "blk." + std::to_string(i) + ".";
      Phi3Layer& L = layers_[i];
      FOUNDRY_RETURN_IF_ERROR(BindVector(g, p + "attn_norm.weight", h.n_embd, &L.attn_norm));
      if (g.FindTensor(p + "attn_qkv.weight")) {
        Tensor qkv;
        const int64_t rows = h.q_dim() + h.kv_dim() + h.v_dim();
        FOUNDRY_RETURN_IF_ERROR(BindMatrix(g, p + "attn_qkv.weight", h.n_embd, rows, &qkv));
        L.wq = RowSlice(qkv, 0, h.q_dim());
        L.wk = RowSlice(qkv, h.q_dim(), h.kv_dim());
        L.wv = RowSlice(qkv, h.q_dim() + h.kv_dim(), h.v_dim());
        FOUNDRY_RETURN_IF_ERROR(
            BindMatrix(g, p + "attn_output.weight", h.n_head * h.head_dim_v, h.n_embd, &L.wo));
      } else {
        FOUNDRY_RETURN_IF_ERROR(BindAttentionProjections(g, h, p, &L.wq, &L.wk, &L.wv, &L.wo));
      }
      FOUNDRY_RETURN_IF_ERROR(BindVector(g, p + "ffn_norm.weight", h.n_embd, &L.ffn_norm));
      Tensor gate_up;
      FOUNDRY_RETURN_IF_ERROR(BindMatrix(g, p + "ffn_up.weight", h.n_embd, 2 * h.n_ff, &gate_up));
      L.gate = RowSlice(gate_up, 0, h.n_ff);
      L.up = RowSlice(gate_up, h.n_ff, h.n_ff);
      FOUNDRY_RETURN_IF_ERROR(BindMatrix(g, p + "ffn_down.weight", h.n_ff, h.n_embd, &L.down));
    }
    return OkStatus();
  }

 protected:
  void ForwardValidated(const Batch& batch, KvCache& kv, Workspace& ws, ThreadPool& pool,
                        float* logits, float* hidden) const override {
    const HParams& h = hparams();
    const int64_t n = static_cast<int64_t>(batch.size());
    const int64_t E = h.n_embd, D = h.head_dim;
    const ForwardBuffers buf(h, n, 1, ws);
    float *x = buf.x, *xn = buf.xn, *q = buf.q, *k = buf.k, *v = buf.v, *attn = buf.attn;
    float *proj = buf.proj, *gate = buf.gate, *up = buf.up, *rope = buf.rope;

    GetRows(kernels(), tok_embd_, batch.tokens.data(), n, x);

    // As llama.cpp: long factors when a sequence's context exceeds the original one.
    const Tensor& factors = kv.n_ctx() > p_.n_ctx_orig ? rope_long_ : rope_short_;
    RopeParams rp;
    rp.n_rot = static_cast<int>(h.n_rot);
    rp.freq_base = h.rope_freq_base;
    rp.freq_scale = h.rope_freq_scale;
    rp.attn_factor = p_.attn_factor;
    rp.n_ctx_orig = static_cast<int>(p_.n_ctx_orig);
    rp.freq_factors = factors.empty() ? nullptr : factors.F32();
    for (int64_t t = 0; t < n; ++t) RopeCache(rp, batch.positions[t], rope + t * h.n_rot);

    const float q_scale = 1.0f / std::sqrt(static_cast<float>(D));
    const AttentionShape shape{h.n_head, h.n_head_kv, D, h.head_dim_v, 1.0f};
    for (int64_t il = 0; il < h.n_layer; ++il) {
      const Phi3Layer& L = layers_[il];
      ForEachToken(pool, n, [&](int64_t t) {
        RmsNorm(x + t * E, L.attn_norm.F32(), xn + t * E, E, h.rms_eps);
      });
      MatMuls(kernels(), {{&L.wq, q}, {&L.wk, k}, {&L.wv, v}}, xn, batch, ws, pool);
      ForEachToken(pool, n, [&](int64_t t) {
        const float* cache = rope + t * h.n_rot;
        for (int64_t hh = 0; hh < h.n_head; ++hh) {
          float* qh = q + (t * h.n_head + hh) * D;
          RopeNeoxApply(qh, cache, static_cast<int>(h.n_rot));
          for (int64_t i = 0; i < D; ++i) qh[i] *= q_scale;
        }
        for (int64_t hh = 0; hh < h.n_head_kv; ++hh) {
          RopeNeoxApply(k + (t * h.n_head_kv + hh) * D, cache, static_cast<int>(h.n_rot));
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
  Phi3Params p_;
  Tensor tok_embd_, out_norm_, output_, rope_long_, rope_short_;
  std::vector<Phi3Layer> layers_;
};

}  // namespace

StatusOr<std::unique_ptr<Model>> LoadPhi3(std::shared_ptr<const GgufFile> gguf,
                                          std::string_view arch) {
  FOUNDRY_ASSIGN_OR_RETURN(HParams h, ReadLlamaFamilyHParams(*gguf, arch));
  h.rope_layout = RopeLayout::kNeox;
  if (h.head_dim != h.head_dim_v) return CorruptFile("phi3 needs equal key and value head sizes");
  FOUNDRY_ASSIGN_OR_RETURN(Phi3Params p, ReadPhi3Params(*gguf, h));
  auto model = std::make_unique<Phi3Model>(std::move(gguf), std::move(h), p);
  FOUNDRY_RETURN_IF_ERROR(model->Bind());
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace foundry
