// Forward-pass float ops against double-precision formulas.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numeric>
#include <random>
#include <vector>

#include "../isa_under_test.h"
#include "base/fp16.h"
#include "kernels/kernels.h"
#include "kernels/ops.h"
#include "kernels_test_util.h"

namespace foundry {
namespace {

using testing::RandomFloats;

// The vector kernels of the ISA under test (FOUNDRY_ISA).
const VectorKernels& Vector() { return *harness::KernelsUnderTest().vector; }

// Relative error allowed for ops computed in float with a handful of roundings.
constexpr double kOpMaxRelErr = 2e-6;

TEST(KernelsOps, RmsNorm) {
  std::mt19937 rng(1);
  for (int64_t n : {1, 7, 64, 896, 4096}) {
    const auto x = RandomFloats(n, rng, 3.0f);
    const auto w = RandomFloats(n, rng);
    const float eps = 1e-6f;
    double ss = 0;
    for (float v : x) ss += double(v) * v;
    const double scale = 1.0 / std::sqrt(ss / n + eps);
    std::vector<float> y(n), y_now(n), inplace = x;
    RmsNorm(x.data(), w.data(), y.data(), n, eps);
    RmsNorm(x.data(), nullptr, y_now.data(), n, eps);
    RmsNorm(inplace.data(), w.data(), inplace.data(), n, eps);
    for (int64_t i = 0; i < n; ++i) {
      const double ref = x[i] * scale * w[i];
      EXPECT_NEAR(y[i], ref, kOpMaxRelErr * std::fabs(ref) + 1e-30) << n << " " << i;
      EXPECT_NEAR(y_now[i], x[i] * scale, kOpMaxRelErr * std::fabs(x[i] * scale) + 1e-30);
      EXPECT_EQ(inplace[i], y[i]);
    }
  }
  // eps dominates a zero vector: output zero, no NaN.
  std::vector<float> z(16, 0.0f), out(16, 1.0f);
  RmsNorm(z.data(), nullptr, out.data(), 16, 1e-5f);
  for (float v : out) EXPECT_EQ(v, 0.0f);
}

std::vector<double> SoftmaxRef(const std::vector<float>& x) {
  double mx = -INFINITY;
  for (float v : x) mx = std::max(mx, double(v));
  std::vector<double> e(x.size());
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) s += e[i] = std::exp(double(x[i]) - mx);
  for (auto& v : e) v /= s;
  return e;
}

TEST(KernelsOps, Softmax) {
  std::mt19937 rng(2);
  for (int64_t n : {1, 5, 100, 2048}) {
    for (float scale : {1.0f, 30.0f, 1000.0f}) {
      auto x = RandomFloats(n, rng, scale);
      const auto x0 = x;
      const float mx = *std::max_element(x.begin(), x.end());
      const auto ref = SoftmaxRef(x);
      Softmax(Vector(), x.data(), n);
      double sum = 0;
      for (int64_t i = 0; i < n; ++i) {
        // x - max is rounded in float before expf: relative error grows with |x - max|.
        const double rel = 1e-6 + std::fabs(double(x0[i]) - mx) * std::ldexp(1.0, -23);
        EXPECT_NEAR(x[i], ref[i], rel * ref[i] + 1e-44) << n << " " << i;
        sum += x[i];
      }
      EXPECT_NEAR(sum, 1.0, 1e-5);
    }
  }
}

TEST(KernelsOps, SoftmaxExtScaleAndMask) {
  std::mt19937 rng(3);
  const int64_t n = 64;
  const auto x0 = RandomFloats(n, rng, 4.0f);
  std::vector<float> mask(n, 0.0f);
  for (int64_t i = 40; i < n; ++i) mask[i] = -INFINITY;
  mask[3] = -2.0f;
  const float scale = 0.125f;
  std::vector<float> xs(n);
  for (int64_t i = 0; i < n; ++i) xs[i] = x0[i] * scale + mask[i];
  const auto ref = SoftmaxRef(xs);
  auto x = x0;
  SoftmaxExt(Vector(), x.data(), n, scale, mask.data());
  for (int64_t i = 0; i < n; ++i) {
    if (i >= 40) {
      EXPECT_EQ(x[i], 0.0f);
    } else {
      EXPECT_NEAR(x[i], ref[i], 1e-6 * ref[i]);
    }
  }
  std::vector<float> all_masked(8, 1.0f), m2(8, -INFINITY);
  SoftmaxExt(Vector(), all_masked.data(), 8, 1.0f, m2.data());
  for (float v : all_masked) EXPECT_EQ(v, 0.0f);
}

TEST(KernelsOps, SiluAndSwiGlu) {
  std::mt19937 rng(4);
  const int64_t n = 1000;
  auto x = RandomFloats(n, rng, 5.0f);
  x[0] = -80.0f;
  x[1] = 80.0f;
  x[2] = 0.0f;
  const auto up = RandomFloats(n, rng);
  std::vector<float> y(n), g(n);
  Silu(x.data(), y.data(), n);
  SwiGlu(Vector(), x.data(), up.data(), g.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    const double ref = x[i] / (1.0 + std::exp(-double(x[i])));
    EXPECT_NEAR(y[i], ref, kOpMaxRelErr * std::fabs(ref) + 1e-37) << x[i];
    EXPECT_NEAR(g[i], ref * up[i], kOpMaxRelErr * std::fabs(ref * up[i]) + 1e-37);
  }
}

double GeluRef(double x) {
  return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * x * (1.0 + 0.044715 * x * x)));
}

TEST(KernelsOps, GeluTanhFormula) {
  for (double x = -12.0; x <= 12.0; x += 0.0137) {
    const float ours = GeluTanhF32(static_cast<float>(x));
    const double ref = GeluRef(static_cast<float>(x));
    EXPECT_NEAR(ours, ref, 4e-6 * std::fabs(static_cast<float>(x)) + 1e-7) << x;
  }
}

// ggml's table GELU: the input is rounded to f16 and the result is an f16 value; so the
// error against the exact formula is at most the two f16 roundings.
TEST(KernelsOps, GeluFp16Table) {
  std::mt19937 rng(5);
  std::vector<float> x = RandomFloats(20000, rng, 4.0f);
  const float edges[] = {-10.0f, -10.5f, 10.0f, 123.0f, 0.0f};
  for (size_t i = 0; i < std::size(edges); ++i) x[i] = edges[i];
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<float> y(n), gg(n);
  const std::vector<float> up(n, 1.5f);
  Gelu(x.data(), y.data(), n);
  GeGlu(Vector(), x.data(), up.data(), gg.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    const float xi = x[i];
    EXPECT_EQ(gg[i], y[i] * 1.5f);
    if (xi <= -10.0f) {
      EXPECT_EQ(y[i], 0.0f);
      continue;
    }
    if (xi >= 10.0f) {
      EXPECT_EQ(y[i], xi);
      continue;
    }
    // The result is an f16 value.
    EXPECT_EQ(Fp16ToFp32(Fp32ToFp16(y[i])), y[i]) << xi;
    const double xh = testing::HalfToDouble(Fp32ToFp16(xi));
    EXPECT_LE(std::fabs(xh - xi), std::ldexp(std::fabs(xi), -11) + std::ldexp(1.0, -25));
    // Output: f16 rounding of GELU at the rounded input (float formula error is far below).
    const double at_xh = GeluRef(xh);
    EXPECT_LE(std::fabs(y[i] - at_xh),
              std::ldexp(std::fabs(at_xh), -11) + 1e-7 + 1e-6 * std::fabs(xh))
        << xi;
  }
}

// ggml's theta: starts at pos and is multiplied by base^(-2/n_rot) in float per pair.
std::vector<double> ThetasGgml(int64_t pos, int n_rot, float base, float fscale) {
  const float step = std::pow(base, -2.0f / static_cast<float>(n_rot));
  float theta = static_cast<float>(pos);
  std::vector<double> out;
  for (int i = 0; i < n_rot / 2; ++i) {
    out.push_back(double(fscale) * double(theta));
    theta *= step;
  }
  return out;
}

TEST(KernelsOps, RopeCacheThetaMatchesClosedForm) {
  // At pos = 1 the angle is recoverable with atan2; float iteration drifts at most a few ulp
  // per step from the exact base^(-2i/n).
  RopeParams p;
  p.n_rot = 128;
  p.freq_base = 500000.0f;
  std::vector<float> cache(p.n_rot);
  RopeCache(p, 1, cache.data());
  for (int i = 0; i < p.n_rot / 2; ++i) {
    const double exact = std::pow(500000.0, -2.0 * i / p.n_rot);
    const double got = std::atan2(cache[2 * i + 1], cache[2 * i]);
    EXPECT_NEAR(got, exact, (i + 4) * 2.5e-7 * exact + 1e-7) << i;
    EXPECT_NEAR(std::hypot(cache[2 * i], cache[2 * i + 1]), 1.0, 1e-6);
  }
}

void RopeRef(std::vector<double>& x, const std::vector<double>& theta, int n_rot, bool neox) {
  for (int i = 0; i < n_rot / 2; ++i) {
    const int a = neox ? i : 2 * i;
    const int b = neox ? i + n_rot / 2 : 2 * i + 1;
    const double c = std::cos(theta[i]), s = std::sin(theta[i]);
    const double x0 = x[a], x1 = x[b];
    x[a] = x0 * c - x1 * s;
    x[b] = x0 * s + x1 * c;
  }
}

TEST(KernelsOps, RopeNormAndNeox) {
  std::mt19937 rng(6);
  const int head_dim = 128;
  for (int n_rot : {128, 64}) {
    for (int64_t pos : {0, 1, 17, 1000, 30000}) {
      for (bool neox : {false, true}) {
        const auto x0 = RandomFloats(head_dim, rng);
        auto x = x0;
        const float fscale = pos == 1000 ? 0.25f : 1.0f;
        if (neox) {
          RopeNeox(x.data(), pos, n_rot, 10000.0f, fscale);
        } else {
          RopeNorm(x.data(), pos, n_rot, 10000.0f, fscale);
        }
        std::vector<double> ref(x0.begin(), x0.end());
        RopeRef(ref, ThetasGgml(pos, n_rot, 10000.0f, fscale), n_rot, neox);
        for (int i = 0; i < head_dim; ++i) {
          if (i >= n_rot) {
            EXPECT_EQ(x[i], x0[i]);  // not rotated
          } else {
            // cosf/sinf of large angles: absolute error ~ ulp(theta) * |x|.
            EXPECT_NEAR(x[i], ref[i], 2e-6 * (1.0 + pos * 1e-3)) << n_rot << " " << pos << " " << i;
          }
        }
      }
    }
  }
}

// NEOX on a vector equals NORM on the same vector with its halves interleaved.
TEST(KernelsOps, RopeNeoxIsPermutedNorm) {
  std::mt19937 rng(7);
  const int n = 64;
  const auto x = RandomFloats(n, rng);
  std::vector<float> inter(n);
  for (int i = 0; i < n / 2; ++i) {
    inter[2 * i] = x[i];
    inter[2 * i + 1] = x[i + n / 2];
  }
  auto a = x;
  RopeNeox(a.data(), 123, n, 10000.0f, 1.0f);
  RopeNorm(inter.data(), 123, n, 10000.0f, 1.0f);
  for (int i = 0; i < n / 2; ++i) {
    EXPECT_EQ(a[i], inter[2 * i]);
    EXPECT_EQ(a[i + n / 2], inter[2 * i + 1]);
  }
}

TEST(KernelsOps, RopeFreqFactorsAndAttnFactor) {
  RopeParams p;
  p.n_rot = 16;
  p.freq_base = 10000.0f;
  std::vector<float> ff(8);
  for (int i = 0; i < 8; ++i) ff[i] = 1.0f + i;
  p.freq_factors = ff.data();
  p.attn_factor = 0.5f;
  std::vector<float> cache(16);
  RopeCache(p, 50, cache.data());
  const auto th = ThetasGgml(50, 16, 10000.0f, 1.0f);
  for (int i = 0; i < 8; ++i) {
    const double t = static_cast<float>(th[i]) / ff[i];
    EXPECT_NEAR(cache[2 * i], 0.5 * std::cos(t), 1e-5) << i;
    EXPECT_NEAR(cache[2 * i + 1], 0.5 * std::sin(t), 1e-5) << i;
  }
}

// YaRN: dims below the low correction dim use the extrapolated angle, above the high one the
// interpolated angle; magnitude scale 1 + 0.1 ln(1/freq_scale).
TEST(KernelsOps, RopeYarnEnds) {
  RopeParams p;
  p.n_rot = 128;
  p.freq_base = 10000.0f;
  p.freq_scale = 0.25f;
  p.ext_factor = 1.0f;
  p.n_ctx_orig = 4096;
  std::vector<float> cache(128);
  RopeCache(p, 100, cache.data());
  const auto th = ThetasGgml(100, 128, 10000.0f, 1.0f);
  const double ms = 1.0 + 0.1 * std::log(4.0);
  auto corr = [&](double beta) {
    return 128 * std::log(4096.0 / (beta * 2 * M_PI)) / (2 * std::log(10000.0));
  };
  const int low = static_cast<int>(std::floor(corr(32.0)));
  const int high = static_cast<int>(std::ceil(corr(1.0)));
  ASSERT_GT(low, 1);
  ASSERT_LT(high, 62);
  for (int i = 0; i < 64; ++i) {
    if (i > low - 1 && i <= high) continue;  // inside the ramp
    const double t = i <= low - 1 ? th[i] : 0.25 * th[i];
    EXPECT_NEAR(cache[2 * i], ms * std::cos(t), 2e-5) << i;
    EXPECT_NEAR(cache[2 * i + 1], ms * std::sin(t), 2e-5) << i;
  }
}

}  // namespace
}  // namespace foundry
