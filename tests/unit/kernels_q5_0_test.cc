// Q5_0 weights (Gemma 3 GGUFs): dequantization against a decoder written from the byte
// layout (f16 d; u32 qh little-endian, bit j = fifth bit of element j; u8 qs[16], low
// nibbles elements 0..15, high nibbles 16..31; x = d * (q - 16)), and the Q8_0 dot product
// against the dequantized rows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../isa_under_test.h"
#include "base/fp16.h"
#include "kernels/kernels.h"
#include "kernels_test_util.h"

namespace foundry {
namespace {

constexpr int kBlocks = 8, kN = kBlocks * 32, kQ5Bytes = 22;

std::vector<uint8_t> RandomQ5_0(std::mt19937& rng) {
  std::vector<uint8_t> b(kBlocks * kQ5Bytes);
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& x : b) x = static_cast<uint8_t>(byte(rng));
  std::uniform_real_distribution<float> scale(-0.05f, 0.05f);
  for (int i = 0; i < kBlocks; ++i) {
    const uint16_t d = Fp32ToFp16(scale(rng));
    b[i * kQ5Bytes] = d & 0xFF;
    b[i * kQ5Bytes + 1] = d >> 8;
  }
  return b;
}

// Element e's quant minus 16, in [-16, 15].
int Quant(const uint8_t* blocks, int e) {
  const uint8_t* b = blocks + (e / 32) * kQ5Bytes;
  const int j = e % 32;
  const uint32_t qh = b[2] | (b[3] << 8) | (b[4] << 16) | (static_cast<uint32_t>(b[5]) << 24);
  const int nib = j < 16 ? (b[6 + j] & 15) : (b[6 + j - 16] >> 4);
  return (nib | (((qh >> j) & 1) << 4)) - 16;
}

double Decode(const uint8_t* blocks, int e) {
  return testing::HalfToDouble(testing::Rd16(blocks + (e / 32) * kQ5Bytes)) * Quant(blocks, e);
}

TEST(KernelsQ5_0, DequantizeMatchesLayout) {
  std::mt19937 rng(7);
  const TypeTraits* t = FindRefTypeTraits(QuantType::kQ5_0);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->block_bytes, 22u);
  EXPECT_EQ(t->vec_dot_type, QuantType::kQ8_0);
  for (int trial = 0; trial < 20; ++trial) {
    const auto w = RandomQ5_0(rng);
    std::vector<float> out(kN);
    t->dequantize_row(w.data(), out.data(), kN);
    for (int e = 0; e < kN; ++e) ASSERT_EQ(out[e], static_cast<float>(Decode(w.data(), e))) << e;
  }
}

TEST(KernelsQ5_0, DotWithQ8_0MatchesDequantized) {
  std::mt19937 rng(11);
  const TypeTraits* t = harness::KernelsUnderTest().Find(QuantType::kQ5_0);
  const TypeTraits* a = harness::KernelsUnderTest().Find(QuantType::kQ8_0);
  ASSERT_NE(t, nullptr);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int trial = 0; trial < 20; ++trial) {
    const auto w = RandomQ5_0(rng);
    std::vector<float> x(kN), xd(kN);
    for (auto& v : x) v = normal(rng);
    std::vector<uint8_t> xq(RowBytes(*a, kN));
    a->quantize_row(x.data(), xq.data(), kN);
    a->dequantize_row(xq.data(), xd.data(), kN);
    double want = 0, mag = 0;
    for (int e = 0; e < kN; ++e) {
      want += Decode(w.data(), e) * xd[e];
      mag += std::fabs(Decode(w.data(), e) * xd[e]);
    }
    EXPECT_NEAR(t->vec_dot(kN, w.data(), xq.data()), want, 1e-5 * mag + 1e-6);
  }
}

// The AVX2 kernel sums in llama.cpp's order, bit for bit: per block, lane l holds the integer
// sum of elements 4l..4l+3, fused into its accumulator with d_w * d_a; one horizontal sum last.
TEST(KernelsQ5_0, Avx2DotSumsInLlamaCppOrder) {
  const TypeTraits* t = FindTypeTraitsForIsa(QuantType::kQ5_0, Isa::kAvx2);
  if (t == nullptr) GTEST_SKIP() << "this CPU has no AVX2";
  const TypeTraits* a = FindTypeTraitsForIsa(QuantType::kQ8_0, Isa::kAvx2);
  std::mt19937 rng(13);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int trial = 0; trial < 50; ++trial) {
    const auto w = RandomQ5_0(rng);
    std::vector<float> x(kN);
    for (auto& v : x) v = normal(rng);
    std::vector<uint8_t> xq(RowBytes(*a, kN));
    a->quantize_row(x.data(), xq.data(), kN);
    float lanes[8] = {};
    for (int b = 0; b < kBlocks; ++b) {
      const uint8_t* ab = xq.data() + b * 34;
      const float d =
          Fp16ToFp32(testing::Rd16(w.data() + b * kQ5Bytes)) * Fp16ToFp32(testing::Rd16(ab));
      for (int l = 0; l < 8; ++l) {
        int sum = 0;
        for (int k = 0; k < 4; ++k) {
          const int e = 4 * l + k;
          sum += Quant(w.data(), b * 32 + e) * static_cast<int8_t>(ab[2 + e]);
        }
        lanes[l] = std::fma(d, static_cast<float>(sum), lanes[l]);
      }
    }
    const float want = ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) +
                       ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
    EXPECT_EQ(t->vec_dot(kN, w.data(), xq.data()), want) << trial;
  }
}

// Rows of n elements (n / 32 of the kBlocks blocks) on one ISA; see below.
void GemmMatchesVecDot(Isa isa, int64_t n) {
  const TypeTraits* t = FindTypeTraitsForIsa(QuantType::kQ5_0, isa);
  ASSERT_NE(t->gemm, nullptr);
  const TypeTraits* a = FindTypeTraitsForIsa(QuantType::kQ8_0, isa);
  std::mt19937 rng(17);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const size_t wb = kBlocks * kQ5Bytes, ab = RowBytes(*a, kN);
  for (int64_t rows : {1, 4, 7, 10}) {
    for (int64_t tokens : {1, 3, 4, 9, 21}) {
      std::vector<uint8_t> w;
      for (int64_t r = 0; r < rows; ++r) {
        const auto row = RandomQ5_0(rng);
        w.insert(w.end(), row.begin(), row.end());
      }
      std::vector<uint8_t> xq(ab * tokens);
      for (int64_t k = 0; k < tokens; ++k) {
        std::vector<float> x(kN);
        for (auto& v : x) v = normal(rng);
        a->quantize_row(x.data(), xq.data() + k * ab, kN);
      }
      const int64_t ldy = rows + 2;
      std::vector<float> y(ldy * tokens, -1.0f);
      t->gemm({n, w.data(), wb, rows, xq.data(), ab, tokens, y.data(), ldy});
      for (int64_t k = 0; k < tokens; ++k) {
        for (int64_t r = 0; r < ldy; ++r) {
          const float want =
              r < rows ? t->vec_dot(n, w.data() + r * wb, xq.data() + k * ab) : -1.0f;
          EXPECT_EQ(y[k * ldy + r], want) << IsaName(isa) << " n=" << n << " rows=" << rows
                                          << " tokens=" << tokens << " r=" << r;
        }
      }
    }
  }
}

// The batched form (tiles of rows x tokens, and the 4-row tiles of decoding) of each SIMD ISA
// gives its vec_dot's bits for every output, including tile edges, an odd block count (AVX-512
// takes blocks in pairs) and a y leading dimension wider than the rows.
TEST(KernelsQ5_0, SimdGemmMatchesVecDotExactly) {
  if (!IsaSupported(Isa::kAvx2)) GTEST_SKIP() << "this CPU has no AVX2";
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (!IsaSupported(isa)) {
      std::printf("this CPU lacks %s: not checked\n", std::string(IsaName(isa)).c_str());
      continue;
    }
    for (int64_t n : {int64_t{kN}, int64_t{kN - 32}}) GemmMatchesVecDot(isa, n);
  }
}

}  // namespace
}  // namespace foundry
