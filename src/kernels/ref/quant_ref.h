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

#include <cstdint>

namespace foundry::ref {

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
float VecDotQ4_KQ8_K(int64_t n, const void* w, const void* a);
// Q4_K . Q8_K in the order of llama.cpp's repacked Q4_K kernels (ggml_gemv/gemm_q4_K_8x8_q8_K,
// used on AVX2 for matrices of 8k rows): per super-block the exact integer totals
// isum = sum_j scale_j * dot_j and imin = sum_j min_j * (sum of sub-block j's activations),
// acc = fma(isum, d * y.d, acc), acc_min = fma(imin, dmin * y.d, acc_min); acc - acc_min.
float VecDotQ4_KQ8_KBlockTotals(int64_t n, const void* w, const void* a);
// The same with a float step per 64 elements (two sub-blocks), the order of llama.cpp's
// repacked Q4_K gemm, which takes tokens four at a time.
float VecDotQ4_KQ8_KSubBlockPairs(int64_t n, const void* w, const void* a);
// Q4_0, Q5_0 and Q8_0 . Q8_0 in the order of their groups of 8 interleaved rows (quant_ref_rows8.cc;
// llama.cpp's repacked Q4_0 order): acc = fma(block's integer total, x.d * y.d, acc).
float VecDotQ4_0Q8_0BlockFma(int64_t n, const void* w, const void* a);
float VecDotQ5_0Q8_0BlockFma(int64_t n, const void* w, const void* a);
float VecDotQ8_0Q8_0BlockFma(int64_t n, const void* w, const void* a);
float VecDotQ5_KQ8_K(int64_t n, const void* w, const void* a);
float VecDotQ6_KQ8_K(int64_t n, const void* w, const void* a);
// K-quants . Q8_K in the order of llama.cpp's tiled K-quant matmul (ggml-cpu/tiled, AVX2),
// which takes batches of 8 or more tokens for the K-quant matrices it does not repack: per
// super-block the exact integer total isum = sum_j scale_j * dot_j, res = d * isum, then
// res = fma(-dmin, imin, res) (Q4_K/Q5_K's mins), acc = fma(res, y.d, acc).
float VecDotQ4_KQ8_KTiled(int64_t n, const void* w, const void* a);
float VecDotQ5_KQ8_KTiled(int64_t n, const void* w, const void* a);
float VecDotQ6_KQ8_KTiled(int64_t n, const void* w, const void* a);

}  // namespace foundry::ref
