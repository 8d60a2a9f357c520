#include "kernels/ref/vector_ref.h"

#include <cmath>

#include "base/fp16.h"

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

constexpr VectorKernels kScalar = {ExpSum, SwiGlu, AxpyF16, DotF16};

}  // namespace

const VectorKernels& ScalarVectorKernels() { return kScalar; }

}  // namespace foundry::ref
