// AVX2 vector kernels (VectorKernels in kernels.h): llama.cpp's AVX2 numerics, lane for lane.
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/x86_kernels.h"

namespace foundry::x86 {
namespace {

// expf on 8 lanes with ggml's AVX2 approximation (ARM's optimized-routines algorithm:
// x = n ln2 + b with n = round(x / ln2), 2^n exactly from the exponent bits, e^b from a
// degree-5 polynomial; max error about 1.5 ulp). Lanes with |n| > 126 take a slow path that
// splits 2^n into two factors so that results near overflow or underflow stay exact; beyond
// |n| > 192 they saturate to inf or 0. -inf gives 0.
inline __m256 ExpPs(__m256 x) {
  const __m256 shifter = _mm256_set1_ps(0x1.8p23f);
  const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), shifter);
  const __m256 n = _mm256_sub_ps(z, shifter);
  // b = x - n * ln2, with ln2 split into a high and a low part.
  const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                    _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
  const __m256i e = _mm256_slli_epi32(_mm256_castps_si256(z), 23);
  const __m256 scale = _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_set1_epi32(0x3f800000)));
  const __m256 abs_n = Abs(n);
  const __m256 big = _mm256_cmp_ps(abs_n, _mm256_set1_ps(126), _CMP_GT_OQ);
  const __m256 b2 = _mm256_mul_ps(b, b);
  const __m256 hi =
      _mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f));
  const __m256 lo =
      _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f));
  const __m256 poly = _mm256_fmadd_ps(_mm256_fmadd_ps(hi, b2, lo), b2,
                                      _mm256_mul_ps(_mm256_set1_ps(0x1.ffffecp-1f), b));
  if (!_mm256_movemask_ps(big)) return _mm256_fmadd_ps(poly, scale, scale);
  const __m256i neg =
      _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ)),
                       _mm256_set1_epi32(static_cast<int>(0x82000000u)));
  const __m256 s1 = _mm256_castsi256_ps(_mm256_add_epi32(neg, _mm256_set1_epi32(0x7f000000)));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_sub_epi32(e, neg));
  const __m256 huge = _mm256_cmp_ps(abs_n, _mm256_set1_ps(192), _CMP_GT_OQ);
  const __m256 split = _mm256_mul_ps(_mm256_fmadd_ps(s2, poly, s2), s1);
  const __m256 normal = _mm256_fmadd_ps(scale, poly, scale);
  const __m256 r = _mm256_blendv_ps(normal, split, big);
  return _mm256_blendv_ps(r, _mm256_mul_ps(s1, s1), huge);
}

double ExpSum(int64_t n, const float* x, float max, float* y) {
  double sum = 0.0;
  int64_t i = 0;
  const __m256 vmax = _mm256_set1_ps(max);
  for (; i + 8 <= n; i += 8) {
    const __m256 v = ExpPs(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmax));
    _mm256_storeu_ps(y + i, v);
    sum += static_cast<double>(HsumPs(v));
  }
  for (; i < n; ++i) {
    const float v = __builtin_expf(x[i] - max);
    sum += static_cast<double>(v);
    y[i] = v;
  }
  return sum;
}

void SwiGlu(int64_t n, const float* gate, const float* up, float* y) {
  int64_t i = 0;
  const __m256 one = _mm256_set1_ps(1.0f);
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 e = ExpPs(_mm256_sub_ps(_mm256_setzero_ps(), g));
    const __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, e));
    _mm256_storeu_ps(y + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
  }
  for (; i < n; ++i) y[i] = gate[i] / (1.0f + __builtin_expf(-gate[i])) * up[i];
}

void AxpyF16(int64_t n, float a, const uint16_t* v, float* acc) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(acc + i, _mm256_fmadd_ps(va, LoadF16x8(v + i), _mm256_loadu_ps(acc + i)));
  }
  for (; i < n; ++i) acc[i] = __builtin_fmaf(a, HalfToFloat(v[i]), acc[i]);
}

// The table lookup stays scalar (a gather is no faster here); F16C does the two conversions that
// cost most of the scalar loop.
void GeGlu(int64_t n, const float* gate, const float* up, const uint16_t* table, float* y) {
  int64_t i = 0;
  const __m256 lo = _mm256_set1_ps(-kGeluTableLimit), hi = _mm256_set1_ps(kGeluTableLimit);
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(gate + i);
    alignas(16) uint16_t h[8];
    _mm_store_si128(reinterpret_cast<__m128i*>(h), _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
    for (int k = 0; k < 8; ++k) h[k] = table[h[k]];
    __m256 g = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(h)));
    g = _mm256_blendv_ps(g, x, _mm256_cmp_ps(x, hi, _CMP_GE_OQ));
    // At or below -10 the output is +0 itself, not 0 * up (which is -0 where up < 0), as ggml.
    const __m256 out = _mm256_mul_ps(g, _mm256_loadu_ps(up + i));
    _mm256_storeu_ps(y + i, _mm256_andnot_ps(_mm256_cmp_ps(x, lo, _CMP_LE_OQ), out));
  }
  for (; i < n; ++i) {
    const float x = gate[i];
    y[i] = x <= -kGeluTableLimit
               ? 0.0f
               : (x >= kGeluTableLimit ? x : HalfToFloat(table[FloatToHalf(x)])) * up[i];
  }
}

void ToF16(int64_t n, const float* x, uint16_t* y) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), h);
  }
  for (; i < n; ++i) y[i] = FloatToHalf(x[i]);
}

constexpr VectorKernels kAvx2Vector = {ExpSum, SwiGlu, AxpyF16, GeGlu, ToF16};

}  // namespace

const VectorKernels& Avx2VectorKernels() { return kAvx2Vector; }

}  // namespace foundry::x86

#endif  // defined(__x86_64__)
