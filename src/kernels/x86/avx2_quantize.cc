// AVX2 activation quantizers (Q8_0, Q8_1, Q8_K); see avx2_kernels.h for the numerics.
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>

#include "kernels/quant_blocks.h"
#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/avx2_kernels.h"

namespace foundry::x86::avx2 {
namespace {

// One block of 32 floats to int8 as ggml's AVX2 quantize_row_q8_0/q8_1 do: multiply by
// 127/amax, round ties to even, convert, saturate to int8. Returns d = amax/127 and the
// (wrapping) sum of the int32 values before saturation.
inline float QuantizeBlock32(const float* x, int8_t* qs, int* qsum) {
  __m256 v[4];
  __m256 m = _mm256_setzero_ps();
  for (int k = 0; k < 4; ++k) {
    v[k] = _mm256_loadu_ps(x + 8 * k);
    m = _mm256_max_ps(m, Abs(v[k]));
  }
  const float amax = HmaxPs(m);
  const float d = amax / 127;
  const __m256 id = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
  __m256i q[4];
  for (int k = 0; k < 4; ++k) {
    const __m256 r =
        _mm256_round_ps(_mm256_mul_ps(v[k], id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    q[k] = _mm256_cvtps_epi32(r);
  }
  if (qsum) {
    *qsum = HsumEpi32(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
  }
  // Saturating packs work within 128-bit halves; the permutation restores element order.
  const __m256i w01 = _mm256_packs_epi32(q[0], q[1]);
  const __m256i w23 = _mm256_packs_epi32(q[2], q[3]);
  const __m256i b = _mm256_packs_epi16(w01, w23);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs),
                      _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
  return d;
}

}  // namespace

void QuantizeRowQ8_0(const float* src, void* dst, int64_t n) {
  BlockQ8_0* y = static_cast<BlockQ8_0*>(dst);
  const int64_t nb = n / kQK8_0;
  for (int64_t i = 0; i < nb; ++i) {
    y[i].d = FloatToHalf(QuantizeBlock32(src + i * kQK8_0, y[i].qs, nullptr));
  }
}

void QuantizeRowQ8_1(const float* src, void* dst, int64_t n) {
  BlockQ8_1* y = static_cast<BlockQ8_1*>(dst);
  const int64_t nb = n / kQK8_1;
  for (int64_t i = 0; i < nb; ++i) {
    int sum = 0;
    const float d = QuantizeBlock32(src + i * kQK8_1, y[i].qs, &sum);
    y[i].d = FloatToHalf(d);
    y[i].s = FloatToHalf(static_cast<float>(sum) * d);
  }
}

void QuantizeRowQ8_K(const float* src, void* dst, int64_t n) {
  BlockQ8_K* y = static_cast<BlockQ8_K*>(dst);
  const int64_t nb = n / kQK_K;
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQK_K;
    __m256 m = _mm256_setzero_ps();
    for (int k = 0; k < kQK_K; k += 8) m = _mm256_max_ps(m, Abs(_mm256_loadu_ps(x + k)));
    const float amax = HmaxPs(m);
    if (amax == 0.0f) {
      y[i].d = 0.0f;
      __builtin_memset(y[i].qs, 0, sizeof(y[i].qs));
      __builtin_memset(y[i].bsums, 0, sizeof(y[i].bsums));
      continue;
    }
    // The first element of largest magnitude gives the sign of the scale.
    const __m256 va = _mm256_set1_ps(amax);
    int first = 0;
    for (int k = 0; k < kQK_K; k += 8) {
      const int mask =
          _mm256_movemask_ps(_mm256_cmp_ps(Abs(_mm256_loadu_ps(x + k)), va, _CMP_EQ_OQ));
      if (mask) {
        first = k + __builtin_ctz(static_cast<unsigned>(mask));
        break;
      }
    }
    const float iscale = -127.0f / x[first];
    const __m256 vs = _mm256_set1_ps(iscale);
    const __m256i v127 = _mm256_set1_epi32(127);
    for (int k = 0; k < kQK_K; k += 32) {
      __m256i q[4];
      for (int l = 0; l < 4; ++l) {
        const __m256 p = _mm256_mul_ps(vs, _mm256_loadu_ps(x + k + 8 * l));
        q[l] = SignExtendLowByte(_mm256_min_epi32(NearestInt(p), v127));
      }
      y[i].bsums[k / 16] = static_cast<int16_t>(HsumEpi32(_mm256_add_epi32(q[0], q[1])));
      y[i].bsums[k / 16 + 1] = static_cast<int16_t>(HsumEpi32(_mm256_add_epi32(q[2], q[3])));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + k),
                          PackLowBytes(q[0], q[1], q[2], q[3]));
    }
    y[i].d = 1 / iscale;
  }
}

}  // namespace foundry::x86::avx2

#endif  // defined(__x86_64__)
