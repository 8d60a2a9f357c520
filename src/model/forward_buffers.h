// The activations of one forward pass over a batch of n tokens, each in a workspace slot of
// its own from kLayerSlots on (MatMuls keeps the slots below): what every architecture's
// ForwardValidated works in.
#pragma once

#include <algorithm>
#include <cstdint>

#include "model/hparams.h"
#include "model/layers.h"
#include "model/workspace.h"

namespace foundry {

struct ForwardBuffers {
  // rope_tables: RoPE tables of n_rot floats per token, one set per distinct RoPE (Gemma 3
  // has one for its global and one for its sliding-window layers).
  ForwardBuffers(const HParams& h, int64_t n, int64_t rope_tables, Workspace& ws)
      : x(ws.Floats(kLayerSlots, n * h.n_embd)),
        xn(ws.Floats(kLayerSlots + 1, n * std::max(h.n_embd, h.n_ff))),
        q(ws.Floats(kLayerSlots + 2, n * h.q_dim())),
        k(ws.Floats(kLayerSlots + 3, n * h.kv_dim())),
        v(ws.Floats(kLayerSlots + 4, n * h.v_dim())),
        attn(ws.Floats(kLayerSlots + 5, n * h.n_head * h.head_dim_v)),
        proj(ws.Floats(kLayerSlots + 6, n * h.n_embd)),
        gate(ws.Floats(kLayerSlots + 7, n * h.n_ff)),
        up(ws.Floats(kLayerSlots + 8, n * h.n_ff)),
        rope(ws.Floats(kLayerSlots + 9, rope_tables * n * h.n_rot)),
        normed(ws.Floats(kLayerSlots + 10, n * h.n_embd)) {}

  float* x;       // the residual stream, [n][n_embd]
  float* xn;      // a normalized input, [n][max(n_embd, n_ff)]
  float* q;       // [n][q_dim]
  float* k;       // [n][kv_dim]
  float* v;       // [n][v_dim]
  float* attn;    // attention outputs, [n][n_head * head_dim_v]
  float* proj;    // a projection back to n_embd, [n][n_embd]
  float* gate;    // [n][n_ff]
  float* up;      // [n][n_ff]
  float* rope;    // [rope_tables][n][n_rot]
  float* normed;  // OutputHead's rows, [n_outputs][n_embd]
};

}  // namespace foundry
