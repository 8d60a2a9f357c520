// Q5_1 weights (the fallback type of Q5_K_M rows that are not whole 256-blocks): the AVX2 dot
// product with Q8_1 activations sums in llama.cpp's order (ggml_vec_dot_q5_1_q8_1), bit for bit.
// Dequantization and the quantizer are checked against gguf-py (kernels_vectors_test), the dot
// products of every ISA against the reference (kernels_simd_test).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "base/fp16.h"
#include "kernels/kernels.h"
#include "kernels_test_util.h"

namespace foundry {
namespace {

constexpr int kBlocks = 8, kN = kBlocks * 32, kQ5Bytes = 24, kQ8Bytes = 36;

// Element e's quant, 0..31, read from the byte layout (d, m, qh, qs).
int Quant(const uint8_t* blocks, int e) {
  const uint8_t* b = blocks + (e / 32) * kQ5Bytes;
  const int j = e % 32;
  const uint32_t qh = b[4] | (b[5] << 8) | (b[6] << 16) | (static_cast<uint32_t>(b[7]) << 24);
  const int nib = j < 16 ? (b[8 + j] & 15) : (b[8 + j - 16] >> 4);
  return nib | static_cast<int>(((qh >> j) & 1) << 4);
}

// Lane l of a block sums elements 4l..4l+3 as integers, fused into its accumulator with
// d_w * d_a; one horizontal sum last; the m * s terms summed apart, in block order, and added.
TEST(KernelsQ5_1, Avx2DotSumsInLlamaCppOrder) {
  const TypeTraits* t = FindTypeTraitsForIsa(QuantType::kQ5_1, Isa::kAvx2);
  if (t == nullptr) GTEST_SKIP() << "this CPU has no AVX2";
  ASSERT_EQ(t->vec_dot_type, QuantType::kQ8_1);
  const TypeTraits* a = FindTypeTraitsForIsa(QuantType::kQ8_1, Isa::kAvx2);
  std::mt19937 rng(19);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int trial = 0; trial < 50; ++trial) {
    const std::vector<uint8_t> w = testing::RandomRow(QuantType::kQ5_1, kN, rng);
    std::vector<float> x(kN);
    for (auto& v : x) v = normal(rng);
    std::vector<uint8_t> xq(RowBytes(*a, kN));
    a->quantize_row(x.data(), xq.data(), kN);
    float lanes[8] = {};
    float summs = 0.0f;
    for (int b = 0; b < kBlocks; ++b) {
      const uint8_t* wb = w.data() + b * kQ5Bytes;
      const uint8_t* ab = xq.data() + b * kQ8Bytes;
      summs += Fp16ToFp32(testing::Rd16(wb + 2)) * Fp16ToFp32(testing::Rd16(ab + 2));
      const float d = Fp16ToFp32(testing::Rd16(wb)) * Fp16ToFp32(testing::Rd16(ab));
      for (int l = 0; l < 8; ++l) {
        int sum = 0;
        for (int k = 0; k < 4; ++k) {
          const int e = 4 * l + k;
          sum += Quant(w.data(), b * 32 + e) * static_cast<int8_t>(ab[4 + e]);
        }
        lanes[l] = std::fma(d, static_cast<float>(sum), lanes[l]);
      }
    }
    const float want = ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) +
                       ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7])) + summs;
    EXPECT_EQ(t->vec_dot(kN, w.data(), xq.data()), want) << trial;
  }
}

// The reference quantizer round-trips within Q5_1's precision (31 steps per block).
TEST(KernelsQ5_1, QuantizerRoundTrips) {
  const TypeTraits* t = FindRefTypeTraits(QuantType::kQ5_1);
  ASSERT_NE(t, nullptr);
  ASSERT_NE(t->quantize_row, nullptr);
  std::mt19937 rng(23);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(kN), y(kN);
  for (auto& v : x) v = normal(rng);
  std::vector<uint8_t> q(RowBytes(*t, kN));
  t->quantize_row(x.data(), q.data(), kN);
  t->dequantize_row(q.data(), y.data(), kN);
  for (int b = 0; b < kBlocks; ++b) {
    float lo = x[b * 32], hi = x[b * 32];
    for (int j = 0; j < 32; ++j) {
      lo = std::min(lo, x[b * 32 + j]);
      hi = std::max(hi, x[b * 32 + j]);
    }
    const float step = (hi - lo) / 31;
    for (int j = 0; j < 32; ++j) {
      EXPECT_LE(std::fabs(y[b * 32 + j] - x[b * 32 + j]), 0.5f * step + 2e-2f * step + 2e-3f)
          << b << " " << j;
    }
  }
}

}  // namespace
}  // namespace foundry
