// Q5_1 (llama-quantize's fallback for Q5_K_M rows that are not whole 256-blocks, and an older
// GGUF type): dequantization, the reference quantizer and the dot product with Q8_1
// activations, following ggml's dequantize_row_q5_1, quantize_row_q5_1_ref and generic
// vec_dot_q5_1_q8_1.
#include <cfloat>
#include <cstring>

#include "base/fp16.h"
#include "kernels/quant_blocks.h"
#include "kernels/ref/quant_ref.h"

namespace foundry::ref {
namespace {

// Element j's fifth bit is bit j of qh (little-endian, as ggml reads it).
inline uint32_t FifthBits(const BlockQ5_1& b) {
  uint32_t qh;
  std::memcpy(&qh, b.qh, sizeof(qh));
  return qh;
}

// Element j's and j + 16's quants, 0..31.
inline int LowQuant(const BlockQ5_1& b, uint32_t qh, int j) {
  return (b.qs[j] & 0x0F) | static_cast<int>(((qh >> j) << 4) & 0x10);
}
inline int HighQuant(const BlockQ5_1& b, uint32_t qh, int j) {
  return (b.qs[j] >> 4) | static_cast<int>((qh >> (j + 12)) & 0x10);
}

}  // namespace

void DequantizeRowQ5_1(const void* src, float* dst, int64_t n) {
  const BlockQ5_1* x = static_cast<const BlockQ5_1*>(src);
  const int64_t nb = n / kQK5_1;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = Fp16ToFp32(x[i].d);
    const float m = Fp16ToFp32(x[i].m);
    const uint32_t qh = FifthBits(x[i]);
    float* y = dst + i * kQK5_1;
    for (int j = 0; j < kQK5_1 / 2; ++j) {
      y[j] = static_cast<float>(LowQuant(x[i], qh, j)) * d + m;
      y[j + kQK5_1 / 2] = static_cast<float>(HighQuant(x[i], qh, j)) * d + m;
    }
  }
}

void QuantizeRowQ5_1(const float* src, void* dst, int64_t n) {
  BlockQ5_1* y = static_cast<BlockQ5_1*>(dst);
  const int64_t nb = n / kQK5_1;
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQK5_1;
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK5_1; ++j) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 31;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    y[i].m = Fp32ToFp16(min);
    uint32_t qh = 0;
    for (int j = 0; j < kQK5_1 / 2; ++j) {
      // ggml's (uint8_t) truncation, without a cap: a rounding up to 32 wraps as it does there.
      const auto q0 = static_cast<uint8_t>(static_cast<int>((x[j] - min) * id + 0.5f));
      const auto q1 = static_cast<uint8_t>(static_cast<int>((x[j + kQK5_1 / 2] - min) * id + 0.5f));
      y[i].qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= ((q0 & 0x10u) >> 4) << j;
      qh |= ((q1 & 0x10u) >> 4) << (j + kQK5_1 / 2);
    }
    std::memcpy(y[i].qh, &qh, sizeof(qh));
  }
}

float VecDotQ5_1Q8_1(int64_t n, const void* w, const void* a) {
  const BlockQ5_1* x = static_cast<const BlockQ5_1*>(w);
  const BlockQ8_1* y = static_cast<const BlockQ8_1*>(a);
  const int64_t nb = n / kQK8_1;
  float sumf = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    const uint32_t qh = FifthBits(x[i]);
    int sumi0 = 0, sumi1 = 0;
    for (int j = 0; j < kQK5_1 / 2; ++j) {
      sumi0 += LowQuant(x[i], qh, j) * y[i].qs[j];
      sumi1 += HighQuant(x[i], qh, j) * y[i].qs[j + kQK5_1 / 2];
    }
    const int sumi = sumi0 + sumi1;
    sumf += (Fp16ToFp32(x[i].d) * Fp16ToFp32(y[i].d)) * static_cast<float>(sumi) +
            Fp16ToFp32(x[i].m) * Fp16ToFp32(y[i].s);
  }
  return sumf;
}

}  // namespace foundry::ref
