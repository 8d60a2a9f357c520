// IEEE half and bfloat16 conversions (bit-exact, no hardware dependency).
#pragma once

#include <cstdint>
#include <cstring>

namespace foundry {

inline float Fp32FromBits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
inline uint32_t BitsFromFp32(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

inline float Fp16ToFp32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0) {
    if (mant == 0) return Fp32FromBits(sign);
    // Subnormal: normalise.
    int e = -1;
    do {
      mant <<= 1;
      ++e;
    } while ((mant & 0x400) == 0);
    mant &= 0x3ff;
    return Fp32FromBits(sign | uint32_t(127 - 15 - e) << 23 | mant << 13);
  }
  if (exp == 31) return Fp32FromBits(sign | 0x7f800000u | mant << 13);
  return Fp32FromBits(sign | (exp + 127 - 15) << 23 | mant << 13);
}

// Round to nearest even, like the hardware conversion.
inline uint16_t Fp32ToFp16(float f) {
  const uint32_t x = BitsFromFp32(f);
  const uint32_t sign = (x >> 16) & 0x8000;
  const uint32_t abs = x & 0x7fffffff;
  if (abs > 0x7f800000u) return uint16_t(sign | 0x7e00);  // NaN
  if (abs >= 0x477ff000u) return uint16_t(sign | 0x7c00);  // overflow -> inf
  if (abs < 0x38800000u) {                                 // subnormal or zero in half
    if (abs < 0x33000000u) return uint16_t(sign);
    // value = m * 2^(e-150); in half subnormal units of 2^-24 that is m >> (126 - e).
    const uint32_t e = abs >> 23;
    const uint32_t m = (abs & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - e;
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (r & 1))) ++r;
    return uint16_t(sign | r);
  }
  uint32_t r = abs - 0x38000000u;  // rebias exponent
  const uint32_t rem = r & 0x1fff;
  r >>= 13;
  if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) ++r;
  return uint16_t(sign | r);
}

inline float Bf16ToFp32(uint16_t h) { return Fp32FromBits(uint32_t(h) << 16); }

inline uint16_t Fp32ToBf16(float f) {
  uint32_t x = BitsFromFp32(f);
  if ((x & 0x7fffffff) > 0x7f800000u) return uint16_t((x >> 16) | 64);  // quiet NaN
  x += 0x7fff + ((x >> 16) & 1);
  return uint16_t(x >> 16);
}

}  // namespace foundry
