// AttentionKernels of every ISA this CPU runs: bit for bit the per-cell composition they stand
// for (the ISA's f16 vec_dot for KQ, axpy_f16 into 8 lanes and tinyBLAS's lane sum for KQV), and
// close to a double-precision evaluation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/fp16.h"
#include "kernels/kernels.h"
#include "kernels_test_util.h"

namespace foundry {
namespace {

using testing::RandomFloats;

std::vector<uint16_t> RandomHalves(int64_t n, std::mt19937& rng, float scale) {
  std::vector<uint16_t> h(static_cast<size_t>(n));
  const std::vector<float> f = RandomFloats(n, rng, scale);
  for (int64_t i = 0; i < n; ++i) h[i] = Fp32ToFp16(f[i]);
  return h;
}

uint32_t Bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// The per-row kernels the attention kernels of `isa` compose: AVX-512 uses the AVX2 ones.
Isa ComponentIsa(Isa isa) { return isa == Isa::kScalar ? Isa::kScalar : Isa::kAvx2; }

TEST(KernelsAttention, KqIsTheF16DotOfEveryCell) {
  std::mt19937 rng(21);
  int checked = 0;
  for (Isa isa : kAllIsas) {
    if (!IsaSupported(isa)) continue;
    const AttentionKernels& ak = *AttentionKernelsForIsa(isa);
    const TypeTraits* f16 = FindTypeTraitsForIsa(QuantType::kF16, ComponentIsa(isa));
    for (int64_t d : {64, 68, 256}) {
      for (int64_t n_q : {1, 3, 4, 7}) {
        for (int64_t n : {1, 2, 9, 40}) {
          const int64_t k_stride = d * 3 + 8;  // rows of a KV cache with several heads
          const std::vector<uint16_t> k = RandomHalves(n * k_stride, rng, 2.0f);
          std::vector<float> q(static_cast<size_t>(n_q * d));
          std::vector<uint16_t> qh(q.size());
          for (size_t i = 0; i < q.size(); ++i) {
            qh[i] = Fp32ToFp16(RandomFloats(1, rng, 2.0f)[0]);
            q[i] = Fp16ToFp32(qh[i]);
          }
          const int64_t ld = n + 5;
          std::vector<float> scores(static_cast<size_t>(n_q * ld), -1.0f);
          ak.kq(d, k.data(), k_stride, n, q.data(), n_q, scores.data(), ld);
          for (int64_t h = 0; h < n_q; ++h) {
            for (int64_t j = 0; j < ld; ++j) {
              const float got = scores[h * ld + j];
              if (j >= n) {
                ASSERT_EQ(got, -1.0f) << "wrote past the cells";
                continue;
              }
              const float want = f16->vec_dot(d, k.data() + j * k_stride, qh.data() + h * d);
              ASSERT_EQ(Bits(got), Bits(want)) << IsaName(isa) << " d=" << d << " n_q=" << n_q
                                               << " n=" << n << " h=" << h << " j=" << j;
              double exact = 0.0;
              for (int64_t i = 0; i < d; ++i) {
                exact += static_cast<double>(Fp16ToFp32(k[j * k_stride + i])) * q[h * d + i];
              }
              ASSERT_NEAR(got, exact, 1e-4 * (1.0 + std::fabs(exact)));
              ++checked;
            }
          }
        }
      }
    }
  }
  std::printf("[ ATTN     ] KQ scores checked: %d\n", checked);
}

TEST(KernelsAttention, KqvIsTheLaneAxpyOfEveryCell) {
  std::mt19937 rng(22);
  int checked = 0;
  for (Isa isa : kAllIsas) {
    if (!IsaSupported(isa)) continue;
    const AttentionKernels& ak = *AttentionKernelsForIsa(isa);
    const VectorKernels& vk = *VectorKernelsForIsa(ComponentIsa(isa));
    for (int64_t dv : {64, 70, 256}) {
      for (int64_t n : {1, 7, 8, 13, 64, 77}) {
        const int64_t v_stride = dv * 2 + 16;
        const std::vector<uint16_t> v = RandomHalves(n * v_stride, rng, 2.0f);
        std::vector<float> p(static_cast<size_t>(n));
        for (float& x : p) x = Fp16ToFp32(Fp32ToFp16(std::fabs(RandomFloats(1, rng, 1.0f)[0])));
        p[0] = 0.0f;  // a masked cell
        std::vector<float> out(static_cast<size_t>(dv) + 1, -1.0f);
        ak.kqv(dv, v.data(), v_stride, n, p.data(), out.data());
        ASSERT_EQ(out[dv], -1.0f) << "wrote past the output";
        std::vector<float> lanes(static_cast<size_t>(8 * dv), 0.0f);
        for (int64_t j = 0; j < n; ++j) {
          vk.axpy_f16(dv, p[j], v.data() + j * v_stride, lanes.data() + j % 8 * dv);
        }
        for (int64_t i = 0; i < dv; ++i) {
          const float* l = lanes.data() + i;
          const float want = ((l[0] + l[4 * dv]) + (l[2 * dv] + l[6 * dv])) +
                             ((l[dv] + l[5 * dv]) + (l[3 * dv] + l[7 * dv]));
          ASSERT_EQ(Bits(out[i]), Bits(want))
              << IsaName(isa) << " dv=" << dv << " n=" << n << " i=" << i;
          double exact = 0.0;
          for (int64_t j = 0; j < n; ++j) {
            exact += static_cast<double>(p[j]) * Fp16ToFp32(v[j * v_stride + i]);
          }
          ASSERT_NEAR(out[i], exact, 1e-4 * (1.0 + std::fabs(exact)));
          ++checked;
        }
      }
    }
  }
  std::printf("[ ATTN     ] KQV outputs checked: %d\n", checked);
}

TEST(KernelsAttention, RoundToF16MatchesTheReferenceConversion) {
  std::mt19937 rng(23);
  std::uniform_real_distribution<float> exponent(-30.0f, 20.0f);
  std::vector<float> x(203);
  for (float& v : x) v = std::ldexp(RandomFloats(1, rng, 1.0f)[0], static_cast<int>(exponent(rng)));
  x[0] = 65519.0f;  // rounds to 65504
  x[1] = 65520.0f;  // rounds to inf
  x[2] = 1e-8f;     // a subnormal half
  x[3] = -0.0f;
  for (Isa isa : kAllIsas) {
    if (!IsaSupported(isa)) continue;
    std::vector<float> y = x;
    AttentionKernelsForIsa(isa)->round_to_f16(static_cast<int64_t>(y.size()), y.data());
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_EQ(Bits(y[i]), Bits(Fp16ToFp32(Fp32ToFp16(x[i])))) << IsaName(isa) << " x=" << x[i];
    }
  }
}

TEST(KernelsAttention, KqvHeadsIsKqvPerHead) {
  // For 1 to kMaxHeadsPerJob query heads sharing the V rows (GQA): each head's outputs are
  // exactly what kqv gives it alone.
  std::mt19937 rng(24);
  int checked = 0;
  for (Isa isa : kAllIsas) {
    if (!IsaSupported(isa)) continue;
    const AttentionKernels& ak = *AttentionKernelsForIsa(isa);
    for (int64_t dv : {64, 80, 100, 256}) {
      for (int64_t n : {1, 2, 7, 33, 100}) {
        for (int64_t heads : {int64_t{1}, int64_t{3}, int64_t{7}, kMaxHeadsPerJob}) {
          const int64_t stride = dv + 24, ld = n + 5;
          const std::vector<uint16_t> v = RandomHalves(n * stride, rng, 2.0f);
          std::vector<float> p(static_cast<size_t>(heads * ld));
          for (float& x : p) x = Fp16ToFp32(Fp32ToFp16(std::fabs(RandomFloats(1, rng, 1.0f)[0])));
          std::vector<float> out(static_cast<size_t>(heads * dv) + 1, -1.0f);
          ak.kqv_heads(dv, v.data(), stride, n, p.data(), heads, ld, out.data());
          ASSERT_EQ(out[heads * dv], -1.0f) << "wrote past the output";
          for (int64_t h = 0; h < heads; ++h) {
            std::vector<float> want(static_cast<size_t>(dv));
            ak.kqv(dv, v.data(), stride, n, p.data() + h * ld, want.data());
            for (int64_t i = 0; i < dv; ++i) {
              ASSERT_EQ(Bits(out[h * dv + i]), Bits(want[i]))
                  << IsaName(isa) << " dv=" << dv << " n=" << n << " heads=" << heads << " h=" << h
                  << " i=" << i;
              ++checked;
            }
          }
        }
      }
    }
  }
  std::printf("[ ATTN     ] kqv_heads outputs checked: %d\n", checked);
}

}  // namespace
}  // namespace foundry
