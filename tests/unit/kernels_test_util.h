// Test helpers for the kernel tests: random blocks and an independent double-precision
// decoder written from the format description (byte offsets and bit positions), sharing no
// code with src/kernels.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "base/fp16.h"
#include "base/tensor_type.h"

namespace foundry::testing {

// Independent half decode: sign * 2^(e-15) * (1 + m/1024), subnormals 2^-14 * m/1024.
inline double HalfToDouble(uint16_t h) {
  const int sign = (h >> 15) & 1;
  const int e = (h >> 10) & 31;
  const int m = h & 1023;
  double v;
  if (e == 0) {
    v = std::ldexp(m / 1024.0, -14);
  } else if (e == 31) {
    v = m == 0 ? INFINITY : NAN;
  } else {
    v = std::ldexp(1.0 + m / 1024.0, e - 15);
  }
  return sign ? -v : v;
}

inline uint16_t Rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline float RdF32(const uint8_t* p) {
  float f;
  std::memcpy(&f, p, 4);
  return f;
}

// Bytes per block (in-memory layout) and elements per block of the types under test.
struct Geometry {
  int elems;
  int bytes;
};
inline Geometry GeometryOf(QuantType t) {
  switch (t) {
    case QuantType::kF32:
      return {1, 4};
    case QuantType::kF16:
      return {1, 2};
    case QuantType::kBF16:
      return {1, 2};
    case QuantType::kQ4_0:
      return {32, 18};
    case QuantType::kQ4_1:
      return {32, 20};
    case QuantType::kQ5_0:
      return {32, 22};
    case QuantType::kQ5_1:
      return {32, 24};
    case QuantType::kQ8_0:
      return {32, 34};
    case QuantType::kQ8_1:
      return {32, 36};
    case QuantType::kQ4_K:
      return {256, 144};
    case QuantType::kQ5_K:
      return {256, 176};
    case QuantType::kQ6_K:
      return {256, 210};
    case QuantType::kQ8_K:
      return {256, 292};
    default:
      return {0, 0};
  }
}

// 6-bit scale (or min, when is_min) of sub-block j of a Q4_K/Q5_K scales[12] field:
// bytes 0-3 hold scales 0-3 in bits 0-5 and bits 4-5 of scales 4-7 in bits 6-7; bytes 4-7
// hold mins 0-3 and the high bits of mins 4-7 likewise; bytes 8-11 hold the low 4 bits of
// scale 4+k (low nibble) and min 4+k (high nibble).
inline int KScale6(const uint8_t* s, int j, bool is_min) {
  const int base = is_min ? 4 : 0;
  if (j < 4) return s[base + j] % 64;
  const int k = j - 4;
  const int low4 = is_min ? (s[8 + k] / 16) : (s[8 + k] % 16);
  const int high2 = s[base + k] / 64;
  return low4 + 16 * high2;
}

// Decode one block of type t into `elems` doubles.
inline void DecodeBlock(QuantType t, const uint8_t* b, double* out) {
  switch (t) {
    case QuantType::kF32:
      out[0] = RdF32(b);
      return;
    case QuantType::kF16:
      out[0] = HalfToDouble(Rd16(b));
      return;
    case QuantType::kBF16: {
      const uint32_t bits = static_cast<uint32_t>(Rd16(b)) << 16;
      float f;
      std::memcpy(&f, &bits, 4);
      out[0] = f;
      return;
    }
    case QuantType::kQ4_0: {
      const double d = HalfToDouble(Rd16(b));
      for (int e = 0; e < 32; ++e) {
        const int byte = b[2 + e % 16];
        const int q = e < 16 ? byte % 16 : byte / 16;
        out[e] = d * (q - 8);
      }
      return;
    }
    case QuantType::kQ4_1: {
      const double d = HalfToDouble(Rd16(b));
      const double m = HalfToDouble(Rd16(b + 2));
      for (int e = 0; e < 32; ++e) {
        const int byte = b[4 + e % 16];
        const int q = e < 16 ? byte % 16 : byte / 16;
        out[e] = d * q + m;
      }
      return;
    }
    case QuantType::kQ5_1: {  // d, m, qh (bit e: element e's fifth bit), qs as Q4_1's
      const double d = HalfToDouble(Rd16(b));
      const double m = HalfToDouble(Rd16(b + 2));
      const uint32_t qh = b[4] | (b[5] << 8) | (b[6] << 16) | (static_cast<uint32_t>(b[7]) << 24);
      for (int e = 0; e < 32; ++e) {
        const int byte = b[8 + e % 16];
        const int q = (e < 16 ? byte % 16 : byte / 16) + 16 * static_cast<int>((qh >> e) & 1);
        out[e] = d * q + m;
      }
      return;
    }
    case QuantType::kQ8_0:
    case QuantType::kQ8_1: {
      const double d = HalfToDouble(Rd16(b));
      const int off = t == QuantType::kQ8_0 ? 2 : 4;
      for (int e = 0; e < 32; ++e) out[e] = d * static_cast<int8_t>(b[off + e]);
      return;
    }
    case QuantType::kQ4_K:
    case QuantType::kQ5_K: {
      const bool five = t == QuantType::kQ5_K;
      const double d = HalfToDouble(Rd16(b));
      const double dmin = HalfToDouble(Rd16(b + 2));
      const uint8_t* scales = b + 4;
      const uint8_t* qh = b + 16;
      const uint8_t* qs = b + (five ? 48 : 16);
      for (int e = 0; e < 256; ++e) {
        const int j = e / 32, l = e % 32;
        const int byte = qs[32 * (j / 2) + l];
        int q = (j % 2 == 0) ? byte % 16 : byte / 16;
        if (five) q += 16 * ((qh[l] >> j) & 1);
        out[e] = d * KScale6(scales, j, false) * q - dmin * KScale6(scales, j, true);
      }
      return;
    }
    case QuantType::kQ6_K: {
      const uint8_t* ql = b;
      const uint8_t* qh = b + 128;
      const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
      const double d = HalfToDouble(Rd16(b + 208));
      for (int e = 0; e < 256; ++e) {
        const int h = e / 128, g = (e % 128) / 32, l = e % 32;
        const int lbyte = ql[64 * h + 32 * (g % 2) + l];
        const int low4 = g < 2 ? lbyte % 16 : lbyte / 16;
        const int high2 = (qh[32 * h + l] >> (2 * g)) & 3;
        out[e] = d * sc[e / 16] * (low4 + 16 * high2 - 32);
      }
      return;
    }
    case QuantType::kQ8_K: {
      const double d = RdF32(b);
      for (int e = 0; e < 256; ++e) out[e] = d * static_cast<int8_t>(b[4 + e]);
      return;
    }
    default:
      return;
  }
}

inline std::vector<double> DecodeRow(QuantType t, const std::vector<uint8_t>& row, int64_t n) {
  const Geometry g = GeometryOf(t);
  std::vector<double> out(static_cast<size_t>(n));
  for (int64_t b = 0; b < n / g.elems; ++b) DecodeBlock(t, &row[b * g.bytes], &out[b * g.elems]);
  return out;
}

inline void Wr16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v & 0xff);
  p[1] = static_cast<uint8_t>(v >> 8);
}

// A random f16 scale of realistic magnitude (1e-3 .. 1e-1), random sign unless positive.
inline uint16_t RandomScale(std::mt19937& rng, bool positive) {
  std::uniform_real_distribution<float> mag(-3.0f, -1.0f);
  float v = std::pow(10.0f, mag(rng));
  if (!positive && (rng() & 1)) v = -v;
  return Fp32ToFp16(v);
}

// A row of n elements of weight type t with random quant bits and realistic scales.
inline std::vector<uint8_t> RandomRow(QuantType t, int64_t n, std::mt19937& rng) {
  const Geometry g = GeometryOf(t);
  const int64_t nb = n / g.elems;
  std::vector<uint8_t> row(static_cast<size_t>(nb * g.bytes));
  for (auto& byte : row) byte = static_cast<uint8_t>(rng());
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int64_t i = 0; i < nb; ++i) {
    uint8_t* b = &row[i * g.bytes];
    switch (t) {
      case QuantType::kF32: {
        const float v = normal(rng);
        std::memcpy(b, &v, 4);
        break;
      }
      case QuantType::kF16:
        Wr16(b, Fp32ToFp16(normal(rng)));
        break;
      case QuantType::kBF16:
        Wr16(b, Fp32ToBf16(normal(rng)));
        break;
      case QuantType::kQ4_0:
      case QuantType::kQ5_0:
      case QuantType::kQ8_0:
        Wr16(b, RandomScale(rng, false));
        break;
      case QuantType::kQ4_1:
      case QuantType::kQ5_1:
        Wr16(b, RandomScale(rng, true));
        Wr16(b + 2, RandomScale(rng, false));
        break;
      case QuantType::kQ4_K:
      case QuantType::kQ5_K:
        Wr16(b, RandomScale(rng, false));
        Wr16(b + 2, RandomScale(rng, true));
        break;
      case QuantType::kQ6_K:
        Wr16(b + 208, RandomScale(rng, false));
        break;
      default:
        break;
    }
  }
  return row;
}

inline std::vector<float> RandomFloats(int64_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = normal(rng);
  return v;
}

}  // namespace foundry::testing
