// AVX2 dot products and gemm tiles of the K-quants (Q4_K, Q5_K, Q6_K weights against Q8_K
// activations) in each of llama.cpp's orders; see avx2_kernels.h for the numerics.
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>

#include "kernels/quant_blocks.h"
#include "kernels/x86/avx2_gemm_driver.h"
#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/avx2_kernels.h"

namespace foundry::x86::avx2 {

float VecDotQ4_KQ8_K(int64_t n, const void* w, const void* a) {
  const BlockQ4_K* x = static_cast<const BlockQ4_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const int64_t nb = n / kQK_K;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps();
  float acc_m = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = HalfToFloat(x[i].d) * y[i].d;
    const float dmin = HalfToFloat(x[i].dmin) * y[i].d;
    uint32_t utmp[4];
    UnpackScalesMinsK4(x[i].scales, utmp);
    const uint8_t* sc = reinterpret_cast<const uint8_t*>(utmp);
    acc_m += dmin * static_cast<float>(MinsDotBsums(sc + 8, y[i].bsums));
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j) {
      const __m256i bits = Load256(x[i].qs + 32 * j);
      const __m256i lo = _mm256_and_si256(bits, m4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
      __m256i p0 = _mm256_maddubs_epi16(lo, Load256(y[i].qs + 64 * j));
      __m256i p1 = _mm256_maddubs_epi16(hi, Load256(y[i].qs + 64 * j + 32));
      p0 = _mm256_madd_epi16(p0, _mm256_set1_epi16(sc[2 * j]));
      p1 = _mm256_madd_epi16(p1, _mm256_set1_epi16(sc[2 * j + 1]));
      sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return HsumPs(acc) - acc_m;
}

float VecDotQ5_KQ8_K(int64_t n, const void* w, const void* a) {
  const BlockQ5_K* x = static_cast<const BlockQ5_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const int64_t nb = n / kQK_K;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i bit0 = _mm256_set1_epi8(1);
  const __m256i bit1 = _mm256_set1_epi8(2);
  __m256 acc = _mm256_setzero_ps();
  float acc_m = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = HalfToFloat(x[i].d) * y[i].d;
    const float dmin = HalfToFloat(x[i].dmin) * y[i].d;
    uint32_t utmp[4];
    UnpackScalesMinsK4(x[i].scales, utmp);
    const uint8_t* sc = reinterpret_cast<const uint8_t*>(utmp);
    acc_m += dmin * static_cast<float>(MinsDotBsums(sc + 8, y[i].bsums));
    __m256i hb = Load256(x[i].qh);
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j) {
      const __m256i bits = Load256(x[i].qs + 32 * j);
      // Sub-block 2j takes bit 2j of qh, sub-block 2j+1 bit 2j+1 (hb is shifted by 2 per j).
      const __m256i lo = _mm256_or_si256(_mm256_and_si256(bits, m4),
                                         _mm256_slli_epi16(_mm256_and_si256(hb, bit0), 4));
      const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(hb, bit1), 3));
      hb = _mm256_srli_epi16(hb, 2);
      __m256i p0 = _mm256_maddubs_epi16(lo, Load256(y[i].qs + 64 * j));
      __m256i p1 = _mm256_maddubs_epi16(hi, Load256(y[i].qs + 64 * j + 32));
      p0 = _mm256_madd_epi16(p0, _mm256_set1_epi16(sc[2 * j]));
      p1 = _mm256_madd_epi16(p1, _mm256_set1_epi16(sc[2 * j + 1]));
      sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return HsumPs(acc) - acc_m;
}

float VecDotQ6_KQ8_K(int64_t n, const void* w, const void* a) {
  const BlockQ6_K* x = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const int64_t nb = n / kQK_K;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i m2a = _mm256_set1_epi8(0x03);
  const __m256i m2b = _mm256_set1_epi8(0x0C);
  const __m256i m2c = _mm256_set1_epi8(0x30);
  const __m256i m2d = _mm256_set1_epi8(static_cast<char>(0xC0));
  // Shuffle masks broadcasting scales 2p and 2p+1 to 8 bytes each.
  __m128i pair_mask[8];
  for (int p = 0; p < 8; ++p) {
    pair_mask[p] =
        _mm_set_epi64x(0x0101010101010101LL * (2 * p + 1), 0x0101010101010101LL * (2 * p));
  }
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const float d = HalfToFloat(x[i].d) * y[i].d;
    const __m128i sc8 = Load128(x[i].scales);
    // q is stored as q + 32: lane k starts at -32 * (scale * bsums of its two sub-blocks).
    __m256i sumi = _mm256_sub_epi32(
        _mm256_setzero_si256(),
        _mm256_slli_epi32(_mm256_madd_epi16(_mm256_cvtepi8_epi16(sc8), Load256(y[i].bsums)), 5));
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = x[i].ql + 64 * h;
      const int8_t* q8 = y[i].qs + 128 * h;
      const __m256i ql0 = Load256(ql);
      const __m256i ql1 = Load256(ql + 32);
      const __m256i hb = Load256(x[i].qh + 32 * h);
      __m256i q[4];
      q[0] = _mm256_or_si256(_mm256_and_si256(ql0, m4),
                             _mm256_slli_epi16(_mm256_and_si256(hb, m2a), 4));
      q[1] = _mm256_or_si256(_mm256_and_si256(ql1, m4),
                             _mm256_slli_epi16(_mm256_and_si256(hb, m2b), 2));
      q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                             _mm256_and_si256(hb, m2c));
      q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                             _mm256_srli_epi16(_mm256_and_si256(hb, m2d), 2));
      for (int k = 0; k < 4; ++k) {
        const __m256i p = _mm256_maddubs_epi16(q[k], Load256(q8 + 32 * k));
        const __m256i s = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, pair_mask[4 * h + k]));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, s));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return HsumPs(acc);
}

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

// The transpose of eight 4-lane vectors: lane j of out[s] is lane s of v[j].
inline void Transpose8x4(const __m128i* v, __m256i* out) {
  __m256i a[4];
  for (int j = 0; j < 4; ++j) a[j] = _mm256_set_m128i(v[j + 4], v[j]);
  const __m256i t0 = _mm256_unpacklo_epi32(a[0], a[1]), t1 = _mm256_unpackhi_epi32(a[0], a[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(a[2], a[3]), t3 = _mm256_unpackhi_epi32(a[2], a[3]);
  out[0] = _mm256_unpacklo_epi64(t0, t2);
  out[1] = _mm256_unpackhi_epi64(t0, t2);
  out[2] = _mm256_unpacklo_epi64(t1, t3);
  out[3] = _mm256_unpackhi_epi64(t1, t3);
}

// The float order of a Q4_K/Q5_K dot product: ggml_vec_dot_q4_K_q8_K's (an 8-lane accumulator
// fed each block's integer lanes, the mins in a scalar) or that of llama.cpp's kernels for
// repacked Q4_K (one accumulator fed each block's integer total, the mins in another; see
// ref::VecDotQ4_KQ8_KBlockTotals).
// kSubBlockPairs: the same as kBlockTotals with a float step per 64 elements (llama.cpp's
// repacked gemm, which takes tokens four at a time; its gemv takes the rest a block at a time).
// kTiled: llama.cpp's tiled K-quant matmul for batches of 8+ tokens (ref::VecDotQ6_KQ8_KTiled):
// one accumulator fed fma(d * total - dmin * mins, y.d) per block.
enum class KOrder { kLanes, kBlockTotals, kSubBlockPairs, kTiled };

// VecDotQ4_KQ8_K / VecDotQ5_KQ8_K over a tile of kR rows x kT tokens: per output the same
// float operations in the same order (kLanes: d and dmin products, acc_m += dmin * mins, one
// fma of the block's integer lanes, HsumPs(acc) - acc_m; kBlockTotals: see KOrder), while each
// weight block's nibbles and scales are unpacked once for kT tokens and the bsum pairs once per
// token for kR rows.
template <int kR, int kT, typename BlockW, void (*unpack)(const BlockW&, int, __m256i*, __m256i*),
          KOrder kOrder = KOrder::kLanes>
inline void TileQ4_KLike(int64_t nb, const BlockW* const* x, const BlockQ8_K* const* q, float* y,
                         int64_t ldy, const char* ahead = nullptr) {
  constexpr int kN = kR * kT;
  __m256 acc[kR][kT];
  float acc_m[kR][kT], acc_t[kR][kT];  // acc_t: kBlockTotals' accumulator
  for (int i = 0; i < kR; ++i) {
    for (int j = 0; j < kT; ++j) {
      acc[i][j] = _mm256_setzero_ps();
      acc_m[i][j] = acc_t[i][j] = 0.0f;
    }
  }
  for (int64_t b = 0; b < nb; ++b) {
    PrefetchAhead<kR * sizeof(BlockW)>(ahead, b);
    __m128i pairs[kT];  // bsums[2k] + bsums[2k+1], as MinsDotBsums adds them
    for (int j = 0; j < kT; ++j) {
      const __m256i bs = Load256(q[j][b].bsums);
      pairs[j] = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
    }
    __m128i mins_dot[kN];
    __m256i sums[kN];           // kBlockTotals: each output's integer lanes of this block
    __m256i pair_sums[kN * 4];  // kSubBlockPairs: the same per 64 elements, [i][s][j]
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
      const float xd = HalfToFloat(xb.d);
      for (int j = 0; j < kT; ++j) {
        __m256i sumi = _mm256_setzero_si256();
        for (int s = 0; s < 4; ++s) {
          const int8_t* q8 = q[j][b].qs + 64 * s;
          const __m256i p0 =
              _mm256_madd_epi16(_mm256_maddubs_epi16(u[2 * s], Load256(q8)), scale[2 * s]);
          const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(u[2 * s + 1], Load256(q8 + 32)),
                                               scale[2 * s + 1]);
          if constexpr (kOrder == KOrder::kSubBlockPairs) {
            pair_sums[(i * 4 + s) * kT + j] = _mm256_add_epi32(p0, p1);
          }
          sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        if constexpr (kOrder == KOrder::kLanes) {
          const float d = xd * q[j][b].d;
          acc[i][j] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc[i][j]);
        } else {
          sums[i * kT + j] = sumi;
        }
      }
    }
    // Each output's mins . bsums total (kSubBlockPairs keeps them per 64 elements instead).
    alignas(32) int32_t md[kN];
    if constexpr (kOrder != KOrder::kSubBlockPairs) HsumEpi32Many<kN>(mins_dot, md);
    if constexpr (kOrder == KOrder::kLanes) {
      for (int i = 0; i < kR; ++i) {
        const float xdmin = HalfToFloat(x[i][b].dmin);
        for (int j = 0; j < kT; ++j) {
          const float dmin = xdmin * q[j][b].d;
          acc_m[i][j] += dmin * static_cast<float>(md[i * kT + j]);
        }
      }
    } else if constexpr (kOrder == KOrder::kSubBlockPairs) {
      alignas(32) int32_t totals[kN * 4];  // [i][s][j]: per output, per 64 elements
      HsumEpi32Many<kN * 4>(pair_sums, totals);
      // Lane s of a mins product is the 64 elements s's two sub-blocks (madd of pairs).
      if constexpr (kT == 8) {
        const __m256 yd = TokenScales8(q, b);
        for (int i = 0; i < kR; ++i) {
          const __m256 xd_yd = _mm256_mul_ps(_mm256_set1_ps(HalfToFloat(x[i][b].d)), yd);
          const __m256 xdmin_yd = _mm256_mul_ps(_mm256_set1_ps(HalfToFloat(x[i][b].dmin)), yd);
          __m256i mins[4];
          Transpose8x4(mins_dot + i * kT, mins);
          __m256 t = _mm256_loadu_ps(acc_t[i]), m = _mm256_loadu_ps(acc_m[i]);
          for (int s = 0; s < 4; ++s) {
            const __m256i total = Load256(totals + (i * 4 + s) * kT);
            t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), xd_yd, t);
            m = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mins[s]), xdmin_yd, m);
          }
          _mm256_storeu_ps(acc_t[i], t);
          _mm256_storeu_ps(acc_m[i], m);
        }
      } else {
        int32_t mins[kN * 4];  // [o][s]
        for (int o = 0; o < kN; ++o)
          _mm_storeu_si128(reinterpret_cast<__m128i*>(mins + 4 * o), mins_dot[o]);
        for (int i = 0; i < kR; ++i) {
          const float xd = HalfToFloat(x[i][b].d), xdmin = HalfToFloat(x[i][b].dmin);
          for (int j = 0; j < kT; ++j) {
            const float yd = q[j][b].d;
            const int o = i * kT + j;
            for (int s = 0; s < 4; ++s) {
              acc_t[i][j] = __builtin_fmaf(static_cast<float>(totals[(i * 4 + s) * kT + j]),
                                           xd * yd, acc_t[i][j]);
              acc_m[i][j] =
                  __builtin_fmaf(static_cast<float>(mins[4 * o + s]), xdmin * yd, acc_m[i][j]);
            }
          }
        }
      }
    } else {
      alignas(32) int32_t totals[kN];
      HsumEpi32Many<kN>(sums, totals);
      if constexpr (kT == 8 && kOrder == KOrder::kTiled) {
        const __m256 yd = TokenScales8(q, b);
        for (int i = 0; i < kR; ++i) {
          const __m256 xd = _mm256_set1_ps(HalfToFloat(x[i][b].d));
          const __m256 neg_xdmin = _mm256_set1_ps(-HalfToFloat(x[i][b].dmin));
          const __m256 total = _mm256_cvtepi32_ps(Load256(totals + i * kT));
          const __m256 mins = _mm256_cvtepi32_ps(Load256(md + i * kT));
          const __m256 res = _mm256_fmadd_ps(neg_xdmin, mins, _mm256_mul_ps(xd, total));
          _mm256_storeu_ps(acc_t[i], _mm256_fmadd_ps(res, yd, _mm256_loadu_ps(acc_t[i])));
        }
      } else {
        for (int i = 0; i < kR; ++i) {
          const float xd = HalfToFloat(x[i][b].d), xdmin = HalfToFloat(x[i][b].dmin);
          for (int j = 0; j < kT; ++j) {
            const float yd = q[j][b].d;
            const float total = static_cast<float>(totals[i * kT + j]);
            const float mins = static_cast<float>(md[i * kT + j]);
            if constexpr (kOrder == KOrder::kTiled) {
              const float res = __builtin_fmaf(-xdmin, mins, xd * total);
              acc_t[i][j] = __builtin_fmaf(res, yd, acc_t[i][j]);
            } else {
              acc_t[i][j] = __builtin_fmaf(total, xd * yd, acc_t[i][j]);
              acc_m[i][j] = __builtin_fmaf(mins, xdmin * yd, acc_m[i][j]);
            }
          }
        }
      }
    }
  }
  for (int i = 0; i < kR; ++i) {
    for (int j = 0; j < kT; ++j) {
      y[j * ldy + i] =
          kOrder == KOrder::kLanes ? HsumPs(acc[i][j]) - acc_m[i][j] : acc_t[i][j] - acc_m[i][j];
    }
  }
}

template <typename BlockW, void (*unpack)(const BlockW&, int, __m256i*, __m256i*),
          KOrder kOrder = KOrder::kLanes>
inline void TileQ4_KLikeRows4(int64_t nb, const BlockW* const* x, const BlockQ8_K* q, float* y,
                              const char* ahead) {
  TileQ4_KLike<4, 1, BlockW, unpack, kOrder>(nb, x, &q, y, 1, ahead);
}

// Q4_K/Q5_K . Q8_K in one of the KOrder orders, one output (the edges of the tiles).
template <typename BlockW, void (*unpack)(const BlockW&, int, __m256i*, __m256i*), KOrder kOrder>
float VecDotQ4_KLikeInOrder(int64_t n, const void* w, const void* a) {
  const BlockW* x = static_cast<const BlockW*>(w);
  const BlockQ8_K* q = static_cast<const BlockQ8_K*>(a);
  float y;
  TileQ4_KLike<1, 1, BlockW, unpack, kOrder>(n / kQK_K, &x, &q, &y, 1);
  return y;
}
template <KOrder kOrder>
constexpr auto VecDotQ4_KQ8_KInOrder = VecDotQ4_KLikeInOrder<BlockQ4_K, UnpackQ4_K, kOrder>;

// A Q4_K/Q5_K gemm whose every output follows kOrder.
template <typename BlockW, void (*unpack)(const BlockW&, int, __m256i*, __m256i*), KOrder kOrder>
void GemmQ4_KLikeInOrder(const GemmArgs& g) {
  constexpr auto kTile = [](int64_t nb, const BlockW* const* x, const BlockQ8_K* const* q, float* y,
                            int64_t ldy) {
    TileQ4_KLike<2, 8, BlockW, unpack, kOrder>(nb, x, q, y, ldy);
  };
  PlainTiles<BlockW, BlockQ8_K, decltype(kTile)> tiles(kTile);
  GemmTiles<BlockW, BlockQ8_K, kQK_K, 2, 8>(g, tiles, TileQ4_KLikeRows4<BlockW, unpack, kOrder>,
                                            VecDotQ4_KLikeInOrder<BlockW, unpack, kOrder>);
}

}  // namespace

void GemmQ4_KQ8_K(const GemmArgs& g) {
  GemmQ4_KLikeInOrder<BlockQ4_K, UnpackQ4_K, KOrder::kLanes>(g);
}

void GemmQ4_KQ8_KTiledOrder(const GemmArgs& g) {
  GemmQ4_KLikeInOrder<BlockQ4_K, UnpackQ4_K, KOrder::kTiled>(g);
}

void GemmQ5_KQ8_K(const GemmArgs& g) {
  GemmQ4_KLikeInOrder<BlockQ5_K, UnpackQ5_K, KOrder::kLanes>(g);
}

void GemmQ5_KQ8_KTiledOrder(const GemmArgs& g) {
  GemmQ4_KLikeInOrder<BlockQ5_K, UnpackQ5_K, KOrder::kTiled>(g);
}

// llama.cpp's repacked Q4_K: whole groups of four tokens in its gemm's order, the last
// n_tokens % 4 in its gemv's.
void GemmQ4_KQ8_KRepackedOrder(const GemmArgs& g) {
  const int64_t n4 = g.n_tokens / 4 * 4;
  if (n4 > 0) {
    GemmArgs groups = g;
    groups.n_tokens = n4;
    GemmQ4_KLikeInOrder<BlockQ4_K, UnpackQ4_K, KOrder::kSubBlockPairs>(groups);
  }
  if (n4 < g.n_tokens) {
    GemmArgs rest = g;
    rest.a = static_cast<const uint8_t*>(g.a) + n4 * g.a_stride;
    rest.n_tokens = g.n_tokens - n4;
    rest.y = g.y + n4 * g.ldy;
    GemmRows4<BlockQ4_K, BlockQ8_K, kQK_K>(
        rest, TileQ4_KLikeRows4<BlockQ4_K, UnpackQ4_K, KOrder::kBlockTotals>,
        VecDotQ4_KQ8_KInOrder<KOrder::kBlockTotals>);
  }
}

namespace {

// VecDotQ6_KQ8_K over a tile of kR rows x kT tokens: per output ggml_vec_dot_q6_K_q8_K's AVX2
// order (kLanes: the block's integer lanes, less 32 * scale * bsums per lane, fused into an
// 8-lane accumulator; HsumPs at the end) or the tiled matmul's (kTiled: see KOrder). Each
// weight block's 6-bit quants and scale vectors are built once for kT tokens.
template <int kR, int kT, KOrder kOrder = KOrder::kLanes>
inline void TileQ6_KQ8_K(int64_t nb, const BlockQ6_K* const* x, const BlockQ8_K* const* q, float* y,
                         int64_t ldy, const char* ahead = nullptr) {
  static_assert(kOrder == KOrder::kLanes || kOrder == KOrder::kTiled);
  constexpr int kN = kR * kT;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i m2a = _mm256_set1_epi8(0x03);
  const __m256i m2b = _mm256_set1_epi8(0x0C);
  const __m256i m2c = _mm256_set1_epi8(0x30);
  const __m256i m2d = _mm256_set1_epi8(static_cast<char>(0xC0));
  __m256 acc[kR][kT];
  float acc_t[kR][kT];  // kTiled's accumulator
  for (int i = 0; i < kR; ++i) {
    for (int j = 0; j < kT; ++j) {
      acc[i][j] = _mm256_setzero_ps();
      acc_t[i][j] = 0.0f;
    }
  }
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
    if constexpr (kOrder == KOrder::kTiled) {
      alignas(32) int32_t totals[kN];
      HsumEpi32Many<kN>(sumi, totals);
      if constexpr (kT == 8) {  // the scalar loop's operations, eight tokens a vector
        const __m256 yd = TokenScales8(q, b);
        for (int i = 0; i < kR; ++i) {
          const __m256 total = _mm256_cvtepi32_ps(Load256(totals + i * kT));
          const __m256 res = _mm256_mul_ps(_mm256_set1_ps(HalfToFloat(x[i][b].d)), total);
          _mm256_storeu_ps(acc_t[i], _mm256_fmadd_ps(res, yd, _mm256_loadu_ps(acc_t[i])));
        }
      } else {
        for (int i = 0; i < kR; ++i) {
          const float xd = HalfToFloat(x[i][b].d);
          for (int j = 0; j < kT; ++j) {
            acc_t[i][j] =
                __builtin_fmaf(xd * static_cast<float>(totals[i * kT + j]), q[j][b].d, acc_t[i][j]);
          }
        }
      }
    } else {
      for (int i = 0; i < kR; ++i) {
        const float xd = HalfToFloat(x[i][b].d);
        for (int j = 0; j < kT; ++j) {
          const float d = xd * q[j][b].d;
          acc[i][j] =
              _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi[i * kT + j]), acc[i][j]);
        }
      }
    }
  }
  for (int i = 0; i < kR; ++i) {
    for (int j = 0; j < kT; ++j) {
      y[j * ldy + i] = kOrder == KOrder::kTiled ? acc_t[i][j] : HsumPs(acc[i][j]);
    }
  }
}

template <KOrder kOrder>
inline void TileQ6_KQ8_KRows4(int64_t nb, const BlockQ6_K* const* x, const BlockQ8_K* q, float* y,
                              const char* ahead) {
  TileQ6_KQ8_K<4, 1, kOrder>(nb, x, &q, y, 1, ahead);
}

template <KOrder kOrder>
float VecDotQ6_KQ8_KInOrder(int64_t n, const void* w, const void* a) {
  const BlockQ6_K* x = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* q = static_cast<const BlockQ8_K*>(a);
  float y;
  TileQ6_KQ8_K<1, 1, kOrder>(n / kQK_K, &x, &q, &y, 1);
  return y;
}

template <KOrder kOrder>
void GemmQ6_KQ8_KInOrder(const GemmArgs& g) {
  constexpr auto kTile = [](int64_t nb, const BlockQ6_K* const* x, const BlockQ8_K* const* q,
                            float* y,
                            int64_t ldy) { TileQ6_KQ8_K<2, 8, kOrder>(nb, x, q, y, ldy); };
  PlainTiles<BlockQ6_K, BlockQ8_K, decltype(kTile)> tiles(kTile);
  GemmTiles<BlockQ6_K, BlockQ8_K, kQK_K, 2, 8>(g, tiles, TileQ6_KQ8_KRows4<kOrder>,
                                               VecDotQ6_KQ8_KInOrder<kOrder>);
}

}  // namespace

void GemmQ6_KQ8_K(const GemmArgs& g) { GemmQ6_KQ8_KInOrder<KOrder::kLanes>(g); }

void GemmQ6_KQ8_KTiledOrder(const GemmArgs& g) { GemmQ6_KQ8_KInOrder<KOrder::kTiled>(g); }

}  // namespace foundry::x86::avx2

#endif  // defined(__x86_64__)
