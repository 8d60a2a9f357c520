#include "model/layers.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "base/fp16.h"
#include "kernels/kernels.h"
#include "kernels/ops.h"
#include "model/hparams.h"

namespace foundry {
namespace {

std::string ShapeString(const GgufTensorInfo& t) {
  std::string s = "[";
  for (uint32_t d = 0; d < t.n_dims; ++d) s += (d ? ", " : "") + std::to_string(t.ne[d]);
  return s + "]";
}

Status Bind(const GgufFile& g, const std::string& name, int64_t ne0, int64_t ne1, Tensor* t,
            bool optional, bool matrix) {
  const GgufTensorInfo* info = g.FindTensor(name);
  if (!info) {
    if (optional) return OkStatus();
    return CorruptFile("tensor '" + name + "' is missing");
  }
  const bool shape_ok = info->ne[0] == static_cast<uint64_t>(ne0) &&
                        info->ne[1] == static_cast<uint64_t>(ne1) && info->ne[2] == 1 &&
                        info->ne[3] == 1;
  if (!shape_ok) {
    return CorruptFile("tensor '" + name + "' has shape " + ShapeString(*info) + ", expected [" +
                       std::to_string(ne0) + (ne1 > 1 ? ", " + std::to_string(ne1) : "") + "]");
  }
  if (matrix) {
    const TypeTraits* tt = FindTypeTraits(info->type);
    if (!tt || !tt->vec_dot || !tt->dequantize_row) {
      return Unimplemented("tensor '" + name + "' has type " +
                           std::string(QuantTypeName(info->type)) + ", which is not supported yet");
    }
  } else if (info->type != QuantType::kF32) {
    return Unimplemented("tensor '" + name + "' must be F32, not " +
                         std::string(QuantTypeName(info->type)));
  }
  t->type = info->type;
  t->ne = {ne0, ne1, 1, 1};
  t->data = info->data;
  t->row_bytes = info->nbytes / static_cast<uint64_t>(ne1);
  return OkStatus();
}

}  // namespace

Status BindMatrix(const GgufFile& g, const std::string& name, int64_t ne0, int64_t ne1, Tensor* t,
                  bool optional) {
  return Bind(g, name, ne0, ne1, t, optional, true);
}

Status BindVector(const GgufFile& g, const std::string& name, int64_t n, Tensor* t, bool optional) {
  return Bind(g, name, n, 1, t, optional, false);
}

Status BindEmbeddingAndHead(const GgufFile& g, const HParams& h, Tensor* tok_embd, Tensor* out_norm,
                            Tensor* output) {
  FOUNDRY_RETURN_IF_ERROR(BindMatrix(g, "token_embd.weight", h.n_embd, h.n_vocab, tok_embd));
  FOUNDRY_RETURN_IF_ERROR(BindVector(g, "output_norm.weight", h.n_embd, out_norm));
  FOUNDRY_RETURN_IF_ERROR(BindMatrix(g, "output.weight", h.n_embd, h.n_vocab, output, true));
  if (output->empty()) *output = *tok_embd;  // tied embeddings
  return OkStatus();
}

Status BindAttentionProjections(const GgufFile& g, const HParams& h, const std::string& prefix,
                                Tensor* wq, Tensor* wk, Tensor* wv, Tensor* wo) {
  FOUNDRY_RETURN_IF_ERROR(BindMatrix(g, prefix + "attn_q.weight", h.n_embd, h.q_dim(), wq));
  FOUNDRY_RETURN_IF_ERROR(BindMatrix(g, prefix + "attn_k.weight", h.n_embd, h.kv_dim(), wk));
  FOUNDRY_RETURN_IF_ERROR(BindMatrix(g, prefix + "attn_v.weight", h.n_embd, h.v_dim(), wv));
  return BindMatrix(g, prefix + "attn_output.weight", h.n_head * h.head_dim_v, h.n_embd, wo);
}

void MatMul(const Tensor& w, const float* x, int64_t n_tokens, float* y, Workspace& ws,
            ThreadPool& pool) {
  const TypeTraits* wt = FindTypeTraits(w.type);
  const TypeTraits* at = FindTypeTraits(wt->vec_dot_type);
  const int64_t n_in = w.ne[0], n_out = w.ne[1];
  const size_t act_bytes = RowBytes(*at, n_in);
  uint8_t* xq = ws.Bytes(0, act_bytes * n_tokens);
  for (int64_t t = 0; t < n_tokens; ++t) at->quantize_row(x + t * n_in, xq + t * act_bytes, n_in);
  // Rows in chunks: each weight row is read once and used for every token of the batch.
  pool.ParallelFor(n_out, 16, [&](int64_t begin, int64_t end) {
    if (wt->gemm) {
      wt->gemm(n_in, w.Row(begin), w.row_bytes, end - begin, xq, act_bytes, n_tokens, y + begin,
               n_out);
      return;
    }
    for (int64_t r = begin; r < end; ++r) {
      const uint8_t* row = w.Row(r);
      for (int64_t t = 0; t < n_tokens; ++t) {
        y[t * n_out + r] = wt->vec_dot(n_in, row, xq + t * act_bytes);
      }
    }
  });
}

void GetRows(const Tensor& w, const int32_t* ids, int64_t n, float* out) {
  const TypeTraits* wt = FindTypeTraits(w.type);
  for (int64_t i = 0; i < n; ++i) wt->dequantize_row(w.Row(ids[i]), out + i * w.ne[0], w.ne[0]);
}

void StoreKv(const Batch& batch, const float* k, const float* v, KvCache& kv, int64_t layer) {
  const int64_t kd = kv.kv_dim(), vd = kv.v_dim();
  for (size_t t = 0; t < batch.size(); ++t) {
    uint16_t* kc = kv.K(layer, batch.seq_ids[t], batch.positions[t]);
    uint16_t* vc = kv.V(layer, batch.seq_ids[t], batch.positions[t]);
    for (int64_t i = 0; i < kd; ++i) kc[i] = Fp32ToFp16(k[t * kd + i]);
    for (int64_t i = 0; i < vd; ++i) vc[i] = Fp32ToFp16(v[t * vd + i]);
  }
}

// Computed in llama.cpp's order (non-flash path) so that results agree bit for bit. llama.cpp
// multiplies with tinyBLAS for batches of 2 or more tokens and with ggml_vec_dot_f16 for a
// single token, and the two sum in different orders:
// * KQ = K . Q with Q rounded to f16: tinyBLAS keeps one 8-lane accumulator per score,
//   ggml_vec_dot_f16 four (VectorKernels::dot_f16);
// * the masked softmax runs over KV cells in groups of 8 aligned to cell 0;
// * KQV with the probabilities rounded to f16: cell c feeds lane c % 8 of one accumulator
//   (tinyBLAS) or of accumulator (c / 8) % 4 (ggml_vec_dot_f16), reduced at the end.
void Attention(const AttentionShape& s, const Batch& batch, const float* q, const KvCache& kv,
               int64_t layer, float* out, Workspace& ws, ThreadPool& pool) {
  const int64_t n_tokens = static_cast<int64_t>(batch.size());
  const int64_t group = s.n_head / s.n_head_kv;
  const int64_t n_ctx = kv.n_ctx();
  const int n_threads = pool.size();
  const bool tiled = n_tokens >= 2;
  const TypeTraits* f16 = FindTypeTraits(QuantType::kF16);
  const VectorKernels& vk = ActiveVectorKernels();
  constexpr int64_t kLanes = 8;
  const int64_t n_acc = tiled ? 1 : 4;  // accumulators of kLanes lanes
  const int64_t dv = s.head_dim_v;
  // Per thread: scores over the context (padded to whole groups of 8), the query in f16, and
  // the lane accumulators of the output.
  const int64_t scores_len = n_ctx + 2 * kLanes;
  const int64_t q16_len = (s.head_dim + 1) / 2;
  const size_t per_thread = static_cast<size_t>(scores_len + q16_len + n_acc * kLanes * dv);
  float* scratch = ws.Floats(1, per_thread * n_threads);
  pool.Run([&](int ti, int nt) {
    float* scores = scratch + per_thread * ti;
    uint16_t* qh = reinterpret_cast<uint16_t*>(scores + scores_len);
    float* lanes = scores + scores_len + q16_len;
    for (int64_t job = ti; job < n_tokens * s.n_head; job += nt) {
      const int64_t t = job / s.n_head, h = job % s.n_head, kvh = h / group;
      const int64_t seq = batch.seq_ids[t], pos = batch.positions[t];
      const int64_t first =
          s.sliding_window > 0 ? std::max<int64_t>(0, pos - s.sliding_window + 1) : 0;
      const int64_t begin = first / kLanes * kLanes;  // cells [begin, first) are masked
      const int64_t n = pos + 1 - begin;
      const int64_t n_padded = (n + kLanes - 1) / kLanes * kLanes;
      const float* qsrc = q + (t * s.n_head + h) * s.head_dim;
      for (int64_t i = 0; i < s.head_dim; ++i) qh[i] = Fp32ToFp16(qsrc[i]);
      for (int64_t j = 0; j < n_padded; ++j) {
        const int64_t cell = begin + j;
        if (cell < first || cell > pos) {
          scores[j] = -INFINITY;
          continue;
        }
        const uint16_t* k = kv.K(layer, seq, cell) + kvh * s.head_dim;
        scores[j] = tiled ? f16->vec_dot(s.head_dim, k, qh) : vk.dot_f16(s.head_dim, k, qh);
      }
      SoftmaxExt(scores, n_padded, s.scale, nullptr);
      std::fill(lanes, lanes + n_acc * kLanes * dv, 0.0f);
      for (int64_t j = 0; j < n; ++j) {
        const float p = Fp16ToFp32(Fp32ToFp16(scores[j]));
        if (p == 0.0f) continue;
        const int64_t cell = begin + j;
        const int64_t lane = (cell / kLanes % n_acc) * kLanes + cell % kLanes;
        vk.axpy_f16(dv, p, kv.V(layer, seq, cell) + kvh * dv, lanes + lane * dv);
      }
      float* o = out + (t * s.n_head + h) * dv;
      for (int64_t i = 0; i < dv; ++i) {
        const float* l = lanes + i;  // l[m * dv]: lane m
        if (tiled) {                 // tinyBLAS's horizontal sum
          o[i] = ((l[0] + l[4 * dv]) + (l[2 * dv] + l[6 * dv])) +
                 ((l[dv] + l[5 * dv]) + (l[3 * dv] + l[7 * dv]));
          continue;
        }
        float r[kLanes];  // accumulators 0+2 and 1+3, then those two, lane by lane
        for (int64_t m = 0; m < kLanes; ++m) {
          r[m] = (l[m * dv] + l[(16 + m) * dv]) + (l[(8 + m) * dv] + l[(24 + m) * dv]);
        }
        o[i] = ((r[0] + r[4]) + (r[1] + r[5])) + ((r[2] + r[6]) + (r[3] + r[7]));
      }
    }
  });
}

}  // namespace foundry
