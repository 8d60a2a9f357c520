// Q6_K weights repacked at load into groups of 8 interleaved rows (TypeTraits::repack_rows8) and
// their AVX2 gemm (TypeTraits::gemm_repacked8), in the K-quant order (per block
// fma(d * total, y.d, acc), ref::VecDotQ6_KQ8_K) for any number of tokens. The integers are the
// file layout's, so the outputs are bit for bit the same.
//
// Why: decoding a Q6_K matrix in the file's layout reads four rows at once, four streams the
// hardware prefetchers do not follow (it needs prefetching by hand and still reads slower than
// the repacked Q4_K stream), and every 32 values cost a scale shuffle per row. Repacked, a
// group's blocks are one sequential stream, and the eight rows' values and scales sit in the
// eight int32 lanes.
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/quant_blocks.h"
#include "kernels/x86/avx2_gemm_driver.h"
#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/avx2_k_rows8.h"
#include "kernels/x86/avx2_kernels.h"
#include "kernels/x86/k_rows8_layout.h"

namespace foundry::x86::avx2 {
namespace {

// Values 128h + 32k + 4c .. +3 of the eight rows (c < 8) as unsigned bytes (q + 32): the low
// (k < 2) or high nibbles of ql chunk 16h + 8(k % 2) + c and bits 2k, 2k+1 of qh chunk 8h + c,
// as TileQ6_KQ8_K builds them.
inline __m256i Values(const GroupBlockQ6_K& g, int h, int k, int c) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const GroupHalfQ6_K& half = g.half[h];
  const __m256i ql = Load256(k % 2 == 0 ? half.ql_qh[c / 2][0][c % 2] : half.ql_odd[c]);
  const __m256i qh = Load256(half.ql_qh[c / 2][1][c % 2]);
  const __m256i lo = _mm256_and_si256(k < 2 ? ql : _mm256_srli_epi16(ql, 4), m4);
  __m256i hi;
  switch (k) {
    case 0: hi = _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x03)), 4); break;
    case 1: hi = _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x0C)), 2); break;
    case 2: hi = _mm256_and_si256(qh, _mm256_set1_epi8(0x30)); break;
    default:
      hi = _mm256_srli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(static_cast<char>(0xC0))), 2);
  }
  return _mm256_or_si256(lo, hi);
}

// Sub-block s's scale of each row in both int16 halves of its lane.
inline __m256i ScaleBoth(const GroupBlockQ6_K& g, int s) {
  const __m128i x = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(g.scales[s]));
  return _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(x, x));
}

// The scales of sub-blocks 2p and 2p+1 of each row as the two int16 halves of its lane.
inline __m256i ScalePair(const GroupBlockQ6_K& g, int p) {
  const __m128i x = Load128(g.scales[2 * p]);  // scales[2p][0..7], scales[2p+1][0..7]
  return _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(x, _mm_unpackhi_epi64(x, x)));
}

// Eight rows x kT tokens over nb blocks of group g: per block each output's exact integer total
// (less 32 * scales . bsums: the values are stored as q + 32), then
// acc = fma(d * total, y.d, acc).
template <int kT>
inline void TileRows8(int64_t nb, const GroupBlockQ6_K* g, const BlockQ8_K* const* q, float* y,
                      int64_t ldy) {
  __m256 acc[kT];
  for (int j = 0; j < kT; ++j) acc[j] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const GroupBlockQ6_K& gb = g[b];
    // scales . bsums per row: sub-blocks 2p and 2p+1 of the scales against the token's bsums
    // of the two (adjacent int16s, one int32 broadcast).
    __m256i bias[kT];
    for (int j = 0; j < kT; ++j) bias[j] = _mm256_setzero_si256();
    for (int p = 0; p < 8; ++p) {
      const __m256i pair = ScalePair(gb, p);
      for (int j = 0; j < kT; ++j) {
        const auto* bsums = reinterpret_cast<const int8_t*>(q[j][b].bsums + 2 * p);
        bias[j] = _mm256_add_epi32(bias[j], _mm256_madd_epi16(pair, Broadcast4(bsums)));
      }
    }
    __m256i total[kT];
    for (int j = 0; j < kT; ++j) {
      total[j] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(bias[j], 5));
    }
    // Unrolled whole: Values' shifts and masks depend on k.
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
#pragma GCC unroll 2
        for (int u = 0; u < 2; ++u) {  // sub-block 8h + 2k + u: chunks 4u..4u+3
          const __m256i scale = ScaleBoth(gb, 8 * h + 2 * k + u);
#pragma GCC unroll 2
          for (int c = 4 * u; c < 4 * u + 4; c += 2) {
            const __m256i v0 = Values(gb, h, k, c), v1 = Values(gb, h, k, c + 1);
            for (int j = 0; j < kT; ++j) {
              // Two chunks' int16 sums stay within 2 * 2 * 63 * 128 = 32256: no saturation.
              const int8_t* a = q[j][b].qs + 128 * h + 32 * k + 4 * c;
              const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(v0, Broadcast4(a)),
                                                 _mm256_maddubs_epi16(v1, Broadcast4(a + 4)));
              total[j] = _mm256_add_epi32(total[j], _mm256_madd_epi16(p, scale));
            }
          }
        }
      }
    }
    const __m256 xd = _mm256_cvtph_ps(Load128(gb.d));
    for (int j = 0; j < kT; ++j) {
      acc[j] = _mm256_fmadd_ps(_mm256_mul_ps(xd, _mm256_cvtepi32_ps(total[j])),
                               _mm256_set1_ps(q[j][b].d), acc[j]);
    }
  }
  for (int j = 0; j < kT; ++j) _mm256_storeu_ps(y + j * ldy, acc[j]);
}

// A group block unpacked once for every 4-token tile of a token pass: its values (as Values
// gives them), the scales as the madd operands, the rows' d.
struct UnpackedQ6_K {
  __m256i values[2][4][8];  // [h][k][c]: Values(g, h, k, c)
  __m256i scales[16];       // ScaleBoth(g, s)
  __m256i scale_pairs[8];   // ScalePair(g, p)
  __m256 xd;
};

inline void UnpackBlock(const GroupBlockQ6_K& g, UnpackedQ6_K* u) {
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      for (int c = 0; c < 8; ++c) u->values[h][k][c] = Values(g, h, k, c);
    }
  }
  for (int s = 0; s < 16; ++s) u->scales[s] = ScaleBoth(g, s);
  for (int p = 0; p < 8; ++p) u->scale_pairs[p] = ScalePair(g, p);
  u->xd = _mm256_cvtph_ps(Load128(g.d));
}

// One unpacked block's share of eight rows x kT tokens: q[j] is token j's block, and
// y[j * ldy] = fma(d * total, y.d, y[j * ldy]) (from zero for the first block): the same sums
// in the same order as TileRows8.
template <int kT>
inline void BlockTileRows8(const UnpackedQ6_K& u, const BlockQ8_K* const* q, bool first,
                           float* y, int64_t ldy) {
  __m256i bias[kT];
  for (int j = 0; j < kT; ++j) bias[j] = _mm256_setzero_si256();
  for (int p = 0; p < 8; ++p) {
    for (int j = 0; j < kT; ++j) {
      const auto* bsums = reinterpret_cast<const int8_t*>(q[j]->bsums + 2 * p);
      bias[j] = _mm256_add_epi32(bias[j], _mm256_madd_epi16(u.scale_pairs[p], Broadcast4(bsums)));
    }
  }
  __m256i total[kT];
  for (int j = 0; j < kT; ++j) {
    total[j] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(bias[j], 5));
  }
  for (int h = 0; h < 2; ++h) {
    for (int k = 0; k < 4; ++k) {
      for (int u2 = 0; u2 < 2; ++u2) {  // sub-block 8h + 2k + u2: chunks 4u2..4u2+3
        const __m256i scale = u.scales[8 * h + 2 * k + u2];
        for (int c = 4 * u2; c < 4 * u2 + 4; c += 2) {
          const __m256i v0 = u.values[h][k][c], v1 = u.values[h][k][c + 1];
          for (int j = 0; j < kT; ++j) {
            // Two chunks' int16 sums stay within 2 * 2 * 63 * 128 = 32256: no saturation.
            const int8_t* a = q[j]->qs + 128 * h + 32 * k + 4 * c;
            const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(v0, Broadcast4(a)),
                                               _mm256_maddubs_epi16(v1, Broadcast4(a + 4)));
            total[j] = _mm256_add_epi32(total[j], _mm256_madd_epi16(p, scale));
          }
        }
      }
    }
  }
  for (int j = 0; j < kT; ++j) {
    const __m256 acc = first ? _mm256_setzero_ps() : _mm256_loadu_ps(y + j * ldy);
    _mm256_storeu_ps(y + j * ldy,
                     _mm256_fmadd_ps(_mm256_mul_ps(u.xd, _mm256_cvtepi32_ps(total[j])),
                                     _mm256_set1_ps(q[j]->d), acc));
  }
}

}  // namespace

void RepackQ6_KRows8(int64_t n, const void* src, size_t src_stride, int64_t n_rows, void* dst) {
  RepackRows8<BlockQ6_K, GroupBlockQ6_K>(
      n, src, src_stride, n_rows, dst, [](const BlockQ6_K& x, int r, GroupBlockQ6_K& g) {
        g.d[r] = x.d;
        for (int s = 0; s < 16; ++s) g.scales[s][r] = x.scales[s];
        for (int h = 0; h < 2; ++h) {
          GroupHalfQ6_K& half = g.half[h];
          for (int c = 0; c < 8; ++c) {
            std::memcpy(half.ql_qh[c / 2][0][c % 2][r], x.ql + 64 * h + 4 * c, 4);
            std::memcpy(half.ql_qh[c / 2][1][c % 2][r], x.qh + 32 * h + 4 * c, 4);
            std::memcpy(half.ql_odd[c][r], x.ql + 64 * h + 32 + 4 * c, 4);
          }
        }
      });
}

void GemmQ6_KRows8Repacked(const GemmArgs& g) {
  GemmRepackedRows8<GroupBlockQ6_K, UnpackedQ6_K>(
      g, [](const GroupBlockQ6_K& gb, UnpackedQ6_K* u) { UnpackBlock(gb, u); },
      [](auto tokens, const auto&... args) { BlockTileRows8<decltype(tokens)::value>(args...); },
      [](auto tokens, auto... args) { TileRows8<decltype(tokens)::value>(args...); });
}

}  // namespace foundry::x86::avx2

#endif  // defined(__x86_64__)
