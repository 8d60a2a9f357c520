// VectorKernels of every ISA this CPU runs: accuracy against libm, and the exact summation
// orders the attention relies on (tinyBLAS's, for one token and for many).
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/fp16.h"
#include "kernels/kernels.h"
#include "kernels/ops.h"
#include "kernels_test_util.h"

namespace foundry {
namespace {

using testing::RandomFloats;

std::vector<Isa> RunnableIsas() {
  std::vector<Isa> isas;
  for (Isa isa : kAllIsas) {
    if (IsaSupported(isa)) isas.push_back(isa);
  }
  return isas;
}

std::string Name(Isa isa) { return std::string(IsaName(isa)); }

std::vector<uint16_t> RandomHalves(int64_t n, std::mt19937& rng, float scale) {
  std::vector<uint16_t> h(static_cast<size_t>(n));
  const std::vector<float> f = RandomFloats(n, rng, scale);
  for (int64_t i = 0; i < n; ++i) h[i] = Fp32ToFp16(f[i]);
  return h;
}

// Eight lanes summed as ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)): the horizontal sum
// of an __m256 (halves, then movehl, then movehdup) that ggml and tinyBLAS use.
float HsumLanes(const float* l) {
  return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
}

TEST(KernelsVector, ExpSumIsAccurateAndSumsInGgmlOrder) {
  std::mt19937 rng(7);
  std::vector<float> x = RandomFloats(1003, rng, 30.0f);
  // Edges: masked (-inf), underflow, overflow of the slow path, exact zero.
  x[0] = -INFINITY;
  x[1] = -120.0f;
  x[2] = -87.5f;
  x[3] = 0.0f;
  x[9] = 60.0f;
  const float max = 60.0f;
  for (Isa isa : RunnableIsas()) {
    const VectorKernels* vk = VectorKernelsForIsa(isa);
    ASSERT_NE(vk, nullptr);
    std::vector<float> y(x.size());
    const double sum = vk->exp_sum(static_cast<int64_t>(x.size()), x.data(), max, y.data());
    for (size_t i = 0; i < x.size(); ++i) {
      const double ref = std::exp(static_cast<double>(x[i] - max));
      // ggml's approximation is within 1.5 ulp plus rounding; subnormal results may flush.
      EXPECT_NEAR(y[i], ref, 4 * FLT_EPSILON * ref + 2 * FLT_MIN) << Name(isa) << " " << x[i];
    }
    EXPECT_EQ(y[0], 0.0f) << Name(isa);
    double expect = 0.0;
    size_t i = 0;
    if (isa == Isa::kAvx2) {
      for (; i + 8 <= x.size(); i += 8) expect += static_cast<double>(HsumLanes(&y[i]));
    }
    for (; i < x.size(); ++i) expect += static_cast<double>(y[i]);
    EXPECT_EQ(sum, expect) << Name(isa);
  }
}

TEST(KernelsVector, SwiGluMatchesFormula) {
  std::mt19937 rng(8);
  const int64_t n = 1541;
  std::vector<float> gate = RandomFloats(n, rng, 12.0f), up = RandomFloats(n, rng, 3.0f);
  gate[0] = -100.0f;
  gate[1] = 100.0f;
  for (Isa isa : RunnableIsas()) {
    std::vector<float> y(static_cast<size_t>(n));
    VectorKernelsForIsa(isa)->swiglu(n, gate.data(), up.data(), y.data());
    for (int64_t i = 0; i < n; ++i) {
      const double ref = gate[i] / (1.0 + std::exp(-static_cast<double>(gate[i]))) * up[i];
      EXPECT_NEAR(y[i], ref, 8 * FLT_EPSILON * std::fabs(ref) + 1e-37) << Name(isa) << " " << i;
    }
  }
}

TEST(KernelsVector, AxpyF16IsOneFusedMultiplyAddPerElement) {
  std::mt19937 rng(9);
  const int64_t n = 77;
  const std::vector<uint16_t> v = RandomHalves(n, rng, 4.0f);
  const std::vector<float> acc0 = RandomFloats(n, rng, 2.0f);
  for (Isa isa : RunnableIsas()) {
    std::vector<float> acc = acc0;
    VectorKernelsForIsa(isa)->axpy_f16(n, 0.3125f, v.data(), acc.data());
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_EQ(acc[i], std::fma(0.3125f, Fp16ToFp32(v[i]), acc0[i])) << Name(isa) << " " << i;
    }
  }
}

// tinyBLAS's order (llama.cpp's batched path): one 8-lane accumulator, then HsumLanes.
float TinyBlasDotF16(int64_t n, const uint16_t* x, const uint16_t* y) {
  float lanes[8] = {};
  for (int64_t i = 0; i < n; ++i) {
    lanes[i % 8] = std::fma(Fp16ToFp32(x[i]), Fp16ToFp32(y[i]), lanes[i % 8]);
  }
  return HsumLanes(lanes);
}

TEST(KernelsVector, F16DotSumsInTinyBlasOrder) {
  std::mt19937 rng(10);
  for (int64_t n : {64, 128, 256, 96}) {
    for (int rep = 0; rep < 20; ++rep) {
      const std::vector<uint16_t> x = RandomHalves(n, rng, 3.0f), y = RandomHalves(n, rng, 3.0f);
      for (Isa isa : RunnableIsas()) {
        // Every ISA: the attention kernels are defined by this dot product and must sum alike
        // for one token and for many.
        EXPECT_EQ(FindTypeTraitsForIsa(QuantType::kF16, isa)->vec_dot(n, x.data(), y.data()),
                  TinyBlasDotF16(n, x.data(), y.data()))
            << Name(isa) << " n=" << n;
      }
    }
  }
}

// GeGLU through ggml's f16 table: every ISA gives the scalar kernel's bits, including the
// cut-offs at -10 and 10 and the values that round to them.
TEST(KernelsVector, GeGluMatchesScalarExactly) {
  std::mt19937 rng(31);
  std::vector<float> gate = RandomFloats(1003, rng, 6.0f);
  for (float v : {-10.0f, 10.0f, -9.999f, 9.999f, -10.001f, 10.001f, 0.0f, -0.0f, 65504.0f, -3e-8f,
                  1e30f, -1e30f}) {
    gate.push_back(v);
  }
  const std::vector<float> up = RandomFloats(static_cast<int64_t>(gate.size()), rng, 2.0f);
  const int64_t n = static_cast<int64_t>(gate.size());
  std::vector<float> want(gate.size());
  VectorKernelsForIsa(Isa::kScalar)->geglu(n, gate.data(), up.data(), GeluTable(), want.data());
  for (size_t i = 0; i < gate.size(); ++i) {
    // The scalar kernel is the formula through the table, independently of any ISA; at or
    // below -10 the output is +0 whatever the sign of up (ggml_vec_geglu_f32 stores 0.0f).
    const float x = gate[i];
    const float g = x >= 10.0f ? x : Fp16ToFp32(GeluTable()[Fp32ToFp16(x)]);
    const float expect = x <= -10.0f ? 0.0f : g * up[i];
    uint32_t a, b;
    std::memcpy(&a, &want[i], 4);
    std::memcpy(&b, &expect, 4);
    ASSERT_EQ(a, b) << x;
  }
  for (Isa isa : RunnableIsas()) {
    std::vector<float> got(gate.size());
    VectorKernelsForIsa(isa)->geglu(n, gate.data(), up.data(), GeluTable(), got.data());
    for (size_t i = 0; i < gate.size(); ++i) {
      uint32_t a, b;
      std::memcpy(&a, &got[i], 4);
      std::memcpy(&b, &want[i], 4);
      ASSERT_EQ(a, b) << Name(isa) << " gate=" << gate[i];
    }
  }
}

// The KV cache's f32 -> f16 stores: every ISA gives Fp32ToFp16's bits (round to nearest even)
// for normal, subnormal, tie, overflowing and infinite values; a NaN stays a NaN.
TEST(KernelsVector, ToF16MatchesFp32ToFp16) {
  std::mt19937 rng(37);
  std::vector<float> x = RandomFloats(1001, rng, 8.0f);
  const std::vector<float> tiny = RandomFloats(300, rng, 1e-5f);  // many f16 subnormals
  x.insert(x.end(), tiny.begin(), tiny.end());
  for (float v : {0.0f, -0.0f, 65504.0f, 65519.0f, 65520.0f, -65520.0f, 1e30f, INFINITY, -INFINITY,
                  5.96e-8f, 2.98e-8f, 2.9802326e-8f, 1.0f + 1.0f / 2048.0f, 1.0f + 3.0f / 2048.0f,
                  6.1035156e-5f, 6.097555e-5f}) {
    x.push_back(v);
  }
  x.push_back(NAN);
  const int64_t n = static_cast<int64_t>(x.size());
  for (Isa isa : RunnableIsas()) {
    std::vector<uint16_t> got(x.size());
    VectorKernelsForIsa(isa)->to_f16(n, x.data(), got.data());
    for (size_t i = 0; i + 1 < x.size(); ++i) {
      ASSERT_EQ(got[i], Fp32ToFp16(x[i])) << Name(isa) << " x=" << x[i] << " i=" << i;
    }
    EXPECT_TRUE(std::isnan(Fp16ToFp32(got.back()))) << Name(isa);
    // A length that is not a multiple of the vector width takes the tail path.
    std::vector<uint16_t> tail(5);
    VectorKernelsForIsa(isa)->to_f16(5, x.data() + 3, tail.data());
    for (int i = 0; i < 5; ++i) EXPECT_EQ(tail[i], Fp32ToFp16(x[3 + i])) << Name(isa);
  }
}

}  // namespace
}  // namespace foundry
