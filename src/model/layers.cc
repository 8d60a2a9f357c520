#include "model/layers.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

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
    // Every ISA supports the same types: the scalar table says which.
    const TypeTraits* tt = FindRefTypeTraits(info->type);
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

namespace {

// MatMuls hands rows to threads in units of this many (a repacked group, Tensor::repacked8).
constexpr int64_t kRowUnit = 8;

// One matrix of MatMuls, its input quantized.
struct MatMulPart {
  const TypeTraits* wt;
  const uint8_t* xq;
  size_t act_bytes;
  int64_t first, n_out;  // rows [first, first + n_out) of the combined range
  bool repacked8;        // the weights are in groups of 8 rows (Tensor::repacked8)
};

// The gemm of a part (nullptr: vec_dot per output). Every kernel sums each output in one order
// whatever the number of tokens, so the choice depends on the layout only.
GemmFn GemmOf(const MatMulPart& p) { return p.repacked8 ? p.wt->gemm_repacked8 : p.wt->gemm; }

// Outputs [lo, hi) of a part for every token.
void MultiplyRows(const MatMulPart& p, const MatMulOut& o, int64_t lo, int64_t hi,
                  int64_t n_tokens) {
  const int64_t n_in = o.w->ne[0];
  const uint8_t* xq = p.xq;
  float* y = o.y;
  if (const GemmFn gemm = GemmOf(p)) {
    gemm({.n = n_in,
          .w = o.w->Row(lo),
          .w_stride = o.w->row_bytes,
          .n_rows = hi - lo,
          .a = xq,
          .a_stride = p.act_bytes,
          .n_tokens = n_tokens,
          .y = y + lo,
          .ldy = p.n_out});
    return;
  }
  for (int64_t r = lo; r < hi; ++r) {
    for (int64_t t = 0; t < n_tokens; ++t) {
      y[t * p.n_out + r] = p.wt->vec_dot(n_in, o.w->Row(r), xq + t * p.act_bytes);
    }
  }
}

}  // namespace

void MatMuls(const Kernels& k, std::initializer_list<MatMulOut> outs, const float* x,
             int64_t n_tokens, Workspace& ws, ThreadPool& pool) {
  FOUNDRY_CHECK(outs.size() >= 1 && outs.size() <= kLayerSlots);
  const int64_t n_in = outs.begin()->w->ne[0];
  MatMulPart parts[kLayerSlots];
  QuantType act_types[kLayerSlots];
  const uint8_t* act_rows[kLayerSlots];
  int n_parts = 0, n_acts = 0;
  int64_t total = 0;
  for (const MatMulOut& o : outs) {
    FOUNDRY_CHECK(o.w->ne[0] == n_in);
    MatMulPart& p = parts[n_parts++];
    p.wt = k.Find(o.w->type);
    const TypeTraits* at = k.Find(p.wt->vec_dot_type);
    p.act_bytes = RowBytes(*at, n_in);
    // The input quantized once per activation type, as llama.cpp does once per matrix.
    const int slot =
        static_cast<int>(std::find(act_types, act_types + n_acts, at->type) - act_types);
    if (slot == n_acts) {
      uint8_t* xq = ws.Bytes(slot, p.act_bytes * n_tokens);
      ForEachToken(pool, n_tokens,
                   [&](int64_t t) { at->quantize_row(x + t * n_in, xq + t * p.act_bytes, n_in); });
      act_types[n_acts] = at->type;
      act_rows[n_acts++] = xq;
    }
    p.xq = act_rows[slot];
    p.repacked8 = o.w->repacked8;
    // Every part starts on a multiple of 8 rows (gap rows belong to no part), and the threads
    // split the rows in units of 8 below, so a repacked part is always cut between its groups.
    p.first = (total + kRowUnit - 1) / kRowUnit * kRowUnit;
    p.n_out = o.w->ne[1];
    total = p.first + p.n_out;
  }
  // Rows in chunks: each weight row is read once and used for every token of the batch. When
  // decoding, reading the weights is the whole cost and is even across rows: one contiguous
  // part per thread keeps each thread's stream (and its prefetching) unbroken.
  const int64_t units = (total + kRowUnit - 1) / kRowUnit;
  const int64_t grain = n_tokens < 4 ? std::max<int64_t>(2, (units + pool.size() - 1) / pool.size())
                                     : 2;
  pool.ParallelFor(units, grain, [&](int64_t unit_begin, int64_t unit_end) {
    const int64_t begin = unit_begin * kRowUnit, end = std::min(total, unit_end * kRowUnit);
    for (int i = 0; i < n_parts; ++i) {
      const MatMulPart& p = parts[i];
      const MatMulOut& o = outs.begin()[i];
      const int64_t lo = std::max(begin, p.first) - p.first;
      const int64_t hi = std::min(end, p.first + p.n_out) - p.first;
      if (lo >= hi) continue;
      // Every token of the batch at once, whatever sequence it belongs to: the kernels are
      // batch-invariant (kernels.h), so a token's outputs do not depend on its neighbours.
      MultiplyRows(p, o, lo, hi, n_tokens);
    }
  });
}

void MatMul(const Kernels& k, const Tensor& w, const float* x, int64_t n_tokens, float* y,
            Workspace& ws, ThreadPool& pool) {
  MatMuls(k, {{&w, y}}, x, n_tokens, ws, pool);
}

int64_t OutputHead(const Kernels& k, const float* x, const Batch& batch, const Tensor& out_norm,
                   const Tensor& output, float rms_eps, float* normed, float* hidden, float* logits,
                   Workspace& ws, ThreadPool& pool) {
  const int64_t E = out_norm.ne[0];
  int64_t n_out = 0;
  for (size_t t = 0; t < batch.size(); ++t) {
    if (!batch.logits[t]) continue;
    RmsNorm(x + t * E, out_norm.F32(), normed + n_out * E, E, rms_eps);
    ++n_out;
  }
  if (hidden) std::copy(normed, normed + n_out * E, hidden);
  if (logits) MatMul(k, output, normed, n_out, logits, ws, pool);
  return n_out;
}

void GetRows(const Kernels& k, const Tensor& w, const int32_t* ids, int64_t n, float* out) {
  const TypeTraits* wt = k.Find(w.type);
  for (int64_t i = 0; i < n; ++i) wt->dequantize_row(w.Row(ids[i]), out + i * w.ne[0], w.ne[0]);
}

void StoreKv(const Kernels& kernels, const Batch& batch, const float* k, const float* v,
             KvCache& kv, int64_t layer, ThreadPool& pool) {
  const int64_t kd = kv.kv_dim(), vd = kv.v_dim();
  const VectorKernels& vk = *kernels.vector;
  ForEachToken(pool, static_cast<int64_t>(batch.size()), [&](int64_t t) {
    vk.to_f16(kd, k + t * kd, kv.K(layer, batch.seq_ids[t], batch.positions[t]));
    vk.to_f16(vd, v + t * vd, kv.V(layer, batch.seq_ids[t], batch.positions[t]));
  });
}

void ForEachToken(ThreadPool& pool, int64_t n, FunctionRef<void(int64_t t)> fn) {
  pool.ParallelFor(n, 8, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) fn(t);
  });
}

// Computed in the order of llama.cpp's non-flash path for batches of 2 or more tokens
// (tinyBLAS), for every token whatever the batch, so that a token's result never depends on what
// else the batch holds (llama.cpp decodes a single token in ggml_vec_dot_f16's order instead):
// * KQ = K . Q with Q rounded to f16: one 8-lane accumulator per score;
// * the masked softmax runs over KV cells in groups of 8 aligned to cell 0;
// * KQV with the probabilities rounded to f16: cell c feeds lane c % 8 of one accumulator,
//   reduced at the end.
namespace {

constexpr int64_t kLanes = 8;

// The KV cells token t of the batch sees: [first, pos], scored from `begin` (first rounded down
// to a group of kLanes, the cells before `first` masked) over n cells, n_padded with the masked
// cells after pos up to a whole group.
struct VisibleCells {
  int64_t seq, pos, first, begin, n, n_padded;
};

VisibleCells CellsOf(const AttentionShape& s, const Batch& batch, int64_t t) {
  VisibleCells c;
  c.seq = batch.seq_ids[t];
  c.pos = batch.positions[t];
  c.first = s.sliding_window > 0 ? std::max<int64_t>(0, c.pos - s.sliding_window + 1) : 0;
  c.begin = c.first / kLanes * kLanes;
  c.n = c.pos + 1 - c.begin;
  c.n_padded = (c.n + kLanes - 1) / kLanes * kLanes;
  return c;
}

// Masks the cells outside [first, pos], applies the scaled softmax and rounds the
// probabilities of the n cells to f16, as llama.cpp's f16 KQV multiplication does.
void Probabilities(const Kernels& k, const VisibleCells& c, float scale, float* scores) {
  for (int64_t j = 0; j < c.first - c.begin; ++j) scores[j] = -INFINITY;
  for (int64_t j = c.n; j < c.n_padded; ++j) scores[j] = -INFINITY;
  SoftmaxExt(*k.vector, scores, c.n_padded, scale, nullptr);
  k.attention->round_to_f16(c.n, scores);
}

// A run of at least this many tokens of one sequence transposes V first (see AttentionRun).
constexpr int64_t kMinRunToTransposeV = 8;

// Tokens [t0, t1) of the batch, all of one sequence, and V of that sequence's cells
// [lo, lo + n_vt) transposed: row kvh * dv + i holds element i of KV head kvh cell after cell
// (zero past the cells the run sees).
struct AttentionRun {
  int64_t t0, t1;
  const uint16_t* vt = nullptr;
  int64_t lo = 0, n_vt = 0;
};

// The end of the run of tokens of one sequence that starts at token t.
int64_t RunEnd(const Batch& batch, int64_t t) {
  const int64_t n = static_cast<int64_t>(batch.size());
  int64_t end = t + 1;
  while (end < n && batch.seq_ids[end] == batch.seq_ids[t]) ++end;
  return end;
}

// Transposes V for a run: one row per (KV head, element) over the cells, so that KQV becomes
// the same f16 dot products as KQ (one V row per output, cells contiguous) instead of 16 bytes
// gathered from every cell for each 8 outputs.
AttentionRun TransposeV(const AttentionShape& s, const Batch& batch, int64_t t0, int64_t t1,
                        const KvCache& kv, int64_t layer, Workspace& ws, ThreadPool& pool) {
  AttentionRun run{t0, t1};
  const int64_t seq = batch.seq_ids[t0];
  int64_t lo = kv.n_ctx(), hi = 0;
  for (int64_t t = t0; t < t1; ++t) {
    const VisibleCells c = CellsOf(s, batch, t);
    lo = std::min(lo, c.begin);
    hi = std::max(hi, c.pos + 1);
  }
  const int64_t n = (hi - lo + kLanes - 1) / kLanes * kLanes;
  const int64_t rows = s.n_head_kv * s.head_dim_v, vd = kv.v_dim();
  uint16_t* vt = ws.Halfs(0, static_cast<size_t>(rows * n));
  const uint16_t* v = kv.V(layer, seq, lo);
  pool.Run([&](int ti, int nt) {
    const int64_t r0 = rows * ti / nt, r1 = rows * (ti + 1) / nt;
    for (int64_t c = 0; c < hi - lo; ++c) {
      for (int64_t r = r0; r < r1; ++r) vt[r * n + c] = v[c * vd + r];
    }
    for (int64_t r = r0; r < r1; ++r) std::fill(vt + r * n + (hi - lo), vt + (r + 1) * n, 0);
  });
  run.vt = vt;
  run.lo = lo;
  run.n_vt = n;
  return run;
}

// A run of tokens of one sequence with V transposed: one job per token and KV head scores all
// the query heads that share that head, so each K row (and V row, transposed) is converted once
// for the whole group; KQV is then the same f16 dot products as KQ.
void AttendRun(const Kernels& k, const AttentionShape& s, const Batch& batch,
               const AttentionRun& run, const float* q, const KvCache& kv, int64_t layer,
               float* out, Workspace& ws, ThreadPool& pool) {
  const int64_t group = s.n_head / s.n_head_kv;
  const int64_t d = s.head_dim, dv = s.head_dim_v;
  const int64_t ld = kv.n_ctx() + 2 * kLanes;  // scores of one head, padded to whole groups
  const size_t per_thread = static_cast<size_t>(group * (2 * ld + d));
  float* scratch = ws.Floats(1, per_thread * pool.size());
  const AttentionKernels& ak = *k.attention;
  const int64_t n_jobs = (run.t1 - run.t0) * s.n_head_kv;
  pool.Run([&](int ti, int nt) {
    float* scores = scratch + per_thread * ti;  // [group][ld]
    float* qf = scores + group * ld;            // [group][d]: the queries rounded to f16
    float* probs = qf + group * d;              // [group][n_padded], for the transposed V
    for (int64_t job = ti; job < n_jobs; job += nt) {
      const int64_t t = run.t0 + job / s.n_head_kv, kvh = job % s.n_head_kv;
      const VisibleCells c = CellsOf(s, batch, t);
      const float* qsrc = q + (t * s.n_head + kvh * group) * d;
      std::copy(qsrc, qsrc + group * d, qf);
      ak.round_to_f16(group * d, qf);
      const int64_t skip = c.first - c.begin;
      ak.kq(d, kv.K(layer, c.seq, c.first) + kvh * d, kv.kv_dim(), c.n - skip, qf, group,
            scores + skip, ld);
      for (int64_t g = 0; g < group; ++g) {
        Probabilities(k, c, s.scale, scores + g * ld);
        // The masked cells up to n_padded have probability 0 and add +0 to their lanes.
        std::copy(scores + g * ld, scores + g * ld + c.n_padded, probs + g * c.n_padded);
      }
      ak.kq(c.n_padded, run.vt + kvh * dv * run.n_vt + (c.begin - run.lo), run.n_vt, dv, probs,
            group, out + (t * s.n_head + kvh * group) * dv, dv);
    }
  });
}

// Query heads per job of AttendTokens: the whole group of heads that share a KV head (each K and
// V row is then read once per group), unless that leaves threads idle; then the largest divisor
// of the group that gives every thread a job.
int64_t HeadsPerJob(int64_t group, int64_t n_jobs_per_head, int n_threads) {
  for (int64_t h = std::min(group, kMaxHeadsPerJob); h > 1; --h) {
    if (group % h == 0 && n_jobs_per_head / h >= n_threads) return h;
  }
  return 1;
}

// The other tokens (decoding, and short runs of a sequence): one job per token and run of query
// heads sharing a KV head, all in one parallel loop, V read from the cells.
void AttendTokens(const Kernels& k, const AttentionShape& s, const Batch& batch,
                  const std::vector<int64_t>& tokens, const float* q, const KvCache& kv,
                  int64_t layer, float* out, Workspace& ws, ThreadPool& pool) {
  const int64_t group = s.n_head / s.n_head_kv;
  const int64_t d = s.head_dim, dv = s.head_dim_v;
  const int64_t n_tokens = static_cast<int64_t>(tokens.size());
  const int64_t heads = HeadsPerJob(group, n_tokens * s.n_head, pool.size());
  const int64_t scores_len = kv.n_ctx() + 2 * kLanes;
  const size_t per_thread = static_cast<size_t>(heads * (scores_len + d));
  float* scratch = ws.Floats(1, per_thread * pool.size());
  const AttentionKernels& ak = *k.attention;
  const int64_t runs_per_token = s.n_head / heads;
  const int64_t n_jobs = n_tokens * runs_per_token;
  pool.Run([&](int ti, int nt) {
    float* scores = scratch + per_thread * ti;  // [heads][scores_len]
    float* qf = scores + heads * scores_len;    // [heads][d]: the queries rounded to f16
    for (int64_t job = ti; job < n_jobs; job += nt) {
      const int64_t t = tokens[job / runs_per_token], h0 = job % runs_per_token * heads;
      const VisibleCells c = CellsOf(s, batch, t);
      const int64_t kvh = h0 / group;
      const float* qsrc = q + (t * s.n_head + h0) * d;
      std::copy(qsrc, qsrc + heads * d, qf);
      ak.round_to_f16(heads * d, qf);
      const int64_t skip = c.first - c.begin;
      ak.kq(d, kv.K(layer, c.seq, c.first) + kvh * d, kv.kv_dim(), c.n - skip, qf, heads,
            scores + skip, scores_len);
      for (int64_t h = 0; h < heads; ++h) Probabilities(k, c, s.scale, scores + h * scores_len);
      ak.kqv_heads(dv, kv.V(layer, c.seq, c.begin) + kvh * dv, kv.v_dim(), c.n, scores, heads,
                   scores_len, out + (t * s.n_head + h0) * dv);
    }
  });
}

}  // namespace

void Attention(const Kernels& k, const AttentionShape& s, const Batch& batch, const float* q,
               const KvCache& kv, int64_t layer, float* out, Workspace& ws, ThreadPool& pool) {
  const int64_t n_tokens = static_cast<int64_t>(batch.size());
  std::vector<int64_t> rest;  // the tokens not in a run long enough to transpose V for
  for (int64_t t0 = 0; t0 < n_tokens;) {
    const int64_t t1 = RunEnd(batch, t0);
    if (t1 - t0 >= kMinRunToTransposeV) {
      const AttentionRun run = TransposeV(s, batch, t0, t1, kv, layer, ws, pool);
      AttendRun(k, s, batch, run, q, kv, layer, out, ws, pool);
    } else {
      for (int64_t t = t0; t < t1; ++t) rest.push_back(t);
    }
    t0 = t1;
  }
  if (!rest.empty()) AttendTokens(k, s, batch, rest, q, kv, layer, out, ws, pool);
}

}  // namespace foundry
