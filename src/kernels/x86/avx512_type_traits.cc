// The AVX-512 override table (x86_kernels.h): the kernels of avx512_kernels.h by type. Only the
// functions this ISA implements; null fields fall back to the AVX2 table (kernels.cc): the
// 32-element block types, the F16 dot product and the Q8_0/Q8_1 quantizers. The K-quants take
// the AVX2 dot products and layouts (repacked: its decoding gemm streams weights
// fastest), with gemms that send prompts through the AVX-512 panels.
#if defined(__x86_64__)

#include "kernels/x86/avx2_kernels.h"
#include "kernels/x86/avx512_kernels.h"
#include "kernels/x86/x86_kernels.h"

namespace foundry::x86 {
namespace avx512 {
namespace {

constexpr TypeTraits kAvx512Overrides[] = {
    {.type = QuantType::kF32, .vec_dot = VecDotF32F32},
    {.type = QuantType::kBF16, .vec_dot = VecDotBF16BF16},
    {.type = QuantType::kQ4_K,
     .vec_dot = avx2::VecDotQ4_KQ8_K,
     .gemm = GemmQ4_KQ8_K,
     .repack_rows8 = avx2::RepackQ4_KRows8,
     .gemm_repacked8 = GemmQ4_KRows8Repacked},
    {.type = QuantType::kQ5_K,
     .vec_dot = avx2::VecDotQ5_KQ8_K,
     .gemm = GemmQ5_KQ8_K,
     .repack_rows8 = avx2::RepackQ5_KRows8,
     .gemm_repacked8 = GemmQ5_KRows8Repacked},
    {.type = QuantType::kQ6_K,
     .vec_dot = avx2::VecDotQ6_KQ8_K,
     .gemm = GemmQ6_KQ8_K,
     .repack_rows8 = avx2::RepackQ6_KRows8,
     .gemm_repacked8 = GemmQ6_KRows8Repacked},
    {.type = QuantType::kQ8_K, .quantize_row = QuantizeRowQ8_K},
};

}  // namespace
}  // namespace avx512

const TypeTraits* Avx512TypeTraits(QuantType type) {
  for (const TypeTraits& t : avx512::kAvx512Overrides) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

}  // namespace foundry::x86

#endif  // defined(__x86_64__)
