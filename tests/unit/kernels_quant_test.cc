// Scalar reference kernels: block layouts, dequantization against an independent decoder,
// quantizer error bounds and rounding rules, dot products, and the dispatch table.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "../isa_under_test.h"
#include "base/fp16.h"
#include "base/tensor_type.h"
#include "kernels/kernels.h"
#include "kernels/quant_blocks.h"
#include "kernels/ref/quant_ref.h"
#include "kernels_test_util.h"

namespace foundry {
namespace {

using testing::DecodeRow;
using testing::GeometryOf;
using testing::RandomFloats;
using testing::RandomRow;

// |ours - exact| <= kVecDotMaxRelErr * sum_i |w_i a_i|: only float rounding of the per-block
// scale products and of the cross-block sums remains (integer sums are exact).
constexpr double kVecDotMaxRelErr = 1e-5;
// End to end, including activation quantization: |vec_dot(w, Q(x)) - <deq(w), x>| divided by
// ||deq(w)|| * ||x||, for Gaussian x (8-bit activations: step amax/127 per block).
constexpr double kActQuantMaxNormErr = 2e-3;
// Round-trip normalized RMSE ||x - deq(q(x))|| / ||x|| for Gaussian data.
constexpr double kQ4_0MaxNrmse = 0.14;
constexpr double kQ4_1MaxNrmse = 0.10;
constexpr double kQ8MaxNrmse = 0.01;
constexpr double kQ4_KMaxNrmse = 0.085;
constexpr double kQ5_KMaxNrmse = 0.045;
constexpr double kQ6_KMaxNrmse = 0.022;

constexpr QuantType kWeightTypes[] = {QuantType::kF32,  QuantType::kF16,  QuantType::kBF16,
                                      QuantType::kQ4_0, QuantType::kQ4_1, QuantType::kQ8_0,
                                      QuantType::kQ4_K, QuantType::kQ5_K, QuantType::kQ6_K};
constexpr QuantType kAllTypes[] = {QuantType::kF32,  QuantType::kF16,  QuantType::kBF16,
                                   QuantType::kQ4_0, QuantType::kQ4_1, QuantType::kQ8_0,
                                   QuantType::kQ8_1, QuantType::kQ4_K, QuantType::kQ5_K,
                                   QuantType::kQ6_K, QuantType::kQ8_K};

const TypeTraits& Traits(QuantType t) {
  const TypeTraits* tt = FindRefTypeTraits(t);
  EXPECT_NE(tt, nullptr) << QuantTypeName(t);
  return *tt;
}

std::vector<uint8_t> Quantize(QuantType t, const std::vector<float>& x) {
  const TypeTraits& tt = Traits(t);
  std::vector<uint8_t> q(RowBytes(tt, static_cast<int64_t>(x.size())));
  tt.quantize_row(x.data(), q.data(), static_cast<int64_t>(x.size()));
  return q;
}

std::vector<float> Dequantize(QuantType t, const std::vector<uint8_t>& q, int64_t n) {
  std::vector<float> y(static_cast<size_t>(n));
  Traits(t).dequantize_row(q.data(), y.data(), n);
  return y;
}

TEST(KernelsBlocks, SizesMatchGgml) {
  EXPECT_EQ(sizeof(BlockQ4_0), 18u);
  EXPECT_EQ(sizeof(BlockQ4_1), 20u);
  EXPECT_EQ(sizeof(BlockQ8_0), 34u);
  EXPECT_EQ(sizeof(BlockQ8_1), 36u);
  EXPECT_EQ(sizeof(BlockQ4_K), 144u);
  EXPECT_EQ(sizeof(BlockQ5_K), 176u);
  EXPECT_EQ(sizeof(BlockQ6_K), 210u);
  EXPECT_EQ(sizeof(BlockQ8_K), 292u);
  EXPECT_EQ(offsetof(BlockQ4_K, qs), 16u);
  EXPECT_EQ(offsetof(BlockQ5_K, qh), 16u);
  EXPECT_EQ(offsetof(BlockQ5_K, qs), 48u);
  EXPECT_EQ(offsetof(BlockQ6_K, qh), 128u);
  EXPECT_EQ(offsetof(BlockQ6_K, scales), 192u);
  EXPECT_EQ(offsetof(BlockQ6_K, d), 208u);
  EXPECT_EQ(offsetof(BlockQ8_K, bsums), 260u);
}

TEST(KernelsTable, GeometryAndVecDotTypes) {
  for (QuantType t : kAllTypes) {
    const TypeTraits* tt = harness::KernelsUnderTest().Find(t);
    ASSERT_NE(tt, nullptr) << QuantTypeName(t);
    EXPECT_EQ(tt->type, t);
    const auto info = FindQuantTypeInfo(static_cast<uint32_t>(t));
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(tt->block_elems, info->block_elems) << info->name;
    if (t != QuantType::kQ8_1) {
      EXPECT_EQ(tt->block_bytes, info->block_bytes) << info->name;
    }
    EXPECT_EQ(tt->block_bytes, static_cast<size_t>(GeometryOf(t).bytes)) << info->name;
    EXPECT_NE(tt->dequantize_row, nullptr);
  }
  struct Pair {
    QuantType w, a;
  };
  const Pair pairs[] = {{QuantType::kF32, QuantType::kF32},   {QuantType::kF16, QuantType::kF16},
                        {QuantType::kBF16, QuantType::kBF16}, {QuantType::kQ4_0, QuantType::kQ8_0},
                        {QuantType::kQ4_1, QuantType::kQ8_1}, {QuantType::kQ5_1, QuantType::kQ8_1},
                        {QuantType::kQ8_0, QuantType::kQ8_0}, {QuantType::kQ4_K, QuantType::kQ8_K},
                        {QuantType::kQ5_K, QuantType::kQ8_K}, {QuantType::kQ6_K, QuantType::kQ8_K}};
  for (const Pair& p : pairs) {
    const TypeTraits* w = harness::KernelsUnderTest().Find(p.w);
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->vec_dot_type, p.a) << QuantTypeName(p.w);
    EXPECT_NE(w->vec_dot, nullptr);
    const TypeTraits* a = harness::KernelsUnderTest().Find(w->vec_dot_type);
    ASSERT_NE(a, nullptr);
    EXPECT_NE(a->quantize_row, nullptr);
    EXPECT_EQ(a->block_elems, w->block_elems) << QuantTypeName(p.w);
  }
  ASSERT_NE(harness::KernelsUnderTest().Find(QuantType::kQ5_0),
            nullptr);  // Gemma 3 Q4_K_M files carry Q5_0
  EXPECT_EQ(harness::KernelsUnderTest().Find(QuantType::kQ5_0)->vec_dot_type, QuantType::kQ8_0);
  EXPECT_EQ(harness::KernelsUnderTest().Find(QuantType::kIQ4_NL), nullptr);
  EXPECT_EQ(harness::KernelsUnderTest().Find(QuantType::kI32), nullptr);
  EXPECT_EQ(harness::KernelsUnderTest().Find(static_cast<QuantType>(12345)), nullptr);
}

// Every dequantized value equals the exact (double) value of the format rounded once to
// float: each reference formula has a single rounding step on realistic scales.
TEST(KernelsDequant, MatchesIndependentDecoderExactly) {
  std::mt19937 rng(42);
  for (QuantType t : kAllTypes) {
    const int64_t n = 1024;
    std::vector<uint8_t> row;
    if (t == QuantType::kQ8_1 || t == QuantType::kQ8_K) {
      row = Quantize(t, RandomFloats(n, rng));
    } else {
      row = RandomRow(t, n, rng);
    }
    const std::vector<float> ours = Dequantize(t, row, n);
    const std::vector<double> ref = DecodeRow(t, row, n);
    int bad = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (BitsFromFp32(ours[i]) != BitsFromFp32(static_cast<float>(ref[i])) && ++bad <= 5) {
        ADD_FAILURE() << QuantTypeName(t) << " element " << i << ": " << ours[i] << " vs "
                      << ref[i];
      }
    }
    EXPECT_EQ(bad, 0) << QuantTypeName(t);
  }
}

TEST(KernelsQuantize, ZeroInputGivesZeroBlocks) {
  for (QuantType t : {QuantType::kQ4_0, QuantType::kQ4_1, QuantType::kQ8_0, QuantType::kQ8_1,
                      QuantType::kQ8_K, QuantType::kQ4_K, QuantType::kQ5_K, QuantType::kQ6_K}) {
    const std::vector<float> x(512, 0.0f);
    const std::vector<float> y = Dequantize(t, Quantize(t, x), 512);
    for (float v : y) ASSERT_EQ(v, 0.0f) << QuantTypeName(t);
  }
}

double Nrmse(const std::vector<float>& x, const std::vector<float>& y) {
  double num = 0, den = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    num += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
    den += double(x[i]) * x[i];
  }
  return std::sqrt(num / den);
}

// Per-element bounds from the quantizer definitions; the fp16 rounding of d (relative
// 2^-11) moves each value by at most |q| * |d| * 2^-11.
TEST(KernelsQuantize, RoundTripErrorBounds) {
  std::mt19937 rng(7);
  const int64_t n = 4096;
  for (int rep = 0; rep < 3; ++rep) {
    const float scale = rep == 0 ? 1.0f : rep == 1 ? 1e-3f : 50.0f;
    const std::vector<float> x = RandomFloats(n, rng, scale);
    {
      const auto q = Quantize(QuantType::kQ4_0, x);
      const auto y = Dequantize(QuantType::kQ4_0, q, n);
      for (int64_t b = 0; b < n / 32; ++b) {
        float amax = 0;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + j]));
        const double d = amax / 8.0;
        // q = clip(round(x/d)), |x/d| <= 8, the top value 8 is clipped to 7 (error <= d).
        for (int j = 0; j < 32; ++j) {
          ASSERT_LE(std::fabs(double(x[b * 32 + j]) - y[b * 32 + j]),
                    d * (1 + 8.5 / 2048) + 8 * std::ldexp(1.0, -25));
        }
      }
      EXPECT_LT(Nrmse(x, y), kQ4_0MaxNrmse);
    }
    {
      const auto y = Dequantize(QuantType::kQ4_1, Quantize(QuantType::kQ4_1, x), n);
      for (int64_t b = 0; b < n / 32; ++b) {
        const auto [mn, mx] = std::minmax_element(x.begin() + b * 32, x.begin() + b * 32 + 32);
        const double d = (double(*mx) - *mn) / 15.0;
        const double bound = d / 2 + d * 1e-4 +
                             (15 * d + std::fabs(*mn)) * std::ldexp(1.0, -11) * 1.01 +
                             16 * std::ldexp(1.0, -25);  // fp16 d and m may be subnormal
        for (int j = 0; j < 32; ++j) {
          ASSERT_LE(std::fabs(double(x[b * 32 + j]) - y[b * 32 + j]), bound);
        }
      }
      EXPECT_LT(Nrmse(x, y), kQ4_1MaxNrmse);
    }
    for (QuantType t : {QuantType::kQ8_0, QuantType::kQ8_1, QuantType::kQ8_K}) {
      const int blk = t == QuantType::kQ8_K ? 256 : 32;
      const auto y = Dequantize(t, Quantize(t, x), n);
      const double d_rel = t == QuantType::kQ8_K ? 1e-6 : std::ldexp(1.0, -11);
      for (int64_t b = 0; b < n / blk; ++b) {
        float amax = 0;
        for (int j = 0; j < blk; ++j) amax = std::max(amax, std::fabs(x[b * blk + j]));
        const double d = amax / 127.0;
        // fp16 d: relative 2^-11, or absolute 2^-25 when subnormal (tiny activations).
        const double bound = d / 2 + d * 1e-4 + amax * d_rel * 1.01 +
                             (t == QuantType::kQ8_K ? 0.0 : 127 * std::ldexp(1.0, -25));
        for (int j = 0; j < blk; ++j) {
          ASSERT_LE(std::fabs(double(x[b * blk + j]) - y[b * blk + j]), bound) << QuantTypeName(t);
        }
      }
      EXPECT_LT(Nrmse(x, y), kQ8MaxNrmse) << QuantTypeName(t);
    }
  }
}

// K-quant reference quantizers (ggml quantize_row_q*_K_ref): error bounds on Gaussian data
// with outliers and structural properties of the scale encoding.
TEST(KernelsQuantize, KQuantRoundTrip) {
  std::mt19937 rng(9);
  const int64_t n = 8192;
  for (float scale : {1.0f, 0.02f, 30.0f}) {
    std::vector<float> x = RandomFloats(n, rng, scale);
    for (int64_t i = 0; i < n; i += 997) x[i] *= 8.0f;  // outliers
    struct Case {
      QuantType t;
      double bound;
    };
    for (const Case c :
         {Case{QuantType::kQ4_K, kQ4_KMaxNrmse}, Case{QuantType::kQ5_K, kQ5_KMaxNrmse},
          Case{QuantType::kQ6_K, kQ6_KMaxNrmse}}) {
      const auto q = Quantize(c.t, x);
      const auto y = Dequantize(c.t, q, n);
      EXPECT_LT(Nrmse(x, y), c.bound) << QuantTypeName(c.t) << " scale " << scale;
      // Per super-block: the errors stay within a few quantization steps of the block's range.
      for (int64_t b = 0; b < n / 256; ++b) {
        float amax = 0;
        for (int j = 0; j < 256; ++j) amax = std::max(amax, std::fabs(x[b * 256 + j]));
        for (int j = 0; j < 256; ++j) {
          ASSERT_LE(std::fabs(x[b * 256 + j] - y[b * 256 + j]), amax * 0.25)
              << QuantTypeName(c.t) << " block " << b;
        }
      }
      for (int64_t b = 0; b < n / 256; ++b) {
        if (c.t == QuantType::kQ6_K) {
          // The sub-block scale with the largest magnitude is encoded as -128.
          const auto* blk = reinterpret_cast<const BlockQ6_K*>(q.data()) + b;
          EXPECT_EQ(*std::min_element(blk->scales, blk->scales + 16), -128);
        } else {
          // The largest 6-bit sub-block scale is 63 (d = max_scale / 63).
          const uint8_t* sc = c.t == QuantType::kQ4_K
                                  ? reinterpret_cast<const BlockQ4_K*>(q.data())[b].scales
                                  : reinterpret_cast<const BlockQ5_K*>(q.data())[b].scales;
          int max_sc = 0;
          for (int j = 0; j < 8; ++j) max_sc = std::max(max_sc, testing::KScale6(sc, j, false));
          EXPECT_EQ(max_sc, 63) << QuantTypeName(c.t);
        }
      }
    }
  }
}

// Rounding rules of ggml's reference quantizers at exact ties.
TEST(KernelsQuantize, RoundingAtTies) {
  // Q8_0 (roundf: half away from zero). amax = 127 makes d = 1 and 1/d = 1 exactly.
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;
  x[1] = 2.5f;
  x[2] = -2.5f;
  x[3] = 0.5f;
  x[4] = -3.5f;
  auto q8 = Quantize(QuantType::kQ8_0, x);
  const BlockQ8_0* b8 = reinterpret_cast<const BlockQ8_0*>(q8.data());
  EXPECT_EQ(Fp16ToFp32(b8->d), 1.0f);
  EXPECT_EQ(b8->qs[0], 127);
  EXPECT_EQ(b8->qs[1], 3);
  EXPECT_EQ(b8->qs[2], -3);
  EXPECT_EQ(b8->qs[3], 1);
  EXPECT_EQ(b8->qs[4], -4);

  // Q8_1: same rounding; s = d * sum(q).
  auto q81 = Quantize(QuantType::kQ8_1, x);
  const BlockQ8_1* b81 = reinterpret_cast<const BlockQ8_1*>(q81.data());
  EXPECT_EQ(b81->qs[1], 3);
  EXPECT_EQ(Fp16ToFp32(b81->s), 127.0f + 3 - 3 + 1 - 4);

  // Q8_K (nearest, ties to even; scale -127/max so max maps to -127). max = -127 -> d = 1.
  std::vector<float> k(256, 0.0f);
  k[0] = -127.0f;
  k[1] = 2.5f;
  k[2] = 3.5f;
  k[3] = -0.5f;
  k[20] = 126.6f;
  auto qk = Quantize(QuantType::kQ8_K, k);
  const BlockQ8_K* bk = reinterpret_cast<const BlockQ8_K*>(qk.data());
  EXPECT_EQ(bk->d, 1.0f);
  EXPECT_EQ(bk->qs[0], -127);
  EXPECT_EQ(bk->qs[1], 2);
  EXPECT_EQ(bk->qs[2], 4);
  EXPECT_EQ(bk->qs[3], 0);
  EXPECT_EQ(bk->qs[20], 127);
  EXPECT_EQ(bk->bsums[0], -127 + 2 + 4);
  EXPECT_EQ(bk->bsums[1], 127);
  // Positive max: iscale = -127/max < 0, so d < 0 and the max maps to -127.
  k[0] = 127.0f;
  qk = Quantize(QuantType::kQ8_K, k);
  bk = reinterpret_cast<const BlockQ8_K*>(qk.data());
  EXPECT_EQ(bk->d, -1.0f);
  EXPECT_EQ(bk->qs[0], -127);
  EXPECT_EQ(bk->qs[1], -2);
  EXPECT_EQ(bk->qs[2], -4);

  // Q4_0: d = max / -8 with the signed max; ties round up (trunc(v + 8.5)); 8 clips to 7.
  std::vector<float> f(32, 0.0f);
  f[0] = -8.0f;
  f[1] = 2.5f;
  f[2] = -2.5f;
  f[3] = 7.75f;
  auto q4 = Quantize(QuantType::kQ4_0, f);
  const auto y4 = Dequantize(QuantType::kQ4_0, q4, 32);
  EXPECT_EQ(Fp16ToFp32(reinterpret_cast<const BlockQ4_0*>(q4.data())->d), 1.0f);
  EXPECT_EQ(y4[0], -8.0f);
  EXPECT_EQ(y4[1], 3.0f);
  EXPECT_EQ(y4[2], -2.0f);
  EXPECT_EQ(y4[3], 7.0f);
  EXPECT_EQ(y4[4], 0.0f);
}

// Q8_K: bsums are the sums of the 16-element groups; d = 1/iscale carries the sign.
TEST(KernelsQuantize, Q8KBlockSums) {
  std::mt19937 rng(3);
  const auto x = RandomFloats(1024, rng);
  const auto q = Quantize(QuantType::kQ8_K, x);
  const BlockQ8_K* b = reinterpret_cast<const BlockQ8_K*>(q.data());
  for (int i = 0; i < 4; ++i) {
    int qmin = 0;
    for (int j = 0; j < 16; ++j) {
      int s = 0;
      for (int l = 0; l < 16; ++l) s += b[i].qs[16 * j + l];
      EXPECT_EQ(b[i].bsums[j], s);
    }
    for (int j = 0; j < 256; ++j) qmin = std::min<int>(qmin, b[i].qs[j]);
    EXPECT_EQ(qmin, -127);  // the largest magnitude maps to -127 (d takes the other sign)
  }
}

double ExactDot(const std::vector<double>& w, const std::vector<double>& a, double* abs_sum) {
  double s = 0;
  *abs_sum = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    s += w[i] * a[i];
    *abs_sum += std::fabs(w[i] * a[i]);
  }
  return s;
}

// vec_dot equals the exact dot product of the decoded operands up to float rounding.
// For Q4_1 x Q8_1 the activation's sum term is s (its stored d * sum(q)), as ggml uses it.
TEST(KernelsVecDot, MatchesExactDotOfDecodedOperands) {
  std::mt19937 rng(11);
  for (QuantType wt : kWeightTypes) {
    const TypeTraits& w = Traits(wt);
    for (int64_t n : {256, 1024, 4096}) {
      for (int rep = 0; rep < 4; ++rep) {
        const auto wrow = RandomRow(wt, n, rng);
        const auto x = RandomFloats(n, rng, rep == 3 ? 100.0f : 1.0f);
        const auto arow = Quantize(w.vec_dot_type, x);
        const float ours = w.vec_dot(n, wrow.data(), arow.data());
        const auto wd = DecodeRow(wt, wrow, n);
        double abs_sum = 0, exact = 0;
        if (wt == QuantType::kQ4_1) {
          // x_w = d q + m; sum_j x_w[j] a[j] = d * sum(q a) + m * sum(a), sum(a) := s.
          const auto* wb = reinterpret_cast<const BlockQ4_1*>(wrow.data());
          const auto* ab = reinterpret_cast<const BlockQ8_1*>(arow.data());
          for (int64_t b = 0; b < n / 32; ++b) {
            const double dw = testing::HalfToDouble(wb[b].d);
            const double mw = testing::HalfToDouble(wb[b].m);
            const double da = testing::HalfToDouble(ab[b].d);
            for (int j = 0; j < 32; ++j) {
              const int qw = j < 16 ? wb[b].qs[j] % 16 : wb[b].qs[j - 16] / 16;
              exact += dw * qw * da * ab[b].qs[j];
              abs_sum += std::fabs(dw * qw * da * ab[b].qs[j]);
            }
            exact += mw * testing::HalfToDouble(ab[b].s);
            abs_sum += std::fabs(mw * testing::HalfToDouble(ab[b].s));
          }
        } else {
          exact = ExactDot(wd, DecodeRow(w.vec_dot_type, arow, n), &abs_sum);
        }
        EXPECT_LE(std::fabs(ours - exact), kVecDotMaxRelErr * abs_sum + 1e-30)
            << QuantTypeName(wt) << " n=" << n << " ours=" << ours << " exact=" << exact;

        // End to end against the float activations.
        double xd = 0, wn = 0, xn = 0;
        for (int64_t i = 0; i < n; ++i) {
          xd += wd[i] * x[i];
          wn += wd[i] * wd[i];
          xn += double(x[i]) * x[i];
        }
        EXPECT_LE(std::fabs(ours - xd) / std::sqrt(wn * xn), kActQuantMaxNormErr)
            << QuantTypeName(wt) << " n=" << n;
      }
    }
  }
}

TEST(KernelsVecDot, ZeroActivationsGiveZero) {
  std::mt19937 rng(5);
  for (QuantType wt : kWeightTypes) {
    const TypeTraits& w = Traits(wt);
    const auto wrow = RandomRow(wt, 512, rng);
    const auto arow = Quantize(w.vec_dot_type, std::vector<float>(512, 0.0f));
    EXPECT_EQ(w.vec_dot(512, wrow.data(), arow.data()), 0.0f) << QuantTypeName(wt);
  }
}

// The dispatch table's quantize + vec_dot path agrees with the scalar entry points.
TEST(KernelsVecDot, TableEntriesAreTheNamedKernels) {
  EXPECT_EQ(Traits(QuantType::kQ4_0).vec_dot, &ref::VecDotQ4_0Q8_0);
  EXPECT_EQ(Traits(QuantType::kQ4_1).vec_dot, &ref::VecDotQ4_1Q8_1);
  EXPECT_EQ(Traits(QuantType::kQ8_0).vec_dot, &ref::VecDotQ8_0Q8_0);
  EXPECT_EQ(Traits(QuantType::kQ4_K).vec_dot, &ref::VecDotQ4_KQ8_K);
  EXPECT_EQ(Traits(QuantType::kQ5_K).vec_dot, &ref::VecDotQ5_KQ8_K);
  EXPECT_EQ(Traits(QuantType::kQ6_K).vec_dot, &ref::VecDotQ6_KQ8_K);
  EXPECT_EQ(Traits(QuantType::kQ8_K).quantize_row, &ref::QuantizeRowQ8_K);
  EXPECT_EQ(Traits(QuantType::kQ6_K).dequantize_row, &ref::DequantizeRowQ6_K);
}

}  // namespace
}  // namespace foundry
