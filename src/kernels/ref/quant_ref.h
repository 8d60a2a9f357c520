// Scalar reference kernels for the quantized and float tensor types: the oracle every
// optimized kernel is tested against. Numerics mirror ggml's CPU reference code:
// * dequantization is bit-exact with ggml's dequantize_row_* (same float operation order);
// * quantizers follow ggml's quantize_row_*_ref (same scale formula and rounding);
// * dot products accumulate integers inside a block exactly as ggml does, so results match
//   ggml's up to the order of the float additions across blocks.
//
// n is always the number of elements and must be a multiple of the type's block size.
// Row pointers need only the alignment of the block struct (2 bytes; 4 for Q8_K).
#pragma once

#include <cmath>
#include <cstdint>

namespace foundry::ref {

// The dot product of n values x(i) . y(i) in tinyBLAS's order (llama.cpp's F16 matmuls and
// attention for batches of 2+ tokens; the AVX2 float dot products): lane i % 8 of one
// accumulator takes fma(x(i), y(i), lane) over the whole groups of 8, the lanes are added as
// ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)), then the rest, summed in float, is added.
template <typename X, typename Y>
inline float TinyBlasDot(int64_t n, X x, Y y) {
  float l[8] = {};
  const int64_t n8 = n / 8 * 8;
  for (int64_t i = 0; i < n8; ++i) l[i % 8] = std::fma(x(i), y(i), l[i % 8]);
  float tail = 0.0f;
  for (int64_t i = n8; i < n; ++i) tail += x(i) * y(i);
  return (((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))) + tail;
}

// ---- dequantize: src holds n/block_elems blocks, dst receives n floats ----
void DequantizeRowF32(const void* src, float* dst, int64_t n);
void DequantizeRowF16(const void* src, float* dst, int64_t n);
void DequantizeRowBF16(const void* src, float* dst, int64_t n);
void DequantizeRowQ4_0(const void* src, float* dst, int64_t n);
void DequantizeRowQ4_1(const void* src, float* dst, int64_t n);
void DequantizeRowQ5_0(const void* src, float* dst, int64_t n);  // quant_ref_q5_0.cc
void DequantizeRowQ5_1(const void* src, float* dst, int64_t n);  // quant_ref_q5_1.cc
void DequantizeRowQ8_0(const void* src, float* dst, int64_t n);
void DequantizeRowQ8_1(const void* src, float* dst, int64_t n);
void DequantizeRowQ4_K(const void* src, float* dst, int64_t n);
void DequantizeRowQ5_K(const void* src, float* dst, int64_t n);
void DequantizeRowQ6_K(const void* src, float* dst, int64_t n);
void DequantizeRowQ8_K(const void* src, float* dst, int64_t n);

// ---- quantize (reference round-to-nearest, as ggml's *_ref) ----
// The value of largest magnitude among x[0..n), with its sign (the first of equal magnitudes;
// 0 for none): the scale source of the symmetric 32-element quantizers (Q4_0, Q5_0).
float SignedAbsMax(const float* x, int n);

void QuantizeRowF32(const float* src, void* dst, int64_t n);   // copy
void QuantizeRowF16(const float* src, void* dst, int64_t n);   // round to nearest even
void QuantizeRowBF16(const float* src, void* dst, int64_t n);  // round to nearest even
void QuantizeRowQ4_0(const float* src, void* dst, int64_t n);
void QuantizeRowQ4_1(const float* src, void* dst, int64_t n);
void QuantizeRowQ5_0(const float* src, void* dst, int64_t n);  // quant_ref_q5_0.cc
void QuantizeRowQ5_1(const float* src, void* dst, int64_t n);  // quant_ref_q5_1.cc
void QuantizeRowQ8_0(const float* src, void* dst, int64_t n);  // weights and activations
void QuantizeRowQ8_1(const float* src, void* dst, int64_t n);  // activations for Q4_1
void QuantizeRowQ8_K(const float* src, void* dst, int64_t n);  // activations for K-quants
// K-quant weight quantizers without importance weights, as ggml's quantize_row_q*_K_ref
// (what llama-quantize does without an imatrix): per-sub-block scale/min search, then
// 6-bit (Q4_K/Q5_K) or 8-bit (Q6_K) quantized sub-block scales.
void QuantizeRowQ4_K(const float* src, void* dst, int64_t n);
void QuantizeRowQ5_K(const float* src, void* dst, int64_t n);
void QuantizeRowQ6_K(const float* src, void* dst, int64_t n);

// ---- dot products: w is a weight row, a the activation row in the weight's vec_dot type ----
float VecDotF32F32(int64_t n, const void* w, const void* a);
float VecDotF16F16(int64_t n, const void* w, const void* a);
float VecDotBF16BF16(int64_t n, const void* w, const void* a);
float VecDotQ4_0Q8_0(int64_t n, const void* w, const void* a);
float VecDotQ4_1Q8_1(int64_t n, const void* w, const void* a);
float VecDotQ5_0Q8_0(int64_t n, const void* w, const void* a);  // quant_ref_q5_0.cc
float VecDotQ5_1Q8_1(int64_t n, const void* w, const void* a);  // quant_ref_q5_1.cc
float VecDotQ8_0Q8_0(int64_t n, const void* w, const void* a);
// K-quants . Q8_K, in one order for every ISA and every batch size (the order of llama.cpp's
// tiled K-quant matmul, ggml-cpu/tiled, which llama.cpp takes for batches of 8+ tokens only):
// per super-block the exact integer total isum = sum_j scale_j * dot_j, res = d * isum, then
// res = fma(-dmin, imin, res) with imin = sum_j min_j * (sum of sub-block j's activations)
// (Q4_K/Q5_K's mins), acc = fma(res, y.d, acc).
float VecDotQ4_KQ8_K(int64_t n, const void* w, const void* a);
float VecDotQ5_KQ8_K(int64_t n, const void* w, const void* a);
float VecDotQ6_KQ8_K(int64_t n, const void* w, const void* a);
// Q4_0, Q5_0 and Q8_0 . Q8_0 in the order of their groups of 8 interleaved rows (quant_ref_rows8.cc;
// llama.cpp's repacked Q4_0 order): acc = fma(block's integer total, x.d * y.d, acc).
float VecDotQ4_0Q8_0BlockFma(int64_t n, const void* w, const void* a);
float VecDotQ5_0Q8_0BlockFma(int64_t n, const void* w, const void* a);
float VecDotQ8_0Q8_0BlockFma(int64_t n, const void* w, const void* a);

}  // namespace foundry::ref
