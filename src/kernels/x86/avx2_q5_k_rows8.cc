// Q5_K weights repacked at load into groups of 8 interleaved rows (TypeTraits::repack_rows8) and
// their AVX2 gemm (TypeTraits::gemm_repacked8), in the K-quant order (per block
// fma(d * total - dmin * mins, y.d, acc), ref::VecDotQ5_KQ8_K) for any number of tokens. The
// integers are the file layout's, so the outputs are bit for bit the same.
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

// Chunk m of sub-blocks 2s (lo) and 2s+1 (hi) of the eight rows as 5-bit values: the nibbles of
// qs chunk 8s + m, the fifth bits 2s and 2s+1 of qh chunk m (as UnpackQ5_K builds them).
inline void Unpack(const GroupBlockQ5_K& g, int s, int m, __m256i* lo, __m256i* hi) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i bits = Load256(g.qs[8 * s + m]);
  const __m256i hb = _mm256_srli_epi16(Load256(g.qh[m]), 2 * s);
  *lo = _mm256_or_si256(_mm256_and_si256(bits, m4),
                        _mm256_slli_epi16(_mm256_and_si256(hb, _mm256_set1_epi8(1)), 4));
  *hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits, 4), m4),
                        _mm256_slli_epi16(_mm256_and_si256(hb, _mm256_set1_epi8(2)), 3));
}

// kT tokens, eight rows.
template <int kT>
inline void TileRows8(int64_t nb, const GroupBlockQ5_K* g, const BlockQ8_K* const* q, float* y,
                      int64_t ldy) {
  __m256 acc[kT];
  for (__m256& a : acc) a = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const GroupBlockQ5_K& gb = g[b];
    __m256i sc[2], mn[2];
    UnpackScales8(gb.scales, sc, mn);
    __m256i total[kT];
    for (__m256i& t : total) t = _mm256_setzero_si256();
    for (int s = 0; s < 4; ++s) {
      const __m256i scale_lo = SubBlockScale(sc, 2 * s), scale_hi = SubBlockScale(sc, 2 * s + 1);
      // int16 sums of four chunks stay below 4 * 2 * 31 * 128 = 31744; the saturating add never
      // saturates and keeps GCC from spilling every product to sum them as a tree.
      for (int half = 0; half < 2; ++half) {
        __m256i lo16[kT], hi16[kT];
        for (int j = 0; j < kT; ++j) lo16[j] = hi16[j] = _mm256_setzero_si256();
        for (int m = 4 * half; m < 4 * half + 4; ++m) {
          __m256i lo, hi;
          Unpack(gb, s, m, &lo, &hi);
          for (int j = 0; j < kT; ++j) {
            const int8_t* q8 = q[j][b].qs + 64 * s + 4 * m;
            lo16[j] = _mm256_adds_epi16(lo16[j], _mm256_maddubs_epi16(lo, Broadcast4(q8)));
            hi16[j] = _mm256_adds_epi16(hi16[j], _mm256_maddubs_epi16(hi, Broadcast4(q8 + 32)));
          }
        }
        for (int j = 0; j < kT; ++j) {
          total[j] = _mm256_add_epi32(total[j], _mm256_add_epi32(_mm256_madd_epi16(lo16[j], scale_lo),
                                                                 _mm256_madd_epi16(hi16[j], scale_hi)));
        }
      }
    }
    const __m256 xd = _mm256_cvtph_ps(Load128(gb.d));
    const __m256 neg_xdmin =
        _mm256_xor_ps(_mm256_cvtph_ps(Load128(gb.dmin)), _mm256_set1_ps(-0.0f));
    const __m256i min_pairs[4] = {MinsPair(mn, 0), MinsPair(mn, 1), MinsPair(mn, 2),
                                  MinsPair(mn, 3)};
    for (int j = 0; j < kT; ++j) {
      int32_t pairs[4];
      BsumPairs(q[j][b], pairs);
      const __m256 mins = _mm256_cvtepi32_ps(MinsDot(min_pairs, pairs));
      const __m256 res = _mm256_fmadd_ps(neg_xdmin, mins, _mm256_mul_ps(xd, _mm256_cvtepi32_ps(total[j])));
      acc[j] = _mm256_fmadd_ps(res, _mm256_set1_ps(q[j][b].d), acc[j]);
    }
  }
  for (int j = 0; j < kT; ++j) _mm256_storeu_ps(y + j * ldy, acc[j]);
}

inline void UnpackBlock(const GroupBlockQ5_K& g, UnpackedWithMins* u) {
  UnpackScalesAndMins(g, u);
  for (int s = 0; s < 4; ++s) {
    for (int m = 0; m < 8; ++m) Unpack(g, s, m, &u->values[s][m][0], &u->values[s][m][1]);
  }
}

}  // namespace

void RepackQ5_KRows8(int64_t n, const void* src, size_t src_stride, int64_t n_rows, void* dst) {
  RepackRows8<BlockQ5_K, GroupBlockQ5_K>(
      n, src, src_stride, n_rows, dst, [](const BlockQ5_K& x, int r, GroupBlockQ5_K& g) {
        g.d[r] = x.d;
        g.dmin[r] = x.dmin;
        for (int k = 0; k < 3; ++k) std::memcpy(&g.scales[k][r], x.scales + 4 * k, 4);
        for (int c = 0; c < 8; ++c) std::memcpy(g.qh[c][r], x.qh + 4 * c, 4);
        for (int c = 0; c < 32; ++c) std::memcpy(g.qs[c][r], x.qs + 4 * c, 4);
      });
}

void GemmQ5_KRows8Repacked(const GemmArgs& g) {
  GemmRepackedRows8<GroupBlockQ5_K, UnpackedWithMins>(
      g, [](const GroupBlockQ5_K& gb, UnpackedWithMins* u) { UnpackBlock(gb, u); },
      [](auto tokens, const auto&... args) {
        BlockTileWithMins<4, decltype(tokens)::value>(args...);
      },
      [](auto tokens, auto... args) { TileRows8<decltype(tokens)::value>(args...); });
}

}  // namespace foundry::x86::avx2

#endif  // defined(__x86_64__)
