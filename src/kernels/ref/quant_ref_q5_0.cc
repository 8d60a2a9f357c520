// Q5_0 (Gemma 3 GGUFs use it for most matrices): dequantization, the reference quantizer
// (`foundry model compile`) and the dot product with Q8_0 activations, following ggml's
// dequantize_row_q5_0, quantize_row_q5_0_ref and generic vec_dot_q5_0_q8_0.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/fp16.h"
#include "kernels/quant_blocks.h"
#include "kernels/ref/quant_ref.h"

namespace foundry::ref {
namespace {

inline uint32_t HighBits(const BlockQ5_0& b) {
  uint32_t qh;
  std::memcpy(&qh, b.qh, sizeof(qh));  // little-endian, as ggml reads it
  return qh;
}

}  // namespace

void DequantizeRowQ5_0(const void* src, float* dst, int64_t n) {
  const BlockQ5_0* x = static_cast<const BlockQ5_0*>(src);
  const int64_t nb = n / kQK5_0;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = Fp16ToFp32(x[i].d);
    const uint32_t qh = HighBits(x[i]);
    for (int j = 0; j < kQK5_0 / 2; ++j) {
      const uint8_t h0 = static_cast<uint8_t>(((qh >> j) << 4) & 0x10);
      const uint8_t h1 = static_cast<uint8_t>((qh >> (j + 12)) & 0x10);
      const int32_t v0 = ((x[i].qs[j] & 0x0F) | h0) - 16;
      const int32_t v1 = ((x[i].qs[j] >> 4) | h1) - 16;
      dst[i * kQK5_0 + j] = static_cast<float>(v0) * d;
      dst[i * kQK5_0 + j + kQK5_0 / 2] = static_cast<float>(v1) * d;
    }
  }
}

void QuantizeRowQ5_0(const float* src, void* dst, int64_t n) {
  BlockQ5_0* y = static_cast<BlockQ5_0*>(dst);
  const int64_t nb = n / kQK5_0;
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQK5_0;
    const float d = SignedAbsMax(x, kQK5_0) / -16;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    uint32_t qh = 0;
    for (int j = 0; j < kQK5_0 / 2; ++j) {
      // Truncation of x * id + 16.5 (in [0.5, 32.5]) as ggml's (int8_t) cast, capped at 31.
      const auto xi0 = static_cast<uint8_t>(
          std::min(31, static_cast<int>(static_cast<int8_t>(x[j] * id + 16.5f))));
      const auto xi1 = static_cast<uint8_t>(
          std::min(31, static_cast<int>(static_cast<int8_t>(x[j + kQK5_0 / 2] * id + 16.5f))));
      y[i].qs[j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
      qh |= ((xi0 & 0x10u) >> 4) << j;
      qh |= ((xi1 & 0x10u) >> 4) << (j + kQK5_0 / 2);
    }
    std::memcpy(y[i].qh, &qh, sizeof(qh));
  }
}

float VecDotQ5_0Q8_0(int64_t n, const void* w, const void* a) {
  const BlockQ5_0* x = static_cast<const BlockQ5_0*>(w);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(a);
  const int64_t nb = n / kQK8_0;
  float sumf = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    const uint32_t qh = HighBits(x[i]);
    int sumi0 = 0, sumi1 = 0;
    for (int j = 0; j < kQK5_0 / 2; ++j) {
      const int h0 = static_cast<int>(((qh >> j) & 1u) << 4);
      const int h1 = static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
      const int v0 = ((x[i].qs[j] & 0x0F) | h0) - 16;
      const int v1 = ((x[i].qs[j] >> 4) | h1) - 16;
      sumi0 += v0 * y[i].qs[j];
      sumi1 += v1 * y[i].qs[j + kQK5_0 / 2];
    }
    const int sumi = sumi0 + sumi1;
    sumf += static_cast<float>(sumi) * Fp16ToFp32(x[i].d) * Fp16ToFp32(y[i].d);
  }
  return sumf;
}

}  // namespace foundry::ref
