#include "kernels/kernels.h"

#include "kernels/quant_blocks.h"
#include "kernels/ref/quant_ref.h"

namespace foundry {
namespace {

constexpr TypeTraits kRefTraits[] = {
    {QuantType::kF32, QuantType::kF32, 1, 4, ref::DequantizeRowF32, ref::QuantizeRowF32,
     ref::VecDotF32F32},
    {QuantType::kF16, QuantType::kF16, 1, 2, ref::DequantizeRowF16, ref::QuantizeRowF16,
     ref::VecDotF16F16},
    {QuantType::kBF16, QuantType::kBF16, 1, 2, ref::DequantizeRowBF16, ref::QuantizeRowBF16,
     ref::VecDotBF16BF16},
    {QuantType::kQ4_0, QuantType::kQ8_0, kQK4_0, sizeof(BlockQ4_0), ref::DequantizeRowQ4_0,
     ref::QuantizeRowQ4_0, ref::VecDotQ4_0Q8_0},
    {QuantType::kQ4_1, QuantType::kQ8_1, kQK4_1, sizeof(BlockQ4_1), ref::DequantizeRowQ4_1,
     ref::QuantizeRowQ4_1, ref::VecDotQ4_1Q8_1},
    {QuantType::kQ5_0, QuantType::kQ8_0, kQK5_0, sizeof(BlockQ5_0), ref::DequantizeRowQ5_0,
     nullptr, ref::VecDotQ5_0Q8_0},
    {QuantType::kQ8_0, QuantType::kQ8_0, kQK8_0, sizeof(BlockQ8_0), ref::DequantizeRowQ8_0,
     ref::QuantizeRowQ8_0, ref::VecDotQ8_0Q8_0},
    {QuantType::kQ8_1, QuantType::kQ8_1, kQK8_1, sizeof(BlockQ8_1), ref::DequantizeRowQ8_1,
     ref::QuantizeRowQ8_1, nullptr},
    {QuantType::kQ4_K, QuantType::kQ8_K, kQK_K, sizeof(BlockQ4_K), ref::DequantizeRowQ4_K,
     ref::QuantizeRowQ4_K, ref::VecDotQ4_KQ8_K},
    {QuantType::kQ5_K, QuantType::kQ8_K, kQK_K, sizeof(BlockQ5_K), ref::DequantizeRowQ5_K,
     ref::QuantizeRowQ5_K, ref::VecDotQ5_KQ8_K},
    {QuantType::kQ6_K, QuantType::kQ8_K, kQK_K, sizeof(BlockQ6_K), ref::DequantizeRowQ6_K,
     ref::QuantizeRowQ6_K, ref::VecDotQ6_KQ8_K},
    {QuantType::kQ8_K, QuantType::kQ8_K, kQK_K, sizeof(BlockQ8_K), ref::DequantizeRowQ8_K,
     ref::QuantizeRowQ8_K, nullptr},
};

}  // namespace

const TypeTraits* FindRefTypeTraits(QuantType type) {
  for (const TypeTraits& t : kRefTraits) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

// Optimized per-ISA tables will be chosen here at run time; the scalar table is the default.
const TypeTraits* FindTypeTraits(QuantType type) { return FindRefTypeTraits(type); }

}  // namespace foundry
