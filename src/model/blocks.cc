#include "model/blocks.h"

#include <string>

#include "model/layers.h"

namespace foundry {
namespace {

// A view of rows [first, first + n) of a bound matrix.
Tensor RowSlice(const Tensor& t, int64_t first, int64_t n) {
  Tensor s = t;
  s.data = t.Row(first);
  s.ne[1] = n;
  return s;
}

Status BindAttention(const GgufFile& g, const HParams& h, const std::string& p,
                     const LayerTensors& which, DecoderLayerWeights* L) {
  if (which.fused_qkv && g.FindTensor(p + "attn_qkv.weight")) {
    Tensor qkv;
    const int64_t rows = h.q_dim() + h.kv_dim() + h.v_dim();
    FOUNDRY_RETURN_IF_ERROR(BindMatrix(g, p + "attn_qkv.weight", h.n_embd, rows, &qkv));
    L->wq = RowSlice(qkv, 0, h.q_dim());
    L->wk = RowSlice(qkv, h.q_dim(), h.kv_dim());
    L->wv = RowSlice(qkv, h.q_dim() + h.kv_dim(), h.v_dim());
    FOUNDRY_RETURN_IF_ERROR(
        BindMatrix(g, p + "attn_output.weight", h.n_head * h.head_dim_v, h.n_embd, &L->wo));
  } else {
    FOUNDRY_RETURN_IF_ERROR(BindAttentionProjections(g, h, p, &L->wq, &L->wk, &L->wv, &L->wo));
  }
  if (which.qkv_bias) {
    FOUNDRY_RETURN_IF_ERROR(BindVector(g, p + "attn_q.bias", h.q_dim(), &L->bq, true));
    FOUNDRY_RETURN_IF_ERROR(BindVector(g, p + "attn_k.bias", h.kv_dim(), &L->bk, true));
    FOUNDRY_RETURN_IF_ERROR(BindVector(g, p + "attn_v.bias", h.v_dim(), &L->bv, true));
  }
  if (which.qk_norm) {
    FOUNDRY_RETURN_IF_ERROR(BindVector(g, p + "attn_q_norm.weight", h.head_dim, &L->q_norm));
    FOUNDRY_RETURN_IF_ERROR(BindVector(g, p + "attn_k_norm.weight", h.head_dim, &L->k_norm));
  }
  if (which.post_norms) {
    FOUNDRY_RETURN_IF_ERROR(
        BindVector(g, p + "post_attention_norm.weight", h.n_embd, &L->post_attn_norm));
  }
  return OkStatus();
}

Status BindFeedForward(const GgufFile& g, const HParams& h, const std::string& p,
                       const LayerTensors& which, DecoderLayerWeights* L) {
  FOUNDRY_RETURN_IF_ERROR(BindVector(g, p + "ffn_norm.weight", h.n_embd, &L->ffn_norm));
  if (which.fused_gate_up) {
    Tensor gate_up;
    FOUNDRY_RETURN_IF_ERROR(BindMatrix(g, p + "ffn_up.weight", h.n_embd, 2 * h.n_ff, &gate_up));
    L->gate = RowSlice(gate_up, 0, h.n_ff);
    L->up = RowSlice(gate_up, h.n_ff, h.n_ff);
  } else {
    FOUNDRY_RETURN_IF_ERROR(BindMatrix(g, p + "ffn_gate.weight", h.n_embd, h.n_ff, &L->gate));
    FOUNDRY_RETURN_IF_ERROR(BindMatrix(g, p + "ffn_up.weight", h.n_embd, h.n_ff, &L->up));
  }
  FOUNDRY_RETURN_IF_ERROR(BindMatrix(g, p + "ffn_down.weight", h.n_ff, h.n_embd, &L->down));
  if (which.post_norms) {
    FOUNDRY_RETURN_IF_ERROR(BindVector(g, p + "post_ffw_norm.weight", h.n_embd, &L->post_ffn_norm));
  }
  return OkStatus();
}

// One head of Q or K: its norm, RoPE and scale, in llama.cpp's order.
void PrepareHead(const HParams& h, const Tensor& norm, const float* cache, float scale,
                 float* head) {
  if (!norm.empty()) RmsNorm(head, norm.F32(), head, h.head_dim, h.rms_eps);
  if (h.rope_layout == RopeLayout::kNeox) {
    RopeNeoxApply(head, cache, static_cast<int>(h.n_rot));
  } else {
    RopeNormApply(head, cache, static_cast<int>(h.n_rot));
  }
  if (scale != 1.0f) {
    for (int64_t i = 0; i < h.head_dim; ++i) head[i] *= scale;
  }
}

void AddBias(const Tensor& b, float* y) {
  if (b.empty()) return;
  for (int64_t i = 0; i < b.ne[0]; ++i) y[i] += b.F32()[i];
}

}  // namespace

Status BindDecoderLayer(const GgufFile& g, const HParams& h, int64_t il, const LayerTensors& which,
                        DecoderLayerWeights* layer) {
  const std::string p = "blk." + std::to_string(il) + ".";
  FOUNDRY_RETURN_IF_ERROR(BindVector(g, p + "attn_norm.weight", h.n_embd, &layer->attn_norm));
  FOUNDRY_RETURN_IF_ERROR(BindAttention(g, h, p, which, layer));
  return BindFeedForward(g, h, p, which, layer);
}

RopeParams BaseRopeParams(const HParams& h) {
  RopeParams rp;
  rp.n_rot = static_cast<int>(h.n_rot);
  rp.freq_base = h.rope_freq_base;
  rp.freq_scale = h.rope_freq_scale;
  rp.n_ctx_orig = static_cast<int>(h.n_ctx_train);
  return rp;
}

void AttentionInput(const Kernels& k, const HParams& h, const DecoderLayerWeights& L,
                    const Batch& batch, const float* rope, float q_scale, int64_t il,
                    const ForwardBuffers& buf, KvCache& kv, Workspace& ws, ThreadPool& pool) {
  const int64_t n = static_cast<int64_t>(batch.size());
  const int64_t E = h.n_embd, D = h.head_dim;
  ForEachToken(pool, n, [&](int64_t t) {
    RmsNorm(buf.x + t * E, L.attn_norm.F32(), buf.xn + t * E, E, h.rms_eps);
  });
  MatMuls(k, {{&L.wq, buf.q}, {&L.wk, buf.k}, {&L.wv, buf.v}}, buf.xn, n, ws, pool);
  ForEachToken(pool, n, [&](int64_t t) {
    float* q = buf.q + t * h.q_dim();
    float* k = buf.k + t * h.kv_dim();
    AddBias(L.bq, q);
    AddBias(L.bk, k);
    AddBias(L.bv, buf.v + t * h.v_dim());
    const float* cache = rope + t * h.n_rot;
    for (int64_t hh = 0; hh < h.n_head; ++hh) PrepareHead(h, L.q_norm, cache, q_scale, q + hh * D);
    for (int64_t hh = 0; hh < h.n_head_kv; ++hh) PrepareHead(h, L.k_norm, cache, 1.0f, k + hh * D);
  });
  StoreKv(k, batch, buf.k, buf.v, kv, il, pool);
}

void FeedForward(const Kernels& k, const HParams& h, const DecoderLayerWeights& L,
                 FfnActivation activation, const Batch& batch, const ForwardBuffers& buf,
                 Workspace& ws, ThreadPool& pool) {
  const int64_t n = static_cast<int64_t>(batch.size());
  const int64_t F = h.n_ff;
  float *gate = buf.gate, *up = buf.up;
  MatMuls(k, {{&L.gate, gate}, {&L.up, up}}, buf.xn, n, ws, pool);
  ForEachToken(pool, n, [&](int64_t t) {
    if (activation == FfnActivation::kGeGlu) {
      GeGlu(*k.vector, gate + t * F, up + t * F, gate + t * F, F);
    } else {
      SwiGlu(*k.vector, gate + t * F, up + t * F, gate + t * F, F);
    }
  });
  MatMul(k, L.down, gate, n, buf.proj, ws, pool);
}

}  // namespace foundry
