// The AVX2 + FMA + F16C kernels, one translation unit per operation family, each compiled with
// the AVX2 flags (every avx2*.cc, src/CMakeLists.txt). avx2_type_traits.cc gathers them into
// the AVX2 override table; nothing else may call them (x86_kernels.h's rules: only after
// CPUID confirms the ISA).
//
// Numerics follow llama.cpp's AVX2 code rather than the scalar reference, because greedy
// decoding must agree with llama.cpp token for token and SmolLM-sized models part at
// near-ties on 1-ulp differences:
// * Q8_0/Q8_1 activations scale by 127/amax and round ties to even (ggml's AVX2 quantizer;
//   the reference multiplies by 1/d and rounds ties away), Q8_K as the reference;
// * dot products compute the same integer block sums exactly and accumulate them in
//   llama.cpp's order (see DotBlocks32, DotFloat);
// * the vector kernels use ggml's AVX2 expf approximation (ExpPs, avx2_vector.cc).
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace foundry::x86::avx2 {

// avx2_quantize.cc: activation quantizers.
void QuantizeRowQ8_0(const float* src, void* dst, int64_t n);
void QuantizeRowQ8_1(const float* src, void* dst, int64_t n);
void QuantizeRowQ8_K(const float* src, void* dst, int64_t n);

// avx2_float_dot.cc: F32, F16 and BF16 rows in tinyBLAS's order.
float VecDotF32F32(int64_t n, const void* w, const void* a);
float VecDotF16F16(int64_t n, const void* w, const void* a);
float VecDotBF16BF16(int64_t n, const void* w, const void* a);

// avx2_blocks32.cc: 32-element blocks against Q8_0/Q8_1 activations, in llama.cpp's order (the
// AVX-512 table takes them as they are: they beat 512-bit versions of them, which were dropped).
float VecDotQ4_0Q8_0(int64_t n, const void* w, const void* a);
float VecDotQ4_1Q8_1(int64_t n, const void* w, const void* a);
float VecDotQ5_0Q8_0(int64_t n, const void* w, const void* a);
float VecDotQ8_0Q8_0(int64_t n, const void* w, const void* a);
void GemmQ4_0Q8_0(const GemmArgs& g);
void GemmQ4_1Q8_1(const GemmArgs& g);
void GemmQ5_0Q8_0(const GemmArgs& g);
void GemmQ8_0Q8_0(const GemmArgs& g);
// Q5_1 (a fallback type of Q5_K_M files).
float VecDotQ5_1Q8_1(int64_t n, const void* w, const void* a);

// avx2_blocks32_rows8.cc: Q4_0, Q5_0 and Q8_0 in groups of 8 interleaved rows
// (TypeTraits::repack_rows8) and their gemms (TypeTraits::gemm_repacked8), in llama.cpp's
// repacked Q4_0 order (ref::VecDotQ4_0Q8_0BlockFma and its Q5_0 and Q8_0 forms) for any number
// of tokens. The file's layout keeps vec_dot's order (TypeTraits::repacked_order).
void RepackQ4_0Rows8(int64_t n, const void* src, size_t src_stride, int64_t n_rows, void* dst);
void GemmQ4_0Rows8Repacked(const GemmArgs& g);
void RepackQ5_0Rows8(int64_t n, const void* src, size_t src_stride, int64_t n_rows, void* dst);
void GemmQ5_0Rows8Repacked(const GemmArgs& g);
void RepackQ8_0Rows8(int64_t n, const void* src, size_t src_stride, int64_t n_rows, void* dst);
void GemmQ8_0Rows8Repacked(const GemmArgs& g);

// avx2_kquants.cc: K-quant super-blocks against Q8_K activations.
float VecDotQ4_KQ8_K(int64_t n, const void* w, const void* a);
float VecDotQ5_KQ8_K(int64_t n, const void* w, const void* a);
float VecDotQ6_KQ8_K(int64_t n, const void* w, const void* a);
void GemmQ4_KQ8_K(const GemmArgs& g);
void GemmQ5_KQ8_K(const GemmArgs& g);
void GemmQ6_KQ8_K(const GemmArgs& g);

// avx2_q4_k_rows8.cc: Q4_K in groups of 8 interleaved rows (TypeTraits::repack_rows8) and its
// gemm (TypeTraits::gemm_repacked8), bit for bit GemmQ4_KQ8_K's outputs.
void RepackQ4_KRows8(int64_t n, const void* src, size_t src_stride, int64_t n_rows, void* dst);
void GemmQ4_KRows8Repacked(const GemmArgs& g);
// avx2_q5_k_rows8.cc: the same for Q5_K.
void RepackQ5_KRows8(int64_t n, const void* src, size_t src_stride, int64_t n_rows, void* dst);
void GemmQ5_KRows8Repacked(const GemmArgs& g);
// avx2_q6_k_rows8.cc: the same for Q6_K.
void RepackQ6_KRows8(int64_t n, const void* src, size_t src_stride, int64_t n_rows, void* dst);
void GemmQ6_KRows8Repacked(const GemmArgs& g);

}  // namespace foundry::x86::avx2
