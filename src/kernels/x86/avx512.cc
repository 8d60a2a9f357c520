// AVX-512 (F, BW, VL, VNNI, BF16) kernels. Compiled with the matching -m flags
// (src/CMakeLists.txt); only reached through kernels.cc after CPUID confirms every one of
// them. Same rules and numerics as the AVX2 files (see x86_kernels.h, avx2_kernels.h); integer dot
// products use VNNI's vpdpbusd (unsigned x signed bytes, summed in groups of four into int32, no
// saturation), BF16 uses vdpbf16ps (not exact: it flushes denormals to zero).
#if defined(__x86_64__)

// GCC 12 reports its own _mm512_undefined_*() placeholders (inside max/reduce intrinsics) as
// (maybe-)uninitialized; they are intentionally undefined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <immintrin.h>

#include <cstdint>

#include "kernels/quant_blocks.h"
#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/x86_kernels.h"

namespace foundry::x86 {
namespace {

inline __m512i Load512(const void* p) { return _mm512_loadu_si512(p); }

// Two 256-bit halves into one 512-bit register: lo in bytes 0..31.
inline __m512i Join(__m256i lo, __m256i hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// ggml's nearest_int bit trick, exactly (the 8-lane NearestInt, avx2_helpers.h).
inline __m512i NearestInt(__m512 f) {
  const __m512i bits = _mm512_castps_si512(_mm512_add_ps(f, _mm512_set1_ps(12582912.0f)));
  return _mm512_sub_epi32(_mm512_and_si512(bits, _mm512_set1_epi32(0x007fffff)),
                          _mm512_set1_epi32(0x00400000));
}

inline __m512i SignExtendLowByte(__m512i v) {
  return _mm512_srai_epi32(_mm512_slli_epi32(v, 24), 24);
}

// sum x*y in groups of four bytes (16 int32 lanes); x in [-128, 127], y in [-127, 127].
inline __m512i DotI8(__m512i x, __m512i y) {
  const __m512i ax = _mm512_abs_epi8(x);
  const __m512i sy = _mm512_mask_sub_epi8(y, _mm512_movepi8_mask(x), _mm512_setzero_si512(), y);
  return _mm512_dpbusd_epi32(_mm512_setzero_si512(), ax, sy);
}

// 16 bytes of packed nibbles of two Q4 blocks -> [lo A, hi A, lo B, hi B] (64 bytes).
inline __m512i UnpackNibblesPair(const uint8_t* a, const uint8_t* b) {
  const __m256i v = _mm256_set_m128i(Load128(b), Load128(a));
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m512i q = Join(_mm256_and_si256(v, m4), _mm256_and_si256(_mm256_srli_epi16(v, 4), m4));
  return _mm512_shuffle_i64x2(q, q, _MM_SHUFFLE(3, 1, 2, 0));
}

// 16 lanes: d_a in lanes 0..7, d_b in lanes 8..15.
inline __m512 ScalePair(float da, float db) {
  return _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(da), _mm512_set1_ps(db));
}

// ---------------------------------------------------------------------------------------
// Activation quantizers
// ---------------------------------------------------------------------------------------

// Q8_0/Q8_1 activations come from avx2_quantize.cc (the merged table inherits them): llama.cpp's
// AVX-512 builds quantize with the same AVX2 code.

void QuantizeRowQ8_K(const float* src, void* dst, int64_t n) {
  BlockQ8_K* y = static_cast<BlockQ8_K*>(dst);
  const int64_t nb = n / kQK_K;
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQK_K;
    __m512 m = _mm512_setzero_ps();
    for (int k = 0; k < kQK_K; k += 16) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + k)));
    const float amax = _mm512_reduce_max_ps(m);
    if (amax == 0.0f) {
      y[i].d = 0.0f;
      __builtin_memset(y[i].qs, 0, sizeof(y[i].qs));
      __builtin_memset(y[i].bsums, 0, sizeof(y[i].bsums));
      continue;
    }
    const __m512 va = _mm512_set1_ps(amax);
    int first = 0;
    for (int k = 0; k < kQK_K; k += 16) {
      const __mmask16 eq =
          _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + k)), va, _CMP_EQ_OQ);
      if (eq) {
        first = k + __builtin_ctz(static_cast<unsigned>(eq));
        break;
      }
    }
    const float iscale = -127.0f / x[first];
    const __m512 vs = _mm512_set1_ps(iscale);
    const __m512i v127 = _mm512_set1_epi32(127);
    for (int k = 0; k < kQK_K; k += 16) {
      const __m512i q = SignExtendLowByte(
          _mm512_min_epi32(NearestInt(_mm512_mul_ps(vs, _mm512_loadu_ps(x + k))), v127));
      y[i].bsums[k / 16] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y[i].qs + k), _mm512_cvtepi32_epi8(q));
    }
    y[i].d = 1 / iscale;
  }
}

// ---------------------------------------------------------------------------------------
// Float dot products (tails through masked loads)
// ---------------------------------------------------------------------------------------

float VecDotF32F32(int64_t n, const void* w, const void* a) {
  const float* x = static_cast<const float*>(w);
  const float* y = static_cast<const float*>(a);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), acc1);
  }
  for (; i < n; i += 16) {
    const __mmask16 k = n - i >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << (n - i)) - 1);
    acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, x + i), _mm512_maskz_loadu_ps(k, y + i), acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

float VecDotF16F16(int64_t n, const void* w, const void* a) {
  const uint16_t* x = static_cast<const uint16_t*>(w);
  const uint16_t* y = static_cast<const uint16_t*>(a);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_cvtph_ps(Load256(x + i)), _mm512_cvtph_ps(Load256(y + i)), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_cvtph_ps(Load256(x + i + 16)),
                           _mm512_cvtph_ps(Load256(y + i + 16)), acc1);
  }
  for (; i < n; i += 16) {
    const __mmask16 k = n - i >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << (n - i)) - 1);
    acc0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, x + i)),
                           _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, y + i)), acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

float VecDotBF16BF16(int64_t n, const void* w, const void* a) {
  const uint16_t* x = static_cast<const uint16_t*>(w);
  const uint16_t* y = static_cast<const uint16_t*>(a);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    acc0 = _mm512_dpbf16_ps(acc0, (__m512bh)Load512(x + i), (__m512bh)Load512(y + i));
    acc1 = _mm512_dpbf16_ps(acc1, (__m512bh)Load512(x + i + 32), (__m512bh)Load512(y + i + 32));
  }
  for (; i < n; i += 32) {
    const __mmask32 k = n - i >= 32 ? 0xFFFFFFFFu : static_cast<__mmask32>((1u << (n - i)) - 1);
    acc0 = _mm512_dpbf16_ps(acc0, (__m512bh)_mm512_maskz_loadu_epi16(k, x + i),
                            (__m512bh)_mm512_maskz_loadu_epi16(k, y + i));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

// ---------------------------------------------------------------------------------------
// Quantized dot products: two 32-element blocks per 512-bit register
// ---------------------------------------------------------------------------------------

float VecDotQ4_0Q8_0(int64_t n, const void* w, const void* a) {
  const BlockQ4_0* x = static_cast<const BlockQ4_0*>(w);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(a);
  const int64_t nb = n / kQK8_0;
  const __m512i eight = _mm512_set1_epi8(8);
  const __m512i zero = _mm512_setzero_si512();
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    const __m512i q = UnpackNibblesPair(x[i].qs, x[i + 1].qs);
    const __m512i yv = Join(Load256(y[i].qs), Load256(y[i + 1].qs));
    // (q - 8) . y = q . y - 8 * sum(y), q unsigned.
    const __m512i dot =
        _mm512_sub_epi32(_mm512_dpbusd_epi32(zero, q, yv), _mm512_dpbusd_epi32(zero, eight, yv));
    const __m512 d = ScalePair(HalfToFloat(x[i].d) * HalfToFloat(y[i].d),
                               HalfToFloat(x[i + 1].d) * HalfToFloat(y[i + 1].d));
    acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(dot), acc);
  }
  float sumf = _mm512_reduce_add_ps(acc);
  for (; i < nb; ++i) {  // odd block count
    const __m256i v = _mm256_set_m128i(_mm_srli_epi16(Load128(x[i].qs), 4), Load128(x[i].qs));
    const __m256i q =
        _mm256_sub_epi8(_mm256_and_si256(v, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
    const __m256i yv = Load256(y[i].qs);
    const __m256i ax = _mm256_sign_epi8(q, q);
    const __m256i sy = _mm256_sign_epi8(yv, q);
    const int sumi = HsumEpi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), ax, sy));
    sumf += static_cast<float>(sumi) * (HalfToFloat(x[i].d) * HalfToFloat(y[i].d));
  }
  return sumf;
}

float VecDotQ4_1Q8_1(int64_t n, const void* w, const void* a) {
  const BlockQ4_1* x = static_cast<const BlockQ4_1*>(w);
  const BlockQ8_1* y = static_cast<const BlockQ8_1*>(a);
  const int64_t nb = n / kQK8_1;
  const __m512i zero = _mm512_setzero_si512();
  __m512 acc = _mm512_setzero_ps();
  float summs = 0.0f;
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    const __m512i q = UnpackNibblesPair(x[i].qs, x[i + 1].qs);
    const __m512i yv = Join(Load256(y[i].qs), Load256(y[i + 1].qs));
    const __m512 d = ScalePair(HalfToFloat(x[i].d) * HalfToFloat(y[i].d),
                               HalfToFloat(x[i + 1].d) * HalfToFloat(y[i + 1].d));
    acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(zero, q, yv)), acc);
    summs += HalfToFloat(x[i].m) * HalfToFloat(y[i].s) +
             HalfToFloat(x[i + 1].m) * HalfToFloat(y[i + 1].s);
  }
  float sumf = _mm512_reduce_add_ps(acc) + summs;
  for (; i < nb; ++i) {
    const __m256i v = _mm256_set_m128i(_mm_srli_epi16(Load128(x[i].qs), 4), Load128(x[i].qs));
    const __m256i q = _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
    const int sumi = HsumEpi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), q, Load256(y[i].qs)));
    sumf += (HalfToFloat(x[i].d) * HalfToFloat(y[i].d)) * static_cast<float>(sumi) +
            HalfToFloat(x[i].m) * HalfToFloat(y[i].s);
  }
  return sumf;
}

float VecDotQ8_0Q8_0(int64_t n, const void* w, const void* a) {
  const BlockQ8_0* x = static_cast<const BlockQ8_0*>(w);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(a);
  const int64_t nb = n / kQK8_0;
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    const __m512i xv = Join(Load256(x[i].qs), Load256(x[i + 1].qs));
    const __m512i yv = Join(Load256(y[i].qs), Load256(y[i + 1].qs));
    const __m512 d = ScalePair(HalfToFloat(x[i].d) * HalfToFloat(y[i].d),
                               HalfToFloat(x[i + 1].d) * HalfToFloat(y[i + 1].d));
    acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(DotI8(xv, yv)), acc);
  }
  float sumf = _mm512_reduce_add_ps(acc);
  for (; i < nb; ++i) {
    const __m256i xv = Load256(x[i].qs);
    const __m256i ax = _mm256_sign_epi8(xv, xv);
    const __m256i sy = _mm256_sign_epi8(Load256(y[i].qs), xv);
    const int sumi = HsumEpi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), ax, sy));
    sumf += static_cast<float>(sumi) * (HalfToFloat(x[i].d) * HalfToFloat(y[i].d));
  }
  return sumf;
}

// Lanes [s x8, s+1 x8] of the 8 sub-block scales in `scales` (int32 lanes 0..7).
inline __m512i ScalesFor32(__m512i scales, int s) {
  const __m512i idx = _mm512_add_epi32(
      _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1), _mm512_set1_epi32(s));
  return _mm512_permutexvar_epi32(idx, scales);
}

// Q4_K/Q5_K share everything but the fifth bit.
template <bool kFive, typename Block>
inline float VecDotK4(int64_t n, const Block* x, const BlockQ8_K* y) {
  const int64_t nb = n / kQK_K;
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i zero = _mm512_setzero_si512();
  const __m512i sixteen = _mm512_set1_epi8(16);
  __m512 acc = _mm512_setzero_ps();
  float acc_m = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = HalfToFloat(x[i].d) * y[i].d;
    const float dmin = HalfToFloat(x[i].dmin) * y[i].d;
    uint32_t utmp[4];
    UnpackScalesMinsK4(x[i].scales, utmp);
    const uint8_t* sc = reinterpret_cast<const uint8_t*>(utmp);
    acc_m += dmin * static_cast<float>(MinsDotBsums(sc + 8, y[i].bsums));
    const __m512i scales =
        _mm512_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc)));
    __m512i hb = zero;
    if constexpr (kFive) {
      const __m256i h = Load256(x[i].qh);
      hb = Join(h, h);
    }
    __m512i sumi = zero;
    for (int g = 0; g < 2; ++g) {
      // 64 bytes = qs groups 2g and 2g+1: low nibbles hold sub-blocks 4g and 4g+2, high
      // nibbles 4g+1 and 4g+3.
      const __m512i bits = Load512(x[i].qs + 64 * g);
      const __m512i lo = _mm512_and_si512(bits, m4);
      const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(bits, 4), m4);
      __m512i qa = _mm512_shuffle_i64x2(lo, hi, _MM_SHUFFLE(1, 0, 1, 0));  // sub 4g, 4g+1
      __m512i qb = _mm512_shuffle_i64x2(lo, hi, _MM_SHUFFLE(3, 2, 3, 2));  // sub 4g+2, 4g+3
      if constexpr (kFive) {
        // Element l of sub-block j has its fifth bit in qh[l] bit j.
        const int j = 4 * g;
        const __m512i bits_a = Join(_mm256_set1_epi8(static_cast<char>(1 << j)),
                                    _mm256_set1_epi8(static_cast<char>(1 << (j + 1))));
        const __m512i bits_b = Join(_mm256_set1_epi8(static_cast<char>(1 << (j + 2))),
                                    _mm256_set1_epi8(static_cast<char>(1 << (j + 3))));
        qa = _mm512_mask_add_epi8(qa, _mm512_test_epi8_mask(hb, bits_a), qa, sixteen);
        qb = _mm512_mask_add_epi8(qb, _mm512_test_epi8_mask(hb, bits_b), qb, sixteen);
      }
      const __m512i da = _mm512_dpbusd_epi32(zero, qa, Load512(y[i].qs + 128 * g));
      const __m512i db = _mm512_dpbusd_epi32(zero, qb, Load512(y[i].qs + 128 * g + 64));
      sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(da, ScalesFor32(scales, 4 * g)));
      sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(db, ScalesFor32(scales, 4 * g + 2)));
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
  }
  return _mm512_reduce_add_ps(acc) - acc_m;
}

float VecDotQ4_KQ8_K(int64_t n, const void* w, const void* a) {
  return VecDotK4<false>(n, static_cast<const BlockQ4_K*>(w), static_cast<const BlockQ8_K*>(a));
}

float VecDotQ5_KQ8_K(int64_t n, const void* w, const void* a) {
  return VecDotK4<true>(n, static_cast<const BlockQ5_K*>(w), static_cast<const BlockQ8_K*>(a));
}

float VecDotQ6_KQ8_K(int64_t n, const void* w, const void* a) {
  const BlockQ6_K* x = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const int64_t nb = n / kQK_K;
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i zero = _mm512_setzero_si512();
  // Elements 0..31 of a half take qh bits 0-1 (<< 4), 32..63 bits 2-3 (<< 2),
  // 64..95 bits 4-5 (as is), 96..127 bits 6-7 (>> 2).
  const __m512i mask_a = Join(_mm256_set1_epi8(0x03), _mm256_set1_epi8(0x0C));
  const __m512i shift_a = Join(_mm256_set1_epi16(4), _mm256_set1_epi16(2));
  const __m512i mask_b = Join(_mm256_set1_epi8(0x30), _mm256_set1_epi8(static_cast<char>(0xC0)));
  const __m512i shift_b = Join(_mm256_set1_epi16(0), _mm256_set1_epi16(2));
  // Lanes [s x4, s+1 x4, s+2 x4, s+3 x4]: four sub-blocks of 16 per 64 elements.
  const __m512i idx4 = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  float sumf = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = HalfToFloat(x[i].d) * y[i].d;
    const __m128i sc8 = Load128(x[i].scales);
    const int bias = HsumEpi32(_mm256_madd_epi16(_mm256_cvtepi8_epi16(sc8), Load256(y[i].bsums)));
    const __m512i scales = _mm512_cvtepi8_epi32(sc8);
    __m512i sumi = zero;
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = Load512(x[i].ql + 64 * h);
      const __m256i qh256 = Load256(x[i].qh + 32 * h);
      const __m512i qh = Join(qh256, qh256);
      const __m512i qa = _mm512_or_si512(_mm512_and_si512(ql, m4),
                                         _mm512_sllv_epi16(_mm512_and_si512(qh, mask_a), shift_a));
      const __m512i qb = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4),
                                         _mm512_srlv_epi16(_mm512_and_si512(qh, mask_b), shift_b));
      const __m512i da = _mm512_dpbusd_epi32(zero, qa, Load512(y[i].qs + 128 * h));
      const __m512i db = _mm512_dpbusd_epi32(zero, qb, Load512(y[i].qs + 128 * h + 64));
      const __m512i sa =
          _mm512_permutexvar_epi32(_mm512_add_epi32(idx4, _mm512_set1_epi32(8 * h)), scales);
      const __m512i sb =
          _mm512_permutexvar_epi32(_mm512_add_epi32(idx4, _mm512_set1_epi32(8 * h + 4)), scales);
      sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(da, sa));
      sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(db, sb));
    }
    sumf += d * static_cast<float>(_mm512_reduce_add_epi32(sumi) - 32 * bias);
  }
  return sumf;
}

// Only the functions this ISA implements; null fields fall back to the AVX2 table.
constexpr TypeTraits kAvx512Overrides[] = {
    {.type = QuantType::kF32, .vec_dot = VecDotF32F32},
    {.type = QuantType::kF16, .vec_dot = VecDotF16F16},
    {.type = QuantType::kBF16, .vec_dot = VecDotBF16BF16},
    {.type = QuantType::kQ4_0, .vec_dot = VecDotQ4_0Q8_0},
    {.type = QuantType::kQ4_1, .vec_dot = VecDotQ4_1Q8_1},
    {.type = QuantType::kQ8_0, .vec_dot = VecDotQ8_0Q8_0},
    {.type = QuantType::kQ4_K, .vec_dot = VecDotQ4_KQ8_K},
    {.type = QuantType::kQ5_K, .vec_dot = VecDotQ5_KQ8_K},
    {.type = QuantType::kQ6_K, .vec_dot = VecDotQ6_KQ8_K},
    {.type = QuantType::kQ8_K, .quantize_row = QuantizeRowQ8_K},
};

}  // namespace

const TypeTraits* Avx512TypeTraits(QuantType type) {
  for (const TypeTraits& t : kAvx512Overrides) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

}  // namespace foundry::x86

#endif  // defined(__x86_64__)
