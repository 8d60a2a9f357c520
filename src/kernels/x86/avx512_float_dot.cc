// AVX-512 dot products of F32 and BF16 rows (F16 rows keep the AVX2 kernel, which the attention
// kernels' results are defined by); see avx512_kernels.h for the numerics.
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/avx512_helpers.h"
#include "kernels/x86/avx512_kernels.h"

namespace foundry::x86::avx512 {
namespace {

// The first min(n, 16) lanes.
inline __mmask16 TailMask(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1);
}

// Two 16-lane accumulators over the row (the tail through masked loads), then added and summed.
template <typename T, typename Load16>
inline float DotFloat16(int64_t n, const T* x, const T* y, Load16 load) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(load(x + i, 0xFFFF), load(y + i, 0xFFFF), acc0);
    acc1 = _mm512_fmadd_ps(load(x + i + 16, 0xFFFF), load(y + i + 16, 0xFFFF), acc1);
  }
  for (; i < n; i += 16) {
    const __mmask16 k = TailMask(n - i);
    acc0 = _mm512_fmadd_ps(load(x + i, k), load(y + i, k), acc0);
  }
  return HsumPs(_mm512_add_ps(acc0, acc1));
}

}  // namespace

float VecDotF32F32(int64_t n, const void* w, const void* a) {
  return DotFloat16(n, static_cast<const float*>(w), static_cast<const float*>(a),
                    [](const float* p, __mmask16 k) { return _mm512_maskz_loadu_ps(k, p); });
}

float VecDotBF16BF16(int64_t n, const void* w, const void* a) {
  // A bf16 value is the high half of its float: widened exactly, products in f32.
  return DotFloat16(n, static_cast<const uint16_t*>(w), static_cast<const uint16_t*>(a),
                    [](const uint16_t* p, __mmask16 k) {
                      const __m512i v = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(k, p));
                      return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
                    });
}

}  // namespace foundry::x86::avx512

#endif  // defined(__x86_64__)
