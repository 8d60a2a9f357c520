// The loop nests of the AVX2 gemms (GemmArgs in kernels.h): decoding tiles of 4 rows x 1 token,
// prompt tiles of kR rows x kT tokens over token groups, vec_dot for the edges. Shared by the
// 32-element-block and K-quant translation units (avx2_blocks32.cc, avx2_kquants.cc), which
// bring the tiles; inline templates in the unnamed namespace (x86_kernels.h's rules).
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/kernels.h"

namespace foundry::x86 {
namespace {

// Decoding reads each weight once, so its speed is how well the weights stream in. The hardware
// prefetchers keep up with one sequential stream, not with a tile's four interleaved rows (and
// prefetching the next tile in one burst at its start floods the miss queues), so a decoding tile
// prefetches the weights kDecodeAheadBytes past its own, a block step at a time: one steady
// stream.
constexpr int64_t kDecodeAheadBytes = 12 << 10;

// Per block b of a decoding tile: the kStepBytes (its rows' blocks b) that far ahead; nothing
// where the stream ends (ahead == nullptr).
template <size_t kStepBytes>
inline void PrefetchAhead(const char* ahead, int64_t b) {
  if (ahead == nullptr) return;
  const char* p = ahead + b * static_cast<int64_t>(kStepBytes);
  for (size_t o = 0; o < kStepBytes; o += 64) _mm_prefetch(p + o, _MM_HINT_T0);
}

// Prompt tokens per pass over a matrix's rows: each weight block is fetched once per group and
// serves that many tokens, while the group's activations stay in L2. 64 rather than 16: the Q6_K
// prompt tiles waited on their weights' first cache line of every block (28% of their samples on
// one load); 64 made Qwen2.5-Coder-1.5B Q6_K pp128 1.3x faster at one thread and left the others
// unchanged (AMD EPYC Zen 5). The Q6_K tiles now also prefetch, after which 16 and 64 measure
// about the same for them.
constexpr int kTokensPerGroup = 64;

// The tiles of a gemm over one token group, for types whose tiles read weights and activations
// as they are:  tile(nb, x[kR], q[kT], y, ldy).
template <typename BlockW, typename BlockA, typename Tile>
class PlainTiles {
 public:
  explicit PlainTiles(Tile tile) : tile_(tile) {}
  void BeginGroup(const BlockA* const* q, int64_t /*n*/, int64_t /*nb*/) { q_ = q; }
  void BeginRows(const BlockW* const* x, int64_t /*nb*/) { x_ = x; }
  void Run(int64_t nb, int64_t t, float* y, int64_t ldy) { tile_(nb, x_, q_ + t, y, ldy); }

 private:
  Tile tile_;
  const BlockA* const* q_ = nullptr;
  const BlockW* const* x_ = nullptr;
};

// A decoding tile of 4 rows as two tiles of 2, each prefetching its own pair's stream (see
// PrefetchAhead); for kernels whose 4-row tile would need more registers than the ISA has.
//   rows2(nb, x[2], q, y, ahead).
template <typename BlockW, typename BlockA, typename Rows2>
inline void Rows4AsPairs(int64_t nb, const BlockW* const* x, const BlockA* q, float* y,
                         const char* ahead, Rows2 rows2) {
  const int64_t pair_bytes = 2 * nb * static_cast<int64_t>(sizeof(BlockW));
  rows2(nb, x, q, y, ahead);
  rows2(nb, x + 2, q, y + 2, ahead == nullptr ? nullptr : ahead + pair_bytes);
}

// Decoding: tiles of 4 rows x 1 token, four independent accumulator chains instead of one,
// vec_dot for the last rows; token after token.   rows4(nb, x[4], q, y, ahead): see
// PrefetchAhead.
template <typename BlockW, typename BlockA, int kBlockElems, typename Rows4>
inline void GemmRows4(const GemmArgs& g, Rows4 rows4, VecDotFn vec_dot) {
  const int64_t n = g.n, n_rows = g.n_rows, n_tokens = g.n_tokens, ldy = g.ldy;
  const size_t w_stride = g.w_stride, a_stride = g.a_stride;
  float* y = g.y;
  const int64_t nb = n / kBlockElems;
  const uint8_t* wb = static_cast<const uint8_t*>(g.w);
  const uint8_t* ab = static_cast<const uint8_t*>(g.a);
  const auto row = [&](int64_t r) { return reinterpret_cast<const BlockW*>(wb + r * w_stride); };
  const auto token = [&](int64_t t) { return reinterpret_cast<const BlockA*>(ab + t * a_stride); };
  const int64_t rows_tiled = n_rows / 4 * 4;
  const char* end = reinterpret_cast<const char*>(row(n_rows));
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t r0 = 0; r0 < rows_tiled; r0 += 4) {
      const BlockW* x[4] = {row(r0), row(r0 + 1), row(r0 + 2), row(r0 + 3)};
      const char* ahead = reinterpret_cast<const char*>(x[0]) + kDecodeAheadBytes;
      if (ahead + 4 * w_stride > end) ahead = nullptr;
      rows4(nb, x, token(t), y + t * ldy + r0, ahead);
    }
    for (int64_t r = rows_tiled; r < n_rows; ++r) y[t * ldy + r] = vec_dot(n, row(r), token(t));
  }
}

// The loop nest of every tiled gemm: decoding (fewer than kT tokens) as GemmRows4; prompts in
// tiles of kR rows x kT tokens, tokens in groups (kTokensPerGroup) whose activations stay in L2
// while every row passes over them; vec_dot for the edges. Tiles compute each output
// exactly as vec_dot does.
//   tiles.BeginGroup(q[n], n, nb), then per kR rows tiles.BeginRows(x[kR], nb), then per kT
//   tokens of the group tiles.Run(nb, t, y, ldy): see PlainTiles.
// kBlockElems: elements per block of both types (32, or 256 for the K-quants).
template <typename BlockW, typename BlockA, int kBlockElems, int kR, int kT, typename Tiles,
          typename Rows4>
inline void GemmTiles(const GemmArgs& g, Tiles& tiles, Rows4 rows4, VecDotFn vec_dot) {
  if (g.n_tokens < kT) {
    GemmRows4<BlockW, BlockA, kBlockElems>(g, rows4, vec_dot);
    return;
  }
  const int64_t n = g.n, n_rows = g.n_rows, n_tokens = g.n_tokens, ldy = g.ldy;
  const size_t w_stride = g.w_stride, a_stride = g.a_stride;
  float* y = g.y;
  const int64_t nb = n / kBlockElems;
  const uint8_t* wb = static_cast<const uint8_t*>(g.w);
  const uint8_t* ab = static_cast<const uint8_t*>(g.a);
  const auto row = [&](int64_t r) { return reinterpret_cast<const BlockW*>(wb + r * w_stride); };
  const auto token = [&](int64_t t) { return reinterpret_cast<const BlockA*>(ab + t * a_stride); };
  const int64_t rows_tiled = n_rows / kR * kR, tokens_tiled = n_tokens / kT * kT;
  static_assert(kTokensPerGroup % kT == 0);
  for (int64_t t0 = 0; t0 < tokens_tiled; t0 += kTokensPerGroup) {
    const int64_t n_group = std::min<int64_t>(kTokensPerGroup, tokens_tiled - t0);
    const BlockA* q[kTokensPerGroup];
    for (int64_t j = 0; j < n_group; ++j) q[j] = token(t0 + j);
    tiles.BeginGroup(q, n_group, nb);
    for (int64_t r0 = 0; r0 < rows_tiled; r0 += kR) {
      const BlockW* x[kR];
      for (int i = 0; i < kR; ++i) x[i] = row(r0 + i);
      tiles.BeginRows(x, nb);
      for (int64_t t = 0; t < n_group; t += kT) tiles.Run(nb, t, y + (t0 + t) * ldy + r0, ldy);
    }
  }
  for (int64_t r = 0; r < n_rows; ++r) {  // edges: one output at a time
    for (int64_t t = r < rows_tiled ? tokens_tiled : 0; t < n_tokens; ++t) {
      y[t * ldy + r] = vec_dot(n, row(r), token(t));
    }
  }
}

}  // namespace
}  // namespace foundry::x86

#endif  // __x86_64__
