// AVX2 dot products of F32, F16 and BF16 rows; see avx2_kernels.h for the numerics.
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>

#include "kernels/quant_blocks.h"
#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/avx2_kernels.h"

namespace foundry::x86::avx2 {
namespace {

inline __m256 LoadBF16x8(const uint16_t* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(Load128(p)), 16));
}
inline float Bf16ToFloat(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  __builtin_memcpy(&f, &bits, 4);
  return f;
}

// One 8-lane accumulator over the row, then a horizontal sum: the order of llama.cpp's
// tinyBLAS, which computes its F32/F16/BF16 matmuls (attention's KQ and KQV included).
template <typename T, typename Load8, typename Scalar>
inline float DotFloat(int64_t n, const T* x, const T* y, Load8 load, Scalar scalar) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(load(x + i), load(y + i), acc);
  float tail = 0.0f;
  for (; i < n; ++i) tail += scalar(x[i]) * scalar(y[i]);
  return HsumPs(acc) + tail;
}

}  // namespace

float VecDotF32F32(int64_t n, const void* w, const void* a) {
  return DotFloat(
      n, static_cast<const float*>(w), static_cast<const float*>(a),
      [](const float* p) { return _mm256_loadu_ps(p); }, [](float v) { return v; });
}

float VecDotF16F16(int64_t n, const void* w, const void* a) {
  return DotFloat(n, static_cast<const uint16_t*>(w), static_cast<const uint16_t*>(a), LoadF16x8,
                  HalfToFloat);
}

float VecDotBF16BF16(int64_t n, const void* w, const void* a) {
  return DotFloat(n, static_cast<const uint16_t*>(w), static_cast<const uint16_t*>(a), LoadBF16x8,
                  Bf16ToFloat);
}

}  // namespace foundry::x86::avx2

#endif  // defined(__x86_64__)
