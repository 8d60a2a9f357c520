// The order of the 32-element weight types repacked into groups of 8 interleaved rows
// (TypeTraits::repack_rows8): llama.cpp's repacked Q4_0 kernels (ggml_gemv/gemm_q4_0_8x8_q8_0 on
// AVX2) take each block's exact integer total into one float accumulator per output,
// acc = fma(isum, x.d * y.d, acc), for any number of tokens; our repacked Q5_0 and Q8_0 do the
// same.
#include <cmath>
#include <cstring>

#include "base/fp16.h"
#include "kernels/quant_blocks.h"
#include "kernels/ref/quant_ref.h"

namespace foundry::ref {
namespace {

// Weight j of a block as an integer.
inline int WeightQ4_0(const BlockQ4_0& b, int j) {
  const int half = kQK4_0 / 2;
  return (j < half ? (b.qs[j] & 0x0F) : (b.qs[j - half] >> 4)) - 8;
}

inline int WeightQ5_0(const BlockQ5_0& b, int j) {
  uint32_t qh;
  std::memcpy(&qh, b.qh, sizeof(qh));  // little-endian, as ggml reads it
  const int half = kQK5_0 / 2;
  const int low = j < half ? (b.qs[j] & 0x0F) : (b.qs[j - half] >> 4);
  return (low | static_cast<int>(((qh >> j) & 1u) << 4)) - 16;
}

inline int WeightQ8_0(const BlockQ8_0& b, int j) { return b.qs[j]; }

template <typename Block, int (*kWeight)(const Block&, int)>
float VecDotBlockFma(int64_t n, const void* w, const void* a) {
  const Block* x = static_cast<const Block*>(w);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(a);
  float acc = 0.0f;
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    int32_t isum = 0;
    for (int j = 0; j < kQK8_0; ++j) isum += kWeight(x[i], j) * y[i].qs[j];
    acc = std::fma(static_cast<float>(isum), Fp16ToFp32(x[i].d) * Fp16ToFp32(y[i].d), acc);
  }
  return acc;
}

}  // namespace

float VecDotQ4_0Q8_0BlockFma(int64_t n, const void* w, const void* a) {
  return VecDotBlockFma<BlockQ4_0, WeightQ4_0>(n, w, a);
}

float VecDotQ5_0Q8_0BlockFma(int64_t n, const void* w, const void* a) {
  return VecDotBlockFma<BlockQ5_0, WeightQ5_0>(n, w, a);
}

float VecDotQ8_0Q8_0BlockFma(int64_t n, const void* w, const void* a) {
  return VecDotBlockFma<BlockQ8_0, WeightQ8_0>(n, w, a);
}

}  // namespace foundry::ref
