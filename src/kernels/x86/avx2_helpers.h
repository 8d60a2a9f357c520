// Small AVX2/FMA/F16C helpers shared by the x86 kernel translation units: every avx2_*.cc and
// avx512*.cc (which are compiled with the AVX2 flags too; src/CMakeLists.txt). Include it from
// those only: per x86_kernels.h's rules every helper here lives in an unnamed namespace, so each
// translation unit keeps its own copy and baseline code never links one.
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

// The largest of v's eight lanes.
inline float HmaxPs(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The (wrapping) sum of the int32 lanes.
inline int HsumEpi32(__m128i v) {
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(v);
}
inline int HsumEpi32(__m256i v) {
  return HsumEpi32(_mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)));
}

// |v| lane by lane (the sign bit cleared).
inline __m256 Abs(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

// 32 int32 (in a, b, c, d order) to their low bytes (as the reference's cast to int8),
// in the same order.
inline __m256i PackLowBytes(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i low = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                       0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  // Each 128-bit lane keeps its 4 low bytes in dword 0: a -> [a0-3 | a4-7] etc.
  const __m256i ab = _mm256_or_si256(_mm256_shuffle_epi8(a, low),
                                     _mm256_slli_si256(_mm256_shuffle_epi8(b, low), 4));
  const __m256i cd = _mm256_or_si256(_mm256_shuffle_epi8(c, low),
                                     _mm256_slli_si256(_mm256_shuffle_epi8(d, low), 4));
  const __m256i abcd = _mm256_or_si256(ab, _mm256_slli_si256(cd, 8));
  // dwords: [a0-3, b0-3, c0-3, d0-3 | a4-7, b4-7, c4-7, d4-7]
  return _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// The int8 value of each int32's low byte, as int32.
inline __m256i SignExtendLowByte(__m256i v) {
  return _mm256_srai_epi32(_mm256_slli_epi32(v, 24), 24);
}

// ggml's nearest_int (round half to even for |f| < 2^22; the reference's exact bit trick,
// so inf and NaN give the same garbage as the scalar code).
inline __m256i NearestInt(__m256 f) {
  const __m256i bits = _mm256_castps_si256(_mm256_add_ps(f, _mm256_set1_ps(12582912.0f)));
  return _mm256_sub_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)),
                          _mm256_set1_epi32(0x00400000));
}

// sum x*y over 32 byte pairs as 8 int32 lanes; x in [-128, 127], y in [-127, 127].
inline __m256i DotI8(__m256i x, __m256i y) {
  const __m256i ax = _mm256_sign_epi8(x, x);
  const __m256i sy = _mm256_sign_epi8(y, x);
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}

// u in [0, 127] (unsigned), y signed: sum u*y as 8 int32 lanes.
inline __m256i DotU8I8(__m256i u, __m256i y) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, y), _mm256_set1_epi16(1));
}

// 16 bytes of packed nibbles -> 32 bytes: low nibbles (elements 0..15), then high nibbles.
inline __m256i UnpackNibbles16(const uint8_t* p) {
  // The 16 bytes in both halves, the upper half shifted by a nibble: three operations, not five.
  const __m256i v = _mm256_broadcastsi128_si256(Load128(p));
  const __m256i shifted = _mm256_srlv_epi64(v, _mm256_setr_epi64x(0, 0, 4, 4));
  return _mm256_and_si256(shifted, _mm256_set1_epi8(0x0F));
}

// Q4_K/Q5_K packed 6-bit scales and mins -> bytes 0..7 scales, 8..15 mins.
inline void UnpackScalesMinsK4(const uint8_t* packed, uint32_t out[4]) {
  constexpr uint32_t kLow6 = 0x3f3f3f3f, kLow4 = 0x0f0f0f0f, kLow2 = 0x03030303;
  uint32_t u[3];
  __builtin_memcpy(u, packed, 12);
  out[0] = u[0] & kLow6;
  out[1] = (u[2] & kLow4) | (((u[0] >> 6) & kLow2) << 4);
  out[2] = u[1] & kLow6;
  out[3] = ((u[2] >> 4) & kLow4) | (((u[1] >> 6) & kLow2) << 4);
}

}  // namespace
}  // namespace foundry::x86

#endif  // __x86_64__
