// Helpers of the AVX2 kernels for K-quants repacked into groups of 8 interleaved rows
// (avx2_q{4,5,6}_k_rows8.cc): a group's eight rows sit in the eight int32 lanes,
// so per-row scales become vectors. Included only by those files (x86_kernels.h's rules).
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/kernels.h"
#include "kernels/quant_blocks.h"
#include "kernels/x86/avx2_gemm_driver.h"
#include "kernels/x86/avx2_helpers.h"

namespace foundry::x86 {
namespace {

// The scales and mins of a group's eight rows (their 12 packed bytes as 3 words x 8 rows): byte
// k of int32 lane r is row r's scale (or min) k (sc[0], mn[0]) or k + 4 (sc[1], mn[1]);
// UnpackScalesMinsK4 on eight rows at once.
inline void UnpackScales8(const uint32_t (&scales)[3][8], __m256i sc[2], __m256i mn[2]) {
  const __m256i u0 = Load256(scales[0]), u1 = Load256(scales[1]), u2 = Load256(scales[2]);
  const __m256i low6 = _mm256_set1_epi8(0x3f), low4 = _mm256_set1_epi8(0x0f);
  const __m256i low2 = _mm256_set1_epi8(0x03);
  sc[0] = _mm256_and_si256(u0, low6);
  sc[1] = _mm256_or_si256(_mm256_and_si256(u2, low4),
                          _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(u0, 6), low2), 4));
  mn[0] = _mm256_and_si256(u1, low6);
  mn[1] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(u2, 4), low4),
                          _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(u1, 6), low2), 4));
}

// Bytes first and second of each int32 lane as its two int16 halves (zero-extended).
inline __m256i BytePairToInt16(__m256i v, int first, int second) {
  // Per dword d of a 128-bit lane: bytes 4d + first, zero, 4d + second, zero.
  const __m256i mask = _mm256_set1_epi32(static_cast<int32_t>(
      0x80008000u | static_cast<uint32_t>(second) << 16 | static_cast<uint32_t>(first)));
  const __m256i offsets = _mm256_setr_epi32(0x00000000, 0x00040004, 0x00080008, 0x000c000c,
                                            0x00000000, 0x00040004, 0x00080008, 0x000c000c);
  return _mm256_shuffle_epi8(v, _mm256_add_epi32(mask, offsets));
}

// Sub-block k's scale of each row in both int16 halves of its lane.
inline __m256i SubBlockScale(const __m256i sc[2], int k) {
  return BytePairToInt16(sc[k / 4], k % 4, k % 4);
}

// The mins of sub-blocks 2s and 2s+1 of each row as the two int16 halves of its lane (madd
// with BsumPairs' entry s gives the row's mins . bsums over those 64 values).
inline __m256i MinsPair(const __m256i mn[2], int s) {
  return BytePairToInt16(mn[s / 2], 2 * (s % 2), 2 * (s % 2) + 1);
}

// (bsums[4s] + bsums[4s+1], bsums[4s+2] + bsums[4s+3]) of token q's block b as one int32 per s:
// the activation sums of sub-blocks 2s and 2s+1.
inline void BsumPairs(const BlockQ8_K& q, int32_t out[4]) {
  const __m256i bs = Load256(q.bsums);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                   _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1)));
}

// Four activation bytes (int8) in every int32 lane.
inline __m256i Broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// Each row's mins . bsums over the block (exact integers): mins[s] = MinsPair(mn, s) against
// BsumPairs' entry s.
inline __m256i MinsDot(const __m256i mins[4], const int32_t pairs[4]) {
  __m256i md = _mm256_setzero_si256();
  for (int s = 0; s < 4; ++s) {
    md = _mm256_add_epi32(md, _mm256_madd_epi16(mins[s], _mm256_set1_epi32(pairs[s])));
  }
  return md;
}

// A Q4_K or Q5_K group block unpacked for GemmRepackedRows8: the values of chunk m of sub-blocks
// 2s (lo) and 2s+1 (hi) of the eight rows, the sub-block scales and the mins as madd operands,
// the rows' d and -dmin.
struct UnpackedWithMins {
  __m256i values[4][8][2];  // [s][m][lo, hi]
  __m256i scales[8];        // SubBlockScale(sc, k)
  __m256i mins[4];          // MinsPair(mn, s)
  __m256 xd, neg_xdmin;
};

// All of u but its values.
template <typename GroupBlock>
inline void UnpackScalesAndMins(const GroupBlock& g, UnpackedWithMins* u) {
  __m256i sc[2], mn[2];
  UnpackScales8(g.scales, sc, mn);
  for (int k = 0; k < 8; ++k) u->scales[k] = SubBlockScale(sc, k);
  for (int s = 0; s < 4; ++s) u->mins[s] = MinsPair(mn, s);
  u->xd = _mm256_cvtph_ps(Load128(g.d));
  u->neg_xdmin = _mm256_xor_ps(_mm256_cvtph_ps(Load128(g.dmin)), _mm256_set1_ps(-0.0f));
}

// One unpacked block's share of eight rows x kT tokens (q[j]: token j's block), in the K-quant
// order: y[j * ldy] = fma(d * total - dmin * mins . bsums, y.d, y[j * ldy]), from zero for the
// first block. The products of kChunksPerSum chunks are summed in int16 (saturating adds that
// never saturate: 8 chunks of 4-bit values stay below 8 * 2 * 15 * 128 = 30720, 4 of 5-bit
// ones below 4 * 2 * 31 * 128 = 31744; being not associative, they keep GCC from computing all
// products first, spilling them and summing them as a tree).
template <int kChunksPerSum, int kT>
inline void BlockTileWithMins(const UnpackedWithMins& u, const BlockQ8_K* const* q, bool first,
                              float* y, int64_t ldy) {
  static_assert(8 % kChunksPerSum == 0);
  __m256i total[kT];
  for (__m256i& t : total) t = _mm256_setzero_si256();
  for (int s = 0; s < 4; ++s) {
    for (int m0 = 0; m0 < 8; m0 += kChunksPerSum) {
      __m256i lo16[kT], hi16[kT];
      for (int j = 0; j < kT; ++j) lo16[j] = hi16[j] = _mm256_setzero_si256();
      for (int m = m0; m < m0 + kChunksPerSum; ++m) {
        for (int j = 0; j < kT; ++j) {
          const int8_t* q8 = q[j]->qs + 64 * s + 4 * m;
          lo16[j] = _mm256_adds_epi16(lo16[j],
                                      _mm256_maddubs_epi16(u.values[s][m][0], Broadcast4(q8)));
          hi16[j] = _mm256_adds_epi16(
              hi16[j], _mm256_maddubs_epi16(u.values[s][m][1], Broadcast4(q8 + 32)));
        }
      }
      for (int j = 0; j < kT; ++j) {
        total[j] = _mm256_add_epi32(
            total[j], _mm256_add_epi32(_mm256_madd_epi16(lo16[j], u.scales[2 * s]),
                                       _mm256_madd_epi16(hi16[j], u.scales[2 * s + 1])));
      }
    }
  }
  for (int j = 0; j < kT; ++j) {
    int32_t pairs[4];
    BsumPairs(*q[j], pairs);
    const __m256 res = _mm256_fmadd_ps(u.neg_xdmin, _mm256_cvtepi32_ps(MinsDot(u.mins, pairs)),
                                       _mm256_mul_ps(u.xd, _mm256_cvtepi32_ps(total[j])));
    const __m256 acc = first ? _mm256_setzero_ps() : _mm256_loadu_ps(y + j * ldy);
    _mm256_storeu_ps(y + j * ldy, _mm256_fmadd_ps(res, _mm256_set1_ps(q[j]->d), acc));
  }
}

// The loop nest of every repack_rows8: for each group of 8 rows and block b (kBlockElems
// elements: a K-quant super-block by default), place(block b of row r, r, group block b) for
// r < 8. GroupBlock is the size of 8 Blocks.
template <typename Block, typename GroupBlock, int64_t kBlockElems = kQK_K, typename Place>
inline void RepackRows8(int64_t n, const void* src, size_t src_stride, int64_t n_rows, void* dst,
                        Place place) {
  static_assert(sizeof(GroupBlock) == 8 * sizeof(Block));
  const int64_t nb = n / kBlockElems;
  const size_t row_bytes = static_cast<size_t>(nb) * sizeof(Block);
  const uint8_t* in = static_cast<const uint8_t*>(src);
  for (int64_t r0 = 0; r0 < n_rows; r0 += 8) {
    auto* out = reinterpret_cast<GroupBlock*>(static_cast<uint8_t*>(dst) + r0 * row_bytes);
    for (int64_t b = 0; b < nb; ++b) {
      for (int r = 0; r < 8; ++r) {
        place(reinterpret_cast<const Block*>(in + (r0 + r) * src_stride)[b], r, out[b]);
      }
    }
  }
}

// The loop nest of every gemm_repacked8. Prompts: kTokensPerGroup tokens at a time, and for
// each row group and block, unpack(block, &unpacked) once, then block_tile(
// std::integral_constant<int, 4>, unpacked, q[4] (four tokens' block b), first (b == 0), y, ldy)
// for every 4 tokens of the pass, which adds the block's share into their eight outputs (token
// j's at y + j * ldy). Unpacking once per pass rather than once per 4-token tile made
// Qwen2.5-Coder-1.5B pp256 at two threads 1.24x (Q4_K_M), 1.40x (Q5_K_M) and 1.21x (Q6_K)
// faster on AMD EPYC Zen 3; the unpacked block and the pass's activations of that block stay in
// L1. The last n_tokens % 4 tokens (decoding: all of them) go through
// tile(std::integral_constant<int, 1>, nb, group, q[1], y, ldy), which unpacks as it reads: the
// row groups of one token are one sequential stream, which the hardware prefetchers follow
// (prefetching ahead by hand made repacked Q4_K decoding slower: 20.9 GB/s without, 17.6 GB/s
// 4 KiB ahead, AMD EPYC Zen 5). block_tile takes its arguments by reference: a generic
// lambda's `auto...` copied the 2.5 KiB unpacked block into every call, which cost all the gain.
template <typename GroupBlock, typename Unpacked, typename Unpack, typename BlockTile,
          typename Tile>
inline void GemmRepackedRows8(const GemmArgs& g, Unpack unpack, BlockTile block_tile,
                              Tile tile) {
  const int64_t nb = g.n / kQK_K;
  const int64_t n4 = g.n_tokens / 4 * 4;
  const size_t group_stride = 8 * g.w_stride;
  const int64_t n_groups = g.n_rows / 8;
  const auto* w = static_cast<const uint8_t*>(g.w);
  const auto* ab = static_cast<const uint8_t*>(g.a);
  const auto group = [&](int64_t i) {
    return reinterpret_cast<const GroupBlock*>(w + i * group_stride);
  };
  const auto token = [&](int64_t t) {
    return reinterpret_cast<const BlockQ8_K*>(ab + t * g.a_stride);
  };
  Unpacked unpacked;
  for (int64_t t0 = 0; t0 < n4; t0 += kTokensPerGroup) {
    const int64_t t1 = std::min<int64_t>(t0 + kTokensPerGroup, n4);
    for (int64_t i = 0; i < n_groups; ++i) {
      for (int64_t b = 0; b < nb; ++b) {
        unpack(group(i)[b], &unpacked);
        for (int64_t t = t0; t < t1; t += 4) {
          const BlockQ8_K* q[4] = {token(t) + b, token(t + 1) + b, token(t + 2) + b,
                                   token(t + 3) + b};
          block_tile(std::integral_constant<int, 4>{}, unpacked, q, b == 0,
                     g.y + t * g.ldy + 8 * i, g.ldy);
        }
      }
    }
  }
  for (int64_t t = n4; t < g.n_tokens; ++t) {
    const BlockQ8_K* q[1] = {token(t)};
    for (int64_t i = 0; i < n_groups; ++i) {
      tile(std::integral_constant<int, 1>{}, nb, group(i), q, g.y + t * g.ldy + 8 * i, g.ldy);
    }
  }
}

}  // namespace
}  // namespace foundry::x86

#endif  // defined(__x86_64__)
