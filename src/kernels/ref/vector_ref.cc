#include "kernels/ref/vector_ref.h"

#include <cmath>

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

void GeGlu(int64_t n, const float* gate, const float* up, const uint16_t* table, float* y) {
  for (int64_t i = 0; i < n; ++i) {
    const float x = gate[i];
    // +0 at or below -10 (not 0 * up, -0 where up < 0), as ggml_vec_geglu_f32.
    y[i] = x <= -kGeluTableLimit
               ? 0.0f
               : (x >= kGeluTableLimit ? x : Fp16ToFp32(table[Fp32ToFp16(x)])) * up[i];
  }
}

void ToF16(int64_t n, const float* x, uint16_t* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = Fp32ToFp16(x[i]);
}

constexpr VectorKernels kScalar = {ExpSum, SwiGlu, AxpyF16, GeGlu, ToF16};

// The attention kernels below compute each output on its own, with nothing allocated: the
// same sums as the batched forms (q rounded to f16 as VecDotF16F16's operand; cell j feeding
// lane j % 8, each lane accumulating its cells in order).
void AttentionKq(int64_t d, const uint16_t* k, int64_t k_stride, int64_t n, const float* q,
                 int64_t n_q, float* scores, int64_t ld) {
  for (int64_t h = 0; h < n_q; ++h) {
    const float* qh = q + h * d;
    for (int64_t j = 0; j < n; ++j) {
      const uint16_t* kj = k + j * k_stride;
      // VecDotF16F16 with q rounded to f16.
      scores[h * ld + j] = TinyBlasDot(
          d, [&](int64_t i) { return Fp16ToFp32(kj[i]); },
          [&](int64_t i) { return Fp16ToFp32(Fp32ToFp16(qh[i])); });
    }
  }
}

void AttentionKqv(int64_t dv, const uint16_t* v, int64_t v_stride, int64_t n, const float* p,
                  float* out) {
  constexpr int64_t kLanes = 8;
  for (int64_t i = 0; i < dv; ++i) {
    float l[kLanes] = {};
    for (int64_t j = 0; j < n; ++j) {
      l[j % kLanes] = std::fma(p[j], Fp16ToFp32(v[j * v_stride + i]), l[j % kLanes]);
    }
    out[i] = ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
  }
}

void RoundToF16(int64_t n, float* x) {
  for (int64_t i = 0; i < n; ++i) x[i] = Fp16ToFp32(Fp32ToFp16(x[i]));
}

void AttentionKqvHeads(int64_t dv, const uint16_t* v, int64_t v_stride, int64_t n, const float* p,
                       int64_t n_p, int64_t ld, float* out) {
  for (int64_t h = 0; h < n_p; ++h) AttentionKqv(dv, v, v_stride, n, p + h * ld, out + h * dv);
}

constexpr AttentionKernels kScalarAttention = {AttentionKq, AttentionKqv, RoundToF16,
                                               AttentionKqvHeads};

}  // namespace

const VectorKernels& ScalarVectorKernels() { return kScalar; }

const AttentionKernels& ScalarAttentionKernels() { return kScalarAttention; }

}  // namespace foundry::ref
