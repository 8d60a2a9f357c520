// Small AVX2/F16C helpers shared by the AVX2 translation units (avx2.cc, avx2_attention.cc).
// Include it from those only: per x86_kernels.h's rules every helper here lives in an unnamed
// namespace, so each translation unit keeps its own AVX2 copy and baseline code never links one.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>

namespace foundry::x86 {
namespace {

inline float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }
inline uint16_t FloatToHalf(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}

inline __m256i Load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline __m128i Load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

// Eight f16 values as floats.
inline __m256 LoadF16x8(const uint16_t* p) { return _mm256_cvtph_ps(Load128(p)); }

// The sum of v's eight lanes: halves, then pairs, then the last two.
inline float HsumPs(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace
}  // namespace foundry::x86

#endif  // __x86_64__
