// The AVX-512 kernels (F, BW, VL and VNNI), one translation unit per operation family, each
// compiled with the AVX-512 flags (every avx512*.cc, src/CMakeLists.txt). avx512_type_traits.cc
// gathers them into the AVX-512 override table; what it leaves out comes from the AVX2 table
// (kernels.cc merges them): the dot products of the quantized types and their decoding gemms
// (the AVX2 kernels, repacked ones included, streamed weights faster than 512-bit versions of
// them, which were dropped), the F16 dot product (the attention
// kernels' results are defined by the AVX2 one) and the Q8_0/Q8_1 quantizers. Nothing else may
// call them (x86_kernels.h's rules).
//
// Numerics: the K-quant prompts keep the K-quant order of every ISA (ref::VecDotQ4_KQ8_K: a
// float step per super-block on its exact integer totals); their integers come from vpdpbusd
// outer products (avx512_k_panels.cc), another grouping of the same exact values, so their
// results are bit for bit those of the AVX2 and scalar kernels. Everything else being AVX2's,
// this ISA rounds as AVX2 does everywhere but F32 and BF16 rows (a 16-lane accumulator; BF16 widened exactly, no vdpbf16ps), checked
// against the scalar reference within measured tolerances (tests/unit/kernels_simd_test.cc).
// Activation quantizers give the AVX2 bytes (Q8_K: the reference's).
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace foundry::x86::avx512 {

// avx512_quantize.cc
void QuantizeRowQ8_K(const float* src, void* dst, int64_t n);

// avx512_float_dot.cc
float VecDotF32F32(int64_t n, const void* w, const void* a);
float VecDotBF16BF16(int64_t n, const void* w, const void* a);

// avx512_k_panels.cc: the gemms of Q4_K, Q5_K and Q6_K, in the file's layout or
// repacked by the AVX2 repack_rows8 (k_rows8_layout.h): prompts through the panels, decoding
// through the AVX2 gemms; bit for bit vec_dot (the AVX2 one) for any number of tokens.
void GemmQ4_KQ8_K(const GemmArgs& g);
void GemmQ5_KQ8_K(const GemmArgs& g);
void GemmQ6_KQ8_K(const GemmArgs& g);
void GemmQ4_KRows8Repacked(const GemmArgs& g);
void GemmQ5_KRows8Repacked(const GemmArgs& g);
void GemmQ6_KRows8Repacked(const GemmArgs& g);

// avx512_q6_k_decode.cc: Q6_K rows against tokens one at a time, two rows per register (the
// decoding half of GemmQ6_KQ8_K), bit for bit vec_dot.
void GemmQ6_KDecode(const GemmArgs& g);
// The same on Q6_K repacked by the AVX2 repack_rows8 (one token; more go to the AVX2 gemm).
void GemmQ6_KRows8Decode(const GemmArgs& g);

}  // namespace foundry::x86::avx512
