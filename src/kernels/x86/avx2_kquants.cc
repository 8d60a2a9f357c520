// AVX2 dot products and gemm tiles of the K-quants (Q4_K, Q5_K, Q6_K weights against Q8_K
// activations), every output in the one K-quant order of every ISA and batch size
// (ref::VecDotQ4_KQ8_K): per super-block its exact integer total, then
// fma(d * total - dmin * mins, y.d, acc).
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>

#include "kernels/quant_blocks.h"
#include "kernels/x86/avx2_gemm_driver.h"
#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/avx2_kernels.h"

namespace foundry::x86::avx2 {

namespace {

// Horizontal sums of kN int32x4 vectors (kN a multiple of 4): out[k] = sum of v[k]'s lanes.
// Integer addition (wrapping) is associative, so a tile gets vec_dot's integers with fewer
// shuffles than kN separate HsumEpi32.
template <int kN>
inline void HsumEpi32Many(const __m128i* v, int32_t* out) {
  int g = 0;
  for (; g + 4 <= kN; g += 4) {
    const __m128i s =
        _mm_hadd_epi32(_mm_hadd_epi32(v[g], v[g + 1]), _mm_hadd_epi32(v[g + 2], v[g + 3]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + g), s);
  }
  for (; g < kN; ++g) out[g] = HsumEpi32(v[g]);
}
template <int kN>
inline void HsumEpi32Many(const __m256i* v, int32_t* out) {
  int g = 0;
  for (; g + 4 <= kN; g += 4) {
    const __m256i s =
        _mm256_hadd_epi32(_mm256_hadd_epi32(v[g], v[g + 1]), _mm256_hadd_epi32(v[g + 2], v[g + 3]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + g),
                     _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1)));
  }
  for (; g < kN; ++g) out[g] = HsumEpi32(v[g]);
}

// Sub-blocks 2s and 2s+1 of a Q4_K/Q5_K block as unsigned bytes, as VecDotQ4_KQ8_K and
// VecDotQ5_KQ8_K build them.
inline void UnpackQ4_K(const BlockQ4_K& x, int s, __m256i* lo, __m256i* hi) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i bits = Load256(x.qs + 32 * s);
  *lo = _mm256_and_si256(bits, m4);
  *hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
}
inline void UnpackQ5_K(const BlockQ5_K& x, int s, __m256i* lo, __m256i* hi) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i bits = Load256(x.qs + 32 * s);
  const __m256i hb = _mm256_srli_epi16(Load256(x.qh), 2 * s);
  *lo = _mm256_or_si256(_mm256_and_si256(bits, m4),
                        _mm256_slli_epi16(_mm256_and_si256(hb, _mm256_set1_epi8(1)), 4));
  *hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits, 4), m4),
                        _mm256_slli_epi16(_mm256_and_si256(hb, _mm256_set1_epi8(2)), 3));
}

// The f32 scales of eight tokens' Q8_K blocks b, lane j token j.
inline __m256 TokenScales8(const BlockQ8_K* const* q, int64_t b) {
  return _mm256_setr_ps(q[0][b].d, q[1][b].d, q[2][b].d, q[3][b].d, q[4][b].d, q[5][b].d, q[6][b].d,
                        q[7][b].d);
}

// Q4_K/Q5_K . Q8_K over a tile of kR rows x kT tokens: each weight block's nibbles and scales are
// unpacked once for the kT tokens and the bsum pairs once per token for the kR rows; each
// output's integer total per block, then the float step of ref::VecDotQ4_KQ8_K.
template <int kR, int kT, typename BlockW, void (*unpack)(const BlockW&, int, __m256i*, __m256i*)>
inline void TileQ4_KLike(int64_t nb, const BlockW* const* x, const BlockQ8_K* const* q, float* y,
                         int64_t ldy, const char* ahead = nullptr) {
  constexpr int kN = kR * kT;
  float acc[kR][kT] = {};
  for (int64_t b = 0; b < nb; ++b) {
    PrefetchAhead<kR * sizeof(BlockW)>(ahead, b);
    __m128i pairs[kT];  // bsums[2k] + bsums[2k+1]: the activation sums of the sub-blocks
    for (int j = 0; j < kT; ++j) {
      const __m256i bs = Load256(q[j][b].bsums);
      pairs[j] = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
    }
    __m128i mins_dot[kN];
    __m256i sums[kN];  // each output's integer lanes of this block
    for (int i = 0; i < kR; ++i) {
      const BlockW& xb = x[i][b];
      uint32_t utmp[4];
      UnpackScalesMinsK4(xb.scales, utmp);
      const uint8_t* sc = reinterpret_cast<const uint8_t*>(utmp);
      const __m128i mins =
          _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + 8)));
      for (int j = 0; j < kT; ++j) mins_dot[i * kT + j] = _mm_madd_epi16(pairs[j], mins);
      // The block's sub-blocks as bytes and their scales as int16, shared by the kT tokens.
      __m256i u[8], scale[8];
      for (int s = 0; s < 4; ++s) {
        unpack(xb, s, &u[2 * s], &u[2 * s + 1]);
        scale[2 * s] = _mm256_set1_epi16(sc[2 * s]);
        scale[2 * s + 1] = _mm256_set1_epi16(sc[2 * s + 1]);
      }
      for (int j = 0; j < kT; ++j) {
        __m256i sumi = _mm256_setzero_si256();
        for (int s = 0; s < 4; ++s) {
          const int8_t* q8 = q[j][b].qs + 64 * s;
          const __m256i p0 =
              _mm256_madd_epi16(_mm256_maddubs_epi16(u[2 * s], Load256(q8)), scale[2 * s]);
          const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(u[2 * s + 1], Load256(q8 + 32)),
                                               scale[2 * s + 1]);
          sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        sums[i * kT + j] = sumi;
      }
    }
    alignas(32) int32_t md[kN], totals[kN];
    HsumEpi32Many<kN>(mins_dot, md);
    HsumEpi32Many<kN>(sums, totals);
    if constexpr (kT == 8) {  // the scalar steps below, eight tokens a vector
      const __m256 yd = TokenScales8(q, b);
      for (int i = 0; i < kR; ++i) {
        const __m256 xd = _mm256_set1_ps(HalfToFloat(x[i][b].d));
        const __m256 neg_xdmin = _mm256_set1_ps(-HalfToFloat(x[i][b].dmin));
        const __m256 total = _mm256_cvtepi32_ps(Load256(totals + i * kT));
        const __m256 mins = _mm256_cvtepi32_ps(Load256(md + i * kT));
        const __m256 res = _mm256_fmadd_ps(neg_xdmin, mins, _mm256_mul_ps(xd, total));
        _mm256_storeu_ps(acc[i], _mm256_fmadd_ps(res, yd, _mm256_loadu_ps(acc[i])));
      }
    } else {
      for (int i = 0; i < kR; ++i) {
        const float xd = HalfToFloat(x[i][b].d), xdmin = HalfToFloat(x[i][b].dmin);
        for (int j = 0; j < kT; ++j) {
          const float total = static_cast<float>(totals[i * kT + j]);
          const float mins = static_cast<float>(md[i * kT + j]);
          const float res = __builtin_fmaf(-xdmin, mins, xd * total);
          acc[i][j] = __builtin_fmaf(res, q[j][b].d, acc[i][j]);
        }
      }
    }
  }
  for (int i = 0; i < kR; ++i) {
    for (int j = 0; j < kT; ++j) y[j * ldy + i] = acc[i][j];
  }
}

template <typename BlockW, void (*unpack)(const BlockW&, int, __m256i*, __m256i*)>
inline void TileQ4_KLikeRows4(int64_t nb, const BlockW* const* x, const BlockQ8_K* q, float* y,
                              const char* ahead) {
  TileQ4_KLike<4, 1, BlockW, unpack>(nb, x, &q, y, 1, ahead);
}

// One output (vec_dot, and the edges of the tiles).
template <typename BlockW, void (*unpack)(const BlockW&, int, __m256i*, __m256i*)>
float VecDotQ4_KLike(int64_t n, const void* w, const void* a) {
  const BlockW* x = static_cast<const BlockW*>(w);
  const BlockQ8_K* q = static_cast<const BlockQ8_K*>(a);
  float y;
  TileQ4_KLike<1, 1, BlockW, unpack>(n / kQK_K, &x, &q, &y, 1);
  return y;
}

// Prompts in tiles of 2 rows x 8 tokens, decoding in tiles of 4 rows (avx2_gemm_driver.h).
template <typename BlockW, void (*unpack)(const BlockW&, int, __m256i*, __m256i*)>
void GemmQ4_KLike(const GemmArgs& g) {
  constexpr auto kTile = [](int64_t nb, const BlockW* const* x, const BlockQ8_K* const* q, float* y,
                            int64_t ldy) { TileQ4_KLike<2, 8, BlockW, unpack>(nb, x, q, y, ldy); };
  PlainTiles<BlockW, BlockQ8_K, decltype(kTile)> tiles(kTile);
  GemmTiles<BlockW, BlockQ8_K, kQK_K, 2, 8>(g, tiles, TileQ4_KLikeRows4<BlockW, unpack>,
                                            VecDotQ4_KLike<BlockW, unpack>);
}

// Q6_K . Q8_K over a tile of kR rows x kT tokens: each weight block's 6-bit quants and scale
// vectors are built once for the kT tokens; each output's integer total per block (less
// 32 * scale * bsums: q is stored as q + 32), then the float step of ref::VecDotQ6_KQ8_K.
template <int kR, int kT>
inline void TileQ6_KQ8_K(int64_t nb, const BlockQ6_K* const* x, const BlockQ8_K* const* q, float* y,
                         int64_t ldy, const char* ahead = nullptr) {
  constexpr int kN = kR * kT;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i m2a = _mm256_set1_epi8(0x03);
  const __m256i m2b = _mm256_set1_epi8(0x0C);
  const __m256i m2c = _mm256_set1_epi8(0x30);
  const __m256i m2d = _mm256_set1_epi8(static_cast<char>(0xC0));
  float acc[kR][kT] = {};
  for (int64_t b = 0; b < nb; ++b) {
    PrefetchAhead<kR * sizeof(BlockQ6_K)>(ahead, b);
    if constexpr (kT > 1) {  // prompt tiles: each row's block after next (a hint: no fault past the end)
      for (int i = 0; i < kR; ++i) {
        const char* next = reinterpret_cast<const char*>(x[i] + b + 2);
        for (size_t o = 0; o < sizeof(BlockQ6_K); o += 64) _mm_prefetch(next + o, _MM_HINT_T0);
      }
    }
    __m256i bsums[kT];
    for (int j = 0; j < kT; ++j) bsums[j] = Load256(q[j][b].bsums);
    __m256i sumi[kN];
    for (int i = 0; i < kR; ++i) {
      const BlockQ6_K& xb = x[i][b];
      const __m128i sc8 = Load128(xb.scales);
      const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
      __m256i* si = sumi + i * kT;
      // Start from -32 * bias (q is stored as q + 32).
      for (int j = 0; j < kT; ++j) {
        si[j] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                 _mm256_slli_epi32(_mm256_madd_epi16(sc16, bsums[j]), 5));
      }
      // Per half: its 6-bit quants (32 per vector) and their scales as int16, built once for
      // the kT tokens.
      for (int h = 0; h < 2; ++h) {
        const uint8_t* ql = xb.ql + 64 * h;
        const __m256i ql0 = Load256(ql);
        const __m256i ql1 = Load256(ql + 32);
        const __m256i hb = Load256(xb.qh + 32 * h);
        __m256i qk[4];
        qk[0] = _mm256_or_si256(_mm256_and_si256(ql0, m4),
                                _mm256_slli_epi16(_mm256_and_si256(hb, m2a), 4));
        qk[1] = _mm256_or_si256(_mm256_and_si256(ql1, m4),
                                _mm256_slli_epi16(_mm256_and_si256(hb, m2b), 2));
        qk[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                                _mm256_and_si256(hb, m2c));
        qk[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                _mm256_srli_epi16(_mm256_and_si256(hb, m2d), 2));
        __m256i scale[4];
        for (int k = 0; k < 4; ++k) {
          // Scales 8h+2k and 8h+2k+1, each for 8 int16 lanes.
          const int lo = 8 * h + 2 * k;
          const __m128i pair =
              _mm_set_epi64x(0x0101010101010101LL * (lo + 1), 0x0101010101010101LL * lo);
          scale[k] = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, pair));
        }
        for (int j = 0; j < kT; ++j) {
          const int8_t* q8 = q[j][b].qs + 128 * h;
          __m256i acc_j = si[j];
          for (int k = 0; k < 4; ++k) {
            const __m256i p = _mm256_maddubs_epi16(qk[k], Load256(q8 + 32 * k));
            acc_j = _mm256_add_epi32(acc_j, _mm256_madd_epi16(p, scale[k]));
          }
          si[j] = acc_j;
        }
      }
    }
    alignas(32) int32_t totals[kN];
    HsumEpi32Many<kN>(sumi, totals);
    if constexpr (kT == 8) {  // the scalar steps below, eight tokens a vector
      const __m256 yd = TokenScales8(q, b);
      for (int i = 0; i < kR; ++i) {
        const __m256 total = _mm256_cvtepi32_ps(Load256(totals + i * kT));
        const __m256 res = _mm256_mul_ps(_mm256_set1_ps(HalfToFloat(x[i][b].d)), total);
        _mm256_storeu_ps(acc[i], _mm256_fmadd_ps(res, yd, _mm256_loadu_ps(acc[i])));
      }
    } else {
      for (int i = 0; i < kR; ++i) {
        const float xd = HalfToFloat(x[i][b].d);
        for (int j = 0; j < kT; ++j) {
          acc[i][j] =
              __builtin_fmaf(xd * static_cast<float>(totals[i * kT + j]), q[j][b].d, acc[i][j]);
        }
      }
    }
  }
  for (int i = 0; i < kR; ++i) {
    for (int j = 0; j < kT; ++j) y[j * ldy + i] = acc[i][j];
  }
}

// Decoding: four rows as two tiles of two; a 4-row tile needs more than AVX2's 16 vector
// registers and spills.
inline void TileQ6_KQ8_KRows4(int64_t nb, const BlockQ6_K* const* x, const BlockQ8_K* q, float* y,
                              const char* ahead) {
  Rows4AsPairs(nb, x, q, y, ahead,
               [](int64_t n, const BlockQ6_K* const* x2, const BlockQ8_K* q1, float* y2,
                  const char* a) { TileQ6_KQ8_K<2, 1>(n, x2, &q1, y2, 1, a); });
}

}  // namespace

float VecDotQ4_KQ8_K(int64_t n, const void* w, const void* a) {
  return VecDotQ4_KLike<BlockQ4_K, UnpackQ4_K>(n, w, a);
}

float VecDotQ5_KQ8_K(int64_t n, const void* w, const void* a) {
  return VecDotQ4_KLike<BlockQ5_K, UnpackQ5_K>(n, w, a);
}

float VecDotQ6_KQ8_K(int64_t n, const void* w, const void* a) {
  const BlockQ6_K* x = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* q = static_cast<const BlockQ8_K*>(a);
  float y;
  TileQ6_KQ8_K<1, 1>(n / kQK_K, &x, &q, &y, 1);
  return y;
}

void GemmQ4_KQ8_K(const GemmArgs& g) { GemmQ4_KLike<BlockQ4_K, UnpackQ4_K>(g); }

void GemmQ5_KQ8_K(const GemmArgs& g) { GemmQ4_KLike<BlockQ5_K, UnpackQ5_K>(g); }

void GemmQ6_KQ8_K(const GemmArgs& g) {
  constexpr auto kTile = [](int64_t nb, const BlockQ6_K* const* x, const BlockQ8_K* const* q,
                            float* y, int64_t ldy) { TileQ6_KQ8_K<2, 8>(nb, x, q, y, ldy); };
  PlainTiles<BlockQ6_K, BlockQ8_K, decltype(kTile)> tiles(kTile);
  GemmTiles<BlockQ6_K, BlockQ8_K, kQK_K, 2, 8>(g, tiles, TileQ6_KQ8_KRows4, VecDotQ6_KQ8_K);
}

}  // namespace foundry::x86::avx2

#endif  // defined(__x86_64__)
