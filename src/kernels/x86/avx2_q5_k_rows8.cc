// Q5_K weights repacked at load into groups of 8 interleaved rows (TypeTraits::repack_rows8) and
// their AVX2 gemm (TypeTraits::gemm_repacked8), in the orders the file's layout gets: batches of
// 8+ tokens llama.cpp's tiled order (per block fma(d * total - dmin * mins, y.d, acc),
// ref::VecDotQ5_KQ8_KTiled), fewer tokens ggml_vec_dot_q5_K_q8_K's (eight integer lanes per
// block, the mins in a float of their own; GemmQ5_KQ8_K). The integers are the file layout's,
// so the outputs are bit for bit the same.
//
// Lane m of that vec_dot sums bytes 4m..4m+3 of each 32-value vector; a chunk of the repacked
// layout is four such bytes of each of the eight rows, so lane m of eight rows is one register
// and the eight lanes' float sums are added at the end in HsumPs's order.
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/quant_blocks.h"
#include "kernels/x86/avx2_gemm_driver.h"
#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/avx2_k_rows8.h"
#include "kernels/x86/avx2_kernels.h"

namespace foundry::x86::avx2 {
namespace {

// Super-block b of a group of 8 rows, the size of eight BlockQ5_K.
struct GroupBlockQ5_K {
  uint16_t d[8];          // row r's d (f16)
  uint16_t dmin[8];       // row r's dmin (f16)
  uint32_t scales[3][8];  // word k of row r's 12 packed scale/min bytes
  uint8_t qh[8][8][4];    // chunk c: row r's qh bytes 4c..4c+3
  uint8_t qs[32][8][4];   // chunk c: row r's qs bytes 4c..4c+3
};
static_assert(sizeof(GroupBlockQ5_K) == 8 * sizeof(BlockQ5_K));

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

// Each row's mins . bsums over the block (exact integers).
inline __m256i MinsDot(const __m256i mn[2], const int32_t pairs[4]) {
  __m256i md = _mm256_setzero_si256();
  for (int s = 0; s < 4; ++s) {
    md = _mm256_add_epi32(md, _mm256_madd_epi16(MinsPair(mn, s), _mm256_set1_epi32(pairs[s])));
  }
  return md;
}

// One token, eight rows, in the vec_dot's order: per block and lane m, fma(d, lane, acc[m]);
// the mins, acc_m += dmin * mins; at the end each row's lanes added as HsumPs adds them, less
// acc_m.
inline void LanesRows8(int64_t nb, const GroupBlockQ5_K* g, const BlockQ8_K* q, float* y) {
  __m256 acc[8], acc_m = _mm256_setzero_ps();
  for (__m256& a : acc) a = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const GroupBlockQ5_K& gb = g[b];
    const __m256 yd = _mm256_set1_ps(q[b].d);
    const __m256 d = _mm256_mul_ps(_mm256_cvtph_ps(Load128(gb.d)), yd);
    const __m256 dmin = _mm256_mul_ps(_mm256_cvtph_ps(Load128(gb.dmin)), yd);
    __m256i sc[2], mn[2];
    UnpackScales8(gb.scales, sc, mn);
    int32_t pairs[4];
    BsumPairs(q[b], pairs);
    acc_m = _mm256_add_ps(acc_m, _mm256_mul_ps(dmin, _mm256_cvtepi32_ps(MinsDot(mn, pairs))));
    __m256i scale[8];
    for (int k = 0; k < 8; ++k) scale[k] = SubBlockScale(sc, k);
    for (int m = 0; m < 8; ++m) {
      __m256i lane = _mm256_setzero_si256();
      for (int s = 0; s < 4; ++s) {
        __m256i lo, hi;
        Unpack(gb, s, m, &lo, &hi);
        const int8_t* q8 = q[b].qs + 64 * s + 4 * m;
        const __m256i p0 =
            _mm256_madd_epi16(_mm256_maddubs_epi16(lo, Broadcast4(q8)), scale[2 * s]);
        const __m256i p1 =
            _mm256_madd_epi16(_mm256_maddubs_epi16(hi, Broadcast4(q8 + 32)), scale[2 * s + 1]);
        lane = _mm256_add_epi32(lane, _mm256_add_epi32(p0, p1));
      }
      acc[m] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(lane), acc[m]);
    }
  }
  // HsumPs: lanes m and m + 4, then (0 + 2) and (1 + 3), then those two.
  const __m256 s0 = _mm256_add_ps(acc[0], acc[4]), s1 = _mm256_add_ps(acc[1], acc[5]);
  const __m256 s2 = _mm256_add_ps(acc[2], acc[6]), s3 = _mm256_add_ps(acc[3], acc[7]);
  const __m256 sum = _mm256_add_ps(_mm256_add_ps(s0, s2), _mm256_add_ps(s1, s3));
  _mm256_storeu_ps(y, _mm256_sub_ps(sum, acc_m));
}

// kT tokens, eight rows, in the tiled order.
template <int kT>
inline void TiledRows8(int64_t nb, const GroupBlockQ5_K* g, const BlockQ8_K* const* q, float* y,
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
    for (int j = 0; j < kT; ++j) {
      int32_t pairs[4];
      BsumPairs(q[j][b], pairs);
      const __m256 mins = _mm256_cvtepi32_ps(MinsDot(mn, pairs));
      const __m256 res = _mm256_fmadd_ps(neg_xdmin, mins, _mm256_mul_ps(xd, _mm256_cvtepi32_ps(total[j])));
      acc[j] = _mm256_fmadd_ps(res, _mm256_set1_ps(q[j][b].d), acc[j]);
    }
  }
  for (int j = 0; j < kT; ++j) _mm256_storeu_ps(y + j * ldy, acc[j]);
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

// Fewer than 8 tokens in the vec_dot's order, token after token; 8+ in the tiled order.
void GemmQ5_KRows8Repacked(const GemmArgs& g) {
  if (g.n_tokens < 8) {
    GemmRepackedRows8<GroupBlockQ5_K>(g, 0, TiledRows8<4>, LanesRows8);
    return;
  }
  GemmRepackedRows8<GroupBlockQ5_K>(
      g, g.n_tokens / 4 * 4, TiledRows8<4>,
      [](int64_t nb, const GroupBlockQ5_K* group, const BlockQ8_K* q, float* y) {
        TiledRows8<1>(nb, group, &q, y, 8);
      });
}

}  // namespace foundry::x86::avx2

#endif  // defined(__x86_64__)
