// The AVX2 override table (x86_kernels.h): the kernels of avx2_kernels.h by type. Only the
// functions this ISA implements; null fields fall back to the scalar table (kernels.cc).
#if defined(__x86_64__)

#include "kernels/ref/quant_ref.h"
#include "kernels/x86/avx2_kernels.h"
#include "kernels/x86/x86_kernels.h"

namespace foundry::x86 {
namespace avx2 {
namespace {

constexpr TypeTraits kAvx2Overrides[] = {
    {.type = QuantType::kF32, .vec_dot = VecDotF32F32},
    {.type = QuantType::kF16, .vec_dot = VecDotF16F16},
    {.type = QuantType::kBF16, .vec_dot = VecDotBF16BF16},
    {.type = QuantType::kQ4_0,
     .vec_dot = VecDotQ4_0Q8_0,
     .gemm = GemmQ4_0Q8_0,
     .repack_rows8 = RepackQ4_0Rows8,
     .gemm_repacked8 = GemmQ4_0Rows8Repacked,
     .repacked_order = ref::VecDotQ4_0Q8_0BlockFma},
    {.type = QuantType::kQ4_1, .vec_dot = VecDotQ4_1Q8_1, .gemm = GemmQ4_1Q8_1},
    {.type = QuantType::kQ5_0,
     .vec_dot = VecDotQ5_0Q8_0,
     .gemm = GemmQ5_0Q8_0,
     .repack_rows8 = RepackQ5_0Rows8,
     .gemm_repacked8 = GemmQ5_0Rows8Repacked,
     .repacked_order = ref::VecDotQ5_0Q8_0BlockFma},
    {.type = QuantType::kQ5_1, .vec_dot = VecDotQ5_1Q8_1},
    {.type = QuantType::kQ8_0,
     .quantize_row = QuantizeRowQ8_0,
     .vec_dot = VecDotQ8_0Q8_0,
     .gemm = GemmQ8_0Q8_0,
     .repack_rows8 = RepackQ8_0Rows8,
     .gemm_repacked8 = GemmQ8_0Rows8Repacked,
     .repacked_order = ref::VecDotQ8_0Q8_0BlockFma},
    {.type = QuantType::kQ8_1, .quantize_row = QuantizeRowQ8_1},
    {.type = QuantType::kQ4_K,
     .vec_dot = VecDotQ4_KQ8_K,
     .gemm = GemmQ4_KQ8_K,
     .repack_rows8 = RepackQ4_KRows8,
     .gemm_repacked8 = GemmQ4_KRows8Repacked},
    {.type = QuantType::kQ5_K,
     .vec_dot = VecDotQ5_KQ8_K,
     .gemm = GemmQ5_KQ8_K,
     .repack_rows8 = RepackQ5_KRows8,
     .gemm_repacked8 = GemmQ5_KRows8Repacked},
    {.type = QuantType::kQ6_K,
     .vec_dot = VecDotQ6_KQ8_K,
     .gemm = GemmQ6_KQ8_K,
     .repack_rows8 = RepackQ6_KRows8,
     .gemm_repacked8 = GemmQ6_KRows8Repacked},
    {.type = QuantType::kQ8_K, .quantize_row = QuantizeRowQ8_K},
};

}  // namespace
}  // namespace avx2

const TypeTraits* Avx2TypeTraits(QuantType type) {
  for (const TypeTraits& t : avx2::kAvx2Overrides) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

}  // namespace foundry::x86

#endif  // defined(__x86_64__)
