// AVX-512 activation quantizer of Q8_K (the reference's bytes). Q8_0/Q8_1 come from the AVX2
// table, as llama.cpp's AVX-512 builds quantize them with the same AVX2 code.
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>

#include "kernels/quant_blocks.h"
#include "kernels/x86/avx512_helpers.h"
#include "kernels/x86/avx512_kernels.h"

namespace foundry::x86::avx512 {
namespace {

// ggml's nearest_int bit trick, exactly (the 8-lane NearestInt, avx2_helpers.h).
inline __m512i NearestInt16(__m512 f) {
  const __m512i bits = _mm512_castps_si512(_mm512_add_ps(f, _mm512_set1_ps(12582912.0f)));
  return _mm512_sub_epi32(_mm512_and_si512(bits, _mm512_set1_epi32(0x007fffff)),
                          _mm512_set1_epi32(0x00400000));
}

inline __m512i SignExtendLowByte16(__m512i v) {
  return _mm512_srai_epi32(_mm512_slli_epi32(v, 24), 24);
}

}  // namespace

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
    // The reference scales by the first element of largest magnitude (its sign included).
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
      const __m512i q = SignExtendLowByte16(
          _mm512_min_epi32(NearestInt16(_mm512_mul_ps(vs, _mm512_loadu_ps(x + k))), v127));
      y[i].bsums[k / 16] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y[i].qs + k), _mm512_cvtepi32_epi8(q));
    }
    y[i].d = 1 / iscale;
  }
}

}  // namespace foundry::x86::avx512

#endif  // defined(__x86_64__)
