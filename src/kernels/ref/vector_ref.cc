#include "kernels/ref/vector_ref.h"

#include <cmath>
#include <vector>

#include "base/fp16.h"
#include "kernels/ref/quant_ref.h"

namespace foundry::ref {
namespace {

double ExpSum(int64_t n, const float* x, float max, float* y) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const float v = std::exp(x[i] - max);
    sum += static_cast<double>(v);
    y[i] = v;
  }
  return sum;
}

void SwiGlu(int64_t n, const float* gate, const float* up, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void AxpyF16(int64_t n, float a, const uint16_t* v, float* acc) {
  for (int64_t i = 0; i < n; ++i) acc[i] = std::fma(a, Fp16ToFp32(v[i]), acc[i]);
}

float DotF16(int64_t n, const uint16_t* x, const uint16_t* y) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(Fp16ToFp32(x[i]) * Fp16ToFp32(y[i]));
  return static_cast<float>(sum);
}

void GeGlu(int64_t n, const float* gate, const float* up, const uint16_t* table, float* y) {
  for (int64_t i = 0; i < n; ++i) {
    const float x = gate[i];
    // +0 at or below -10 (not 0 * up, -0 where up < 0), as ggml_vec_geglu_f32.
    y[i] = x <= -10.0f ? 0.0f : (x >= 10.0f ? x : Fp16ToFp32(table[Fp32ToFp16(x)])) * up[i];
  }
}

constexpr VectorKernels kScalar = {ExpSum, SwiGlu, AxpyF16, DotF16, GeGlu};

void AttentionKq(int64_t d, const uint16_t* k, int64_t k_stride, int64_t n, const float* q,
                 int64_t n_q, float* scores, int64_t ld) {
  std::vector<uint16_t> qh(static_cast<size_t>(d));
  for (int64_t h = 0; h < n_q; ++h) {
    for (int64_t i = 0; i < d; ++i) qh[i] = Fp32ToFp16(q[h * d + i]);
    for (int64_t j = 0; j < n; ++j)
      scores[h * ld + j] = VecDotF16F16(d, k + j * k_stride, qh.data());
  }
}

void AttentionKqv(int64_t dv, const uint16_t* v, int64_t v_stride, int64_t n, const float* p,
                  float* out) {
  constexpr int64_t kLanes = 8;
  std::vector<float> lanes(static_cast<size_t>(kLanes * dv), 0.0f);
  for (int64_t j = 0; j < n; ++j)
    AxpyF16(dv, p[j], v + j * v_stride, lanes.data() + j % kLanes * dv);
  for (int64_t i = 0; i < dv; ++i) {
    const float* l = lanes.data() + i;  // l[m * dv]: lane m
    out[i] = ((l[0] + l[4 * dv]) + (l[2 * dv] + l[6 * dv])) +
             ((l[dv] + l[5 * dv]) + (l[3 * dv] + l[7 * dv]));
  }
}

void RoundToF16(int64_t n, float* x) {
  for (int64_t i = 0; i < n; ++i) x[i] = Fp16ToFp32(Fp32ToFp16(x[i]));
}

void AttentionKqOne(int64_t d, const uint16_t* k, int64_t k_stride, int64_t n, const uint16_t* q,
                    float* scores) {
  for (int64_t j = 0; j < n; ++j) scores[j] = DotF16(d, k + j * k_stride, q);
}

void AttentionKqvOne(int64_t dv, const uint16_t* v, int64_t v_stride, int64_t n, int64_t group0,
                     const float* p, float* out) {
  constexpr int64_t kLanes = 8, kAcc = 4;
  std::vector<float> lanes(static_cast<size_t>(kAcc * kLanes * dv), 0.0f);
  for (int64_t j = 0; j < n; ++j) {
    const int64_t lane = ((j / kLanes + group0) % kAcc) * kLanes + j % kLanes;
    AxpyF16(dv, p[j], v + j * v_stride, lanes.data() + lane * dv);
  }
  for (int64_t i = 0; i < dv; ++i) {
    const float* l = lanes.data() + i;  // l[m * dv]: lane m
    float r[kLanes];
    for (int64_t m = 0; m < kLanes; ++m) {
      r[m] = (l[m * dv] + l[(16 + m) * dv]) + (l[(8 + m) * dv] + l[(24 + m) * dv]);
    }
    out[i] = ((r[0] + r[4]) + (r[1] + r[5])) + ((r[2] + r[6]) + (r[3] + r[7]));
  }
}

constexpr AttentionKernels kScalarAttention = {AttentionKq, AttentionKqv, RoundToF16,
                                               AttentionKqOne, AttentionKqvOne};

}  // namespace

const VectorKernels& ScalarVectorKernels() { return kScalar; }

const AttentionKernels& ScalarAttentionKernels() { return kScalarAttention; }

}  // namespace foundry::ref
