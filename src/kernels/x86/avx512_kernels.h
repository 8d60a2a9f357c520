// The AVX-512 kernels (F, BW, VL and VNNI), one translation unit per operation family, each
// compiled with the AVX-512 flags (every avx512*.cc, src/CMakeLists.txt). avx512_type_traits.cc
// gathers them into the AVX-512 override table; what it leaves out comes from the AVX2 table
// (kernels.cc merges them). Nothing else may call them (x86_kernels.h's rules).
//
// Numerics: integer block sums are exact on every path; the float order is this file's own
// (the scalar reference checks it within measured tolerances, tests/unit/kernels_simd_test.cc):
// * the K-quants keep the K-quant order of every ISA (ref::VecDotQ4_KQ8_K: a float step per
//   super-block on its exact integer totals): their integers come from 512-bit maddubs and
//   VNNI's vpdpwssd, which sums them in another grouping to the same exact values, so their
//   results are bit for bit those of the AVX2 and scalar kernels;
// * the 32-element blocks take two blocks per 512-bit register: VNNI's vpdpbusd for the integer
//   sums and a 16-lane float accumulator (lanes 0-7 the even blocks, 8-15 the odd ones);
// * F32 and BF16 rows: a 16-lane accumulator (BF16 widened exactly, no vdpbf16ps).
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

// avx512_blocks32.cc and avx512_kquants.cc.
#include "kernels/x86/quant_kernel_declarations.inc"

}  // namespace foundry::x86::avx512
