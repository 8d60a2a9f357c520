// base/fp16.h conversions: exhaustive over all 16-bit patterns, ties, and random floats
// against a nearest-value search that shares no code with the bit-twiddling conversions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "base/fp16.h"
#include "kernels_test_util.h"

namespace foundry {
namespace {

using testing::HalfToDouble;

// All non-negative finite halfs in increasing order (pattern order = value order), plus
// 65536 standing for infinity: rounding past the midpoint 65520 overflows.
struct HalfTable {
  std::vector<double> values;
  std::vector<uint16_t> bits;
  HalfTable() {
    for (uint32_t h = 0; h <= 0x7bff; ++h) {
      values.push_back(HalfToDouble(static_cast<uint16_t>(h)));
      bits.push_back(static_cast<uint16_t>(h));
    }
    values.push_back(65536.0);
    bits.push_back(0x7c00);
  }
};
const HalfTable& Table() {
  static const HalfTable t;
  return t;
}

// Nearest half by search; ties go to the even bit pattern.
uint16_t NearestHalf(float f) {
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  const double a = std::fabs(static_cast<double>(f));
  const HalfTable& t = Table();
  if (a >= 65536.0) return sign | 0x7c00;
  const auto it = std::upper_bound(t.values.begin(), t.values.end(), a);
  const size_t hi = static_cast<size_t>(it - t.values.begin());
  const size_t lo = hi - 1;
  if (t.values[lo] == a) return sign | t.bits[lo];
  const double dl = a - t.values[lo], dh = t.values[hi] - a;
  if (dl < dh) return sign | t.bits[lo];
  if (dh < dl) return sign | t.bits[hi];
  return sign | ((t.bits[lo] & 1) == 0 ? t.bits[lo] : t.bits[hi]);
}

TEST(Fp16, DecodeAllPatterns) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = Fp16ToFp32(static_cast<uint16_t>(h));
    const double ref = HalfToDouble(static_cast<uint16_t>(h));
    if (std::isnan(ref)) {
      ASSERT_TRUE(std::isnan(f)) << h;
    } else {
      ASSERT_EQ(static_cast<double>(f), ref) << h;
      ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << h;
    }
  }
}

TEST(Fp16, RoundTripAllPatterns) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t back = Fp32ToFp16(Fp16ToFp32(static_cast<uint16_t>(h)));
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0) {
      ASSERT_EQ(back & 0x7c00, 0x7c00) << h;  // NaN stays NaN
      ASSERT_NE(back & 0x3ff, 0) << h;
    } else {
      ASSERT_EQ(back, h);
    }
  }
}

// Midpoints between neighbouring halfs round to the even one; one float ulp either side
// rounds to the nearer one.
TEST(Fp16, TiesToEven) {
  const HalfTable& t = Table();
  for (size_t i = 0; i + 1 < t.values.size(); ++i) {
    const double mid = (t.values[i] + t.values[i + 1]) / 2;
    const float fm = static_cast<float>(mid);
    ASSERT_EQ(static_cast<double>(fm), mid);  // representable in float
    const uint16_t even = (t.bits[i] & 1) == 0 ? t.bits[i] : t.bits[i + 1];
    ASSERT_EQ(Fp32ToFp16(fm), even) << mid;
    ASSERT_EQ(Fp32ToFp16(-fm), even | 0x8000) << mid;
    ASSERT_EQ(Fp32ToFp16(std::nextafter(fm, 0.0f)), t.bits[i]) << mid;
    ASSERT_EQ(Fp32ToFp16(std::nextafter(fm, INFINITY)), t.bits[i + 1]) << mid;
  }
  EXPECT_EQ(Fp32ToFp16(65504.0f), 0x7bff);
  EXPECT_EQ(Fp32ToFp16(65519.99f), 0x7bff);
  EXPECT_EQ(Fp32ToFp16(65520.0f), 0x7c00);
  EXPECT_EQ(Fp32ToFp16(1e10f), 0x7c00);
  EXPECT_EQ(Fp32ToFp16(-INFINITY), 0xfc00);
  EXPECT_EQ(Fp32ToFp16(std::ldexp(1.0f, -25)), 0);  // half of the smallest subnormal: tie
  EXPECT_EQ(Fp32ToFp16(std::ldexp(1.5f, -25)), 1);
  EXPECT_EQ(Fp32ToFp16(-0.0f), 0x8000);
  EXPECT_TRUE(std::isnan(Fp16ToFp32(Fp32ToFp16(NAN))));
}

TEST(Fp16, RandomFloatsMatchNearestSearch) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> log2mag(-27.0f, 17.0f);
  for (int i = 0; i < 300000; ++i) {
    float f = std::exp2(log2mag(rng));
    if (rng() & 1) f = -f;
    ASSERT_EQ(Fp32ToFp16(f), NearestHalf(f)) << f;
  }
  for (int i = 0; i < 300000; ++i) {  // arbitrary bit patterns (huge, tiny, inf)
    const float f = Fp32FromBits(static_cast<uint32_t>(rng()));
    if (std::isnan(f)) continue;
    ASSERT_EQ(Fp32ToFp16(f), NearestHalf(f)) << f;
  }
}

// Nearest bfloat16 (a float with its low 16 bits cleared) by comparing the two candidates.
uint16_t NearestBf16(float f) {
  const uint32_t x = BitsFromFp32(f);
  const uint32_t lo = x & 0xffff0000u;
  const uint32_t hi = lo + 0x10000u;  // next value away from zero (may become inf)
  const double a = std::fabs(static_cast<double>(f));
  const double vlo = std::fabs(static_cast<double>(Fp32FromBits(lo)));
  const double vhi = (hi & 0x7fffffffu) >= 0x7f800000u
                         ? std::ldexp(1.0, 128)  // overflow candidate: 2^128 stands for inf
                         : std::fabs(static_cast<double>(Fp32FromBits(hi)));
  if (a - vlo < vhi - a) return static_cast<uint16_t>(lo >> 16);
  if (vhi - a < a - vlo) return static_cast<uint16_t>(hi >> 16);
  return static_cast<uint16_t>(((lo >> 16) & 1) == 0 ? lo >> 16 : hi >> 16);
}

TEST(Bf16, RoundTripAllPatterns) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = Bf16ToFp32(static_cast<uint16_t>(h));
    ASSERT_EQ(BitsFromFp32(f), h << 16);
    const uint16_t back = Fp32ToBf16(f);
    if (std::isnan(f)) {
      ASSERT_TRUE(std::isnan(Bf16ToFp32(back))) << h;
    } else {
      ASSERT_EQ(back, h);
    }
  }
}

TEST(Bf16, TiesAndRandomMatchNearest) {
  // Exact midpoints: low 16 bits 0x8000.
  EXPECT_EQ(Fp32ToBf16(Fp32FromBits(0x3f808000u)), 0x3f80);  // even below
  EXPECT_EQ(Fp32ToBf16(Fp32FromBits(0x3f818000u)), 0x3f82);  // odd below: up
  EXPECT_EQ(Fp32ToBf16(Fp32FromBits(0x3f808001u)), 0x3f81);
  EXPECT_EQ(Fp32ToBf16(Fp32FromBits(0x7f7fffffu)), 0x7f80);  // max float rounds to inf
  std::mt19937 rng(2);
  for (int i = 0; i < 500000; ++i) {
    const float f = Fp32FromBits(static_cast<uint32_t>(rng()));
    if (std::isnan(f) || std::isinf(f)) continue;
    ASSERT_EQ(Fp32ToBf16(f), NearestBf16(f)) << f;
  }
}

}  // namespace
}  // namespace foundry
