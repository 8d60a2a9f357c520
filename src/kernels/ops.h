// Scalar float operations of the forward pass, with ggml's CPU numerics (see each op).
// Output pointers may alias the input where noted (in-place use). The ops whose inner loops
// differ per ISA take that ISA's VectorKernels (the model's Kernels::vector).
#pragma once

#include <cstdint>

namespace foundry {

struct VectorKernels;

// y[i] = x[i] * (1 / sqrtf(mean(x^2) + eps)) * w[i]; the sum of squares is accumulated in
// double as ggml does. w may be nullptr (no weight). y may alias x.
void RmsNorm(const float* x, const float* w, float* y, int64_t n, float eps);

// In place: x = softmax(x). Max-subtracted expf, sum in double, multiply by 1/sum.
void Softmax(const VectorKernels& vk, float* x, int64_t n);
// In place: x = softmax(x * scale + mask) (ggml_soft_max_ext without ALiBi); mask may be
// nullptr; -INFINITY entries are masked out. If every entry is -inf the result is all 0.
void SoftmaxExt(const VectorKernels& vk, float* x, int64_t n, float scale, const float* mask);

// y[i] = x[i] / (1 + expf(-x[i])). y may alias x.
void Silu(const float* x, float* y, int64_t n);
// y[i] = silu(gate[i]) * up[i]  (ggml_swiglu). y may alias gate or up.
void SwiGlu(const VectorKernels& vk, const float* gate, const float* up, float* y, int64_t n);

// GELU, tanh approximation, as ggml's CPU backend computes it: 0 for x <= -10, x for
// x >= 10, otherwise x is rounded to f16 and the f16-rounded value of
// 0.5 x (1 + tanh(sqrt(2/pi) x (1 + 0.044715 x^2))) is returned (ggml's gelu table).
void Gelu(const float* x, float* y, int64_t n);
// y[i] = gelu(gate[i]) * up[i]  (ggml_geglu). y may alias gate or up.
void GeGlu(const VectorKernels& vk, const float* gate, const float* up, float* y, int64_t n);
// ggml's GELU table: gelu(x) in f16 for every f16 bit pattern x, built once (immutable).
const uint16_t* GeluTable();
// The tanh-approximation formula in plain float, without the f16 table.
float GeluTanhF32(float x);

// Rotary position embedding parameters (ggml_rope_ext).
struct RopeParams {
  int n_rot = 0;  // rotated dimensions (even, <= head_dim)
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;  // 1 / linear scaling factor
  // YaRN (ext_factor 0 disables it) and magnitude scale.
  float ext_factor = 0.0f;
  float attn_factor = 1.0f;
  float beta_fast = 32.0f;
  float beta_slow = 1.0f;
  int n_ctx_orig = 0;
  const float* freq_factors = nullptr;  // n_rot/2 divisors of theta (rope_freqs), or nullptr
};

// Fills cache[0..n_rot) with (cos, sin) pairs for position pos exactly as ggml does
// (theta starts at pos and is multiplied by freq_base^(-2/n_rot) in float per pair).
// One cache serves every head at that position.
void RopeCache(const RopeParams& p, int64_t pos, float* cache);

// Rotate one head vector of head_dim floats in place with a cache from RopeCache.
// NORM (LLaMA): rotates pairs (x[2i], x[2i+1]); NEOX: pairs (x[i], x[i + n_rot/2]).
// Dimensions >= n_rot are unchanged.
void RopeNormApply(float* x, const float* cache, int n_rot);
void RopeNeoxApply(float* x, const float* cache, int n_rot);

// Convenience: compute the cache and rotate one head (plain RoPE, no YaRN/factors).
void RopeNorm(float* x, int64_t pos, int n_rot, float freq_base, float freq_scale);
void RopeNeox(float* x, int64_t pos, int n_rot, float freq_base, float freq_scale);

}  // namespace foundry
