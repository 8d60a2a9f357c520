// Building blocks shared by the architectures: weight binding with validation, batched
// matrix multiplication, embedding lookup and causal attention over the KV cache. The blocks
// that compute take the model's Kernels (Model::kernels()): the ISA it was loaded for.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "base/status.h"
#include "base/thread_pool.h"
#include "format/gguf_file.h"
#include "kernels/kernels.h"
#include "kv/kv_cache.h"
#include "model/batch.h"
#include "model/tensor.h"
#include "model/workspace.h"

namespace foundry {

// Binds tensor `name` with shape [ne0, ne1] (ne1 = 1 for vectors). A matrix must have a type
// with a dot-product kernel; a vector must be F32. Missing optional tensors stay empty.
Status BindMatrix(const GgufFile& g, const std::string& name, int64_t ne0, int64_t ne1, Tensor* t,
                  bool optional = false);
Status BindVector(const GgufFile& g, const std::string& name, int64_t n, Tensor* t,
                  bool optional = false);

struct HParams;
// The token embeddings, final norm and output head; the head is tied to the embeddings when
// the file has no output.weight.
Status BindEmbeddingAndHead(const GgufFile& g, const HParams& h, Tensor* tok_embd, Tensor* out_norm,
                            Tensor* output);
// The four attention projections of the layer whose tensor names start with `prefix`.
Status BindAttentionProjections(const GgufFile& g, const HParams& h, const std::string& prefix,
                                Tensor* wq, Tensor* wk, Tensor* wv, Tensor* wo);

// Workspace slots below kLayerSlots are reserved for these helpers.
inline constexpr int kLayerSlots = 4;

// y[t][r] = dot(W row r, x[t]) for t < n_tokens, r < W.ne[1]; x is [n_tokens][W.ne[0]].
// Activations are quantized once to the kernel's activation type, as llama.cpp does. Each
// output is the same whatever the other tokens (the kernels are batch-invariant), so a
// sequence's results never depend on the sequences sharing the batch.
void MatMul(const Kernels& k, const Tensor& w, const float* x, int64_t n_tokens, float* y,
            Workspace& ws, ThreadPool& pool);

// One matrix of MatMuls: y = W x, y laid out as MatMul's.
struct MatMulOut {
  const Tensor* w;
  float* y;
};

// MatMul for up to kLayerSlots matrices of the same input (q/k/v; gate/up), with the same
// results: the input is quantized once per activation type, and one parallel loop covers the
// rows of all of them, so the threads meet once instead of once per matrix.
void MatMuls(const Kernels& k, std::initializer_list<MatMulOut> outs, const float* x,
             int64_t n_tokens, Workspace& ws, ThreadPool& pool);

// The end of a forward pass, for the tokens of the batch that asked for outputs only: their
// final RMS norm of x ([n_tokens][n_embd]) into `normed` ([n_outputs][n_embd] scratch), copied
// to `hidden` when set, and their logits (output . normed) when `logits` is set. Returns the
// number of outputs.
int64_t OutputHead(const Kernels& k, const float* x, const Batch& batch, const Tensor& out_norm,
                   const Tensor& output, float rms_eps, float* normed, float* hidden, float* logits,
                   Workspace& ws, ThreadPool& pool);

// out[i] = row ids[i] of the embedding matrix, dequantized.
void GetRows(const Kernels& k, const Tensor& w, const int32_t* ids, int64_t n, float* out);

// Causal attention for every token of the batch against its own sequence in `kv`
// (positions 0..pos inclusive; the batch's keys/values must already be stored). Each token's
// result is the same whatever else the batch holds (one summation order for every batch).
// q: [n_tokens][n_head * head_dim]; out: [n_tokens][n_head * head_dim_v].
struct AttentionShape {
  int64_t n_head, n_head_kv, head_dim, head_dim_v;
  float scale;
  int64_t sliding_window = 0;  // > 0: only the last `sliding_window` positions are visible
};
void Attention(const Kernels& k, const AttentionShape& s, const Batch& batch, const float* q,
               const KvCache& kv, int64_t layer, float* out, Workspace& ws, ThreadPool& pool);

// Stores the batch's keys and values (f32 rows) into the cache as f16.
void StoreKv(const Kernels& kernels, const Batch& batch, const float* k, const float* v,
             KvCache& kv, int64_t layer, ThreadPool& pool);

// fn(t) for every token t < n, the tokens split over the pool (inline for a few tokens): the
// per-token steps between matrix multiplications, which would otherwise leave all threads but
// one idle while prompts are processed.
void ForEachToken(ThreadPool& pool, int64_t n, FunctionRef<void(int64_t t)> fn);

}  // namespace foundry
