// The AVX-512 override table (x86_kernels.h): the kernels of avx512_kernels.h by type. Only the
// functions this ISA implements; null fields fall back to the AVX2 table (kernels.cc): the F16
// dot product (the attention kernels' results are defined by the AVX2 one) and the Q8_0/Q8_1
// quantizers (llama.cpp's AVX-512 builds quantize with the same AVX2 code).
#if defined(__x86_64__)

#include "kernels/x86/avx512_kernels.h"
#include "kernels/x86/x86_kernels.h"

namespace foundry::x86 {
namespace avx512 {
namespace {

constexpr TypeTraits kAvx512Overrides[] = {
    {.type = QuantType::kF32, .vec_dot = VecDotF32F32},
    {.type = QuantType::kBF16, .vec_dot = VecDotBF16BF16},
    {.type = QuantType::kQ4_0, .vec_dot = VecDotQ4_0Q8_0, .gemm = GemmQ4_0Q8_0},
    {.type = QuantType::kQ4_1, .vec_dot = VecDotQ4_1Q8_1, .gemm = GemmQ4_1Q8_1},
    {.type = QuantType::kQ5_0, .vec_dot = VecDotQ5_0Q8_0, .gemm = GemmQ5_0Q8_0},
    {.type = QuantType::kQ8_0, .vec_dot = VecDotQ8_0Q8_0, .gemm = GemmQ8_0Q8_0},
    {.type = QuantType::kQ4_K, .vec_dot = VecDotQ4_KQ8_K, .gemm = GemmQ4_KQ8_K},
    {.type = QuantType::kQ5_K, .vec_dot = VecDotQ5_KQ8_K, .gemm = GemmQ5_KQ8_K},
    {.type = QuantType::kQ6_K, .vec_dot = VecDotQ6_KQ8_K, .gemm = GemmQ6_KQ8_K},
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
