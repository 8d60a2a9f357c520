// Small AVX-512 helpers shared by the avx512_*.cc translation units (compiled with the AVX-512
// flags, src/CMakeLists.txt). Include it from those only: per x86_kernels.h's rules every helper
// lives in an unnamed namespace.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/avx2_helpers.h"

namespace foundry::x86 {
namespace {

inline __m512i Load512(const void* p) { return _mm512_loadu_si512(p); }

// Two 256-bit halves into one 512-bit register: lo in bytes 0..31.
inline __m512i Join(__m256i lo, __m256i hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// The sum of the sixteen lanes in a fixed order: the two halves added lane by lane, then HsumPs.
inline float HsumPs(__m512 v) {
  const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
  return HsumPs(_mm256_add_ps(_mm512_castps512_ps256(v), hi));
}

}  // namespace
}  // namespace foundry::x86

#endif  // __x86_64__
