// The blocks of a pre-norm decoder layer that every architecture here is made of: its weights
// (bound by name, optional parts left empty), the attention input (norm, Q/K/V with optional
// biases and per-head norms, RoPE, Q scale, KV store) and the gated feed-forward network.
// The blocks follow llama.cpp's graph operation by operation, so results agree bit for bit.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "base/thread_pool.h"
#include "format/gguf_file.h"
#include "kernels/ops.h"
#include "kv/kv_cache.h"
#include "model/batch.h"
#include "model/forward_buffers.h"
#include "model/hparams.h"
#include "model/tensor.h"
#include "model/workspace.h"

namespace foundry {

enum class FfnActivation { kSwiGlu, kGeGlu };

// Which tensors a layer has beyond the common ones, and how they are stored.
struct LayerTensors {
  bool qkv_bias = false;       // optional attn_{q,k,v}.bias (qwen2)
  bool fused_qkv = false;      // attn_qkv.weight (Q rows, then K, then V) when present (phi3)
  bool fused_gate_up = false;  // ffn_up.weight holds the gate rows, then the up rows (phi3)
  bool qk_norm = false;        // attn_{q,k}_norm.weight: per-head RMSNorm of Q and K (gemma3)
  bool post_norms = false;     // post_attention_norm, post_ffw_norm (gemma3)
};

// One layer's weights; the optional ones are empty when the architecture or file has none.
struct DecoderLayerWeights {
  Tensor attn_norm, wq, wk, wv, wo;
  Tensor bq, bk, bv;      // QKV biases
  Tensor q_norm, k_norm;  // per-head norms of Q and K, before RoPE
  Tensor post_attn_norm;  // norm of the attention output, before the residual
  Tensor ffn_norm, gate, up, down;
  Tensor post_ffn_norm;  // norm of the FFN output, before the residual
};

// Binds layer `il` (tensors named blk.<il>.*).
Status BindDecoderLayer(const GgufFile& g, const HParams& h, int64_t il, const LayerTensors& which,
                        DecoderLayerWeights* layer);

// The RoPE settings every architecture starts from: the hyper-parameters' rotated dimensions,
// base and linear scale, and the training context as the original one.
RopeParams BaseRopeParams(const HParams& h);

// The attention input of one layer for the n tokens of `batch`: x -> RMSNorm -> Q, K, V
// (+ biases) -> per-head norms -> RoPE with the tables in `rope` ([n][n_rot]) -> Q times
// q_scale (1: left alone); Q stays in buf.q, K and V are stored into `kv`.
void AttentionInput(const Kernels& k, const HParams& h, const DecoderLayerWeights& layer,
                    const Batch& batch, const float* rope, float q_scale, int64_t il,
                    const ForwardBuffers& buf, KvCache& kv, Workspace& ws, ThreadPool& pool);

// The gated feed-forward network of n tokens: buf.xn -> gate, up -> act(gate) * up -> down
// into buf.proj (the post-FFN norm and the residual are the caller's).
void FeedForward(const Kernels& k, const HParams& h, const DecoderLayerWeights& layer,
                 FfnActivation activation, const Batch& batch, const ForwardBuffers& buf,
                 Workspace& ws, ThreadPool& pool);

}  // namespace foundry
