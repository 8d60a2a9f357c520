// Forward-pass ops with ggml's CPU numerics: rms_norm, soft_max, silu/swiglu, gelu/geglu with
// the f16 table, rope. The exp-based inner loops of soft_max and swiglu come from the model's
// ISA's VectorKernels, so they round as llama.cpp does on the same CPU.
#include "kernels/ops.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "base/fp16.h"
#include "kernels/kernels.h"

namespace foundry {

void RmsNorm(const float* x, const float* w, float* y, int64_t n, float eps) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  if (w != nullptr) {
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] * scale) * w[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale;
  }
}

namespace {

// x already scaled and masked; normalizes in place.
void SoftmaxInPlace(const VectorKernels& vk, float* x, int64_t n) {
  float max = -INFINITY;
  for (int64_t i = 0; i < n; ++i) max = std::max(max, x[i]);
  if (max == -INFINITY) {  // everything masked
    for (int64_t i = 0; i < n; ++i) x[i] = 0.0f;
    return;
  }
  const double sum = vk.exp_sum(n, x, max, x);
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace

void Softmax(const VectorKernels& vk, float* x, int64_t n) { SoftmaxInPlace(vk, x, n); }

void SoftmaxExt(const VectorKernels& vk, float* x, int64_t n, float scale, const float* mask) {
  for (int64_t i = 0; i < n; ++i) x[i] *= scale;
  if (mask != nullptr) {
    for (int64_t i = 0; i < n; ++i) x[i] += mask[i];
  }
  SoftmaxInPlace(vk, x, n);
}

namespace {
inline float SiluF32(float x) { return x / (1.0f + std::exp(-x)); }

inline float GeluF16Table(const uint16_t* table, float x) {
  if (x <= -kGeluTableLimit) return 0.0f;
  if (x >= kGeluTableLimit) return x;
  return Fp16ToFp32(table[Fp32ToFp16(x)]);
}
}  // namespace

// ggml evaluates GELU through a table indexed by the f16 bits of x holding f16 results. The
// table is immutable once built (thread-safe static initialisation), so it is not engine state.
const uint16_t* GeluTable() {
  static const std::vector<uint16_t> table = [] {
    std::vector<uint16_t> t(1 << 16);
    for (uint32_t h = 0; h < t.size(); ++h) {
      t[h] = Fp32ToFp16(GeluTanhF32(Fp16ToFp32(static_cast<uint16_t>(h))));
    }
    return t;
  }();
  return table.data();
}

void Silu(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = SiluF32(x[i]);
}

void SwiGlu(const VectorKernels& vk, const float* gate, const float* up, float* y, int64_t n) {
  vk.swiglu(n, gate, up, y);
}

float GeluTanhF32(float x) {
  constexpr float kCoefA = 0.044715f;
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  // llama.cpp's build contracts 1 + a*x*x into a fused multiply-add (GCC's default
  // -ffp-contract=fast with FMA enabled), which decides some entries of its f16 GELU table.
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * std::fma(kCoefA * x, x, 1.0f)));
}

void Gelu(const float* x, float* y, int64_t n) {
  const uint16_t* table = GeluTable();
  for (int64_t i = 0; i < n; ++i) y[i] = GeluF16Table(table, x[i]);
}

void GeGlu(const VectorKernels& vk, const float* gate, const float* up, float* y, int64_t n) {
  vk.geglu(n, gate, up, GeluTable(), y);
}

namespace {

float YarnCorrDim(int n_dims, int n_ctx_orig, float n_rot, float base) {
  return static_cast<float>(n_dims) *
         std::log(static_cast<float>(n_ctx_orig) / (n_rot * 2 * std::numbers::pi_v<float>)) /
         (2 * std::log(base));
}

float YarnRamp(float low, float high, int i0) {
  const float y = (static_cast<float>(i0 / 2) - low) / std::max(0.001f, high - low);
  return 1 - std::min(1.0f, std::max(0.0f, y));
}

}  // namespace

void RopeCache(const RopeParams& p, int64_t pos, float* cache) {
  const float theta_scale = std::pow(p.freq_base, -2.0f / static_cast<float>(p.n_rot));
  float corr_low = 0.0f, corr_high = 0.0f;
  if (p.ext_factor != 0.0f) {
    const float start = std::floor(YarnCorrDim(p.n_rot, p.n_ctx_orig, p.beta_fast, p.freq_base));
    const float end = std::ceil(YarnCorrDim(p.n_rot, p.n_ctx_orig, p.beta_slow, p.freq_base));
    corr_low = std::max(0.0f, start);
    corr_high = std::min(static_cast<float>(p.n_rot - 1), end);
  }
  float theta = static_cast<float>(pos);
  for (int i0 = 0; i0 < p.n_rot; i0 += 2) {
    const float ff = p.freq_factors != nullptr ? p.freq_factors[i0 / 2] : 1.0f;
    const float theta_extrap = theta / ff;
    const float theta_interp = p.freq_scale * theta_extrap;
    float th = theta_interp;
    float mscale = p.attn_factor;
    if (p.ext_factor != 0.0f) {
      const float ramp_mix = YarnRamp(corr_low, corr_high, i0) * p.ext_factor;
      th = theta_interp * (1 - ramp_mix) + theta_extrap * ramp_mix;
      mscale *= 1.0f + 0.1f * std::log(1.0f / p.freq_scale);
    }
    cache[i0 + 0] = std::cos(th) * mscale;
    cache[i0 + 1] = std::sin(th) * mscale;
    theta *= theta_scale;
  }
}

namespace {
void RotatePairs(float* x, const float* cache, int n_rot, int64_t offset, int ic_div) {
  for (int i0 = 0; i0 < n_rot; i0 += 2) {
    const float c = cache[i0 + 0];
    const float s = cache[i0 + 1];
    float* v = x + i0 / ic_div;
    const float x0 = v[0];
    const float x1 = v[offset];
    // Fused as llama.cpp's build contracts ggml's x0*c - x1*s (measured bit for bit).
    v[0] = std::fma(x0, c, -(x1 * s));
    v[offset] = std::fma(x0, s, x1 * c);
  }
}
}  // namespace

void RopeNormApply(float* x, const float* cache, int n_rot) { RotatePairs(x, cache, n_rot, 1, 1); }

void RopeNeoxApply(float* x, const float* cache, int n_rot) {
  RotatePairs(x, cache, n_rot, n_rot / 2, 2);
}

namespace {
void RopeSimple(float* x, int64_t pos, int n_rot, float freq_base, float freq_scale, bool neox) {
  RopeParams p;
  p.n_rot = n_rot;
  p.freq_base = freq_base;
  p.freq_scale = freq_scale;
  std::vector<float> cache(static_cast<size_t>(n_rot));
  RopeCache(p, pos, cache.data());
  if (neox) {
    RopeNeoxApply(x, cache.data(), n_rot);
  } else {
    RopeNormApply(x, cache.data(), n_rot);
  }
}
}  // namespace

void RopeNorm(float* x, int64_t pos, int n_rot, float freq_base, float freq_scale) {
  RopeSimple(x, pos, n_rot, freq_base, freq_scale, false);
}

void RopeNeox(float* x, int64_t pos, int n_rot, float freq_base, float freq_scale) {
  RopeSimple(x, pos, n_rot, freq_base, freq_scale, true);
}

}  // namespace foundry
