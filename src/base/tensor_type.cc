#include "base/tensor_type.h"

namespace foundry {

std::optional<QuantTypeInfo> FindQuantTypeInfo(uint32_t id) {
  switch (static_cast<QuantType>(id)) {
    case QuantType::kF32: return QuantTypeInfo{"F32", 1, 4};
    case QuantType::kF16: return QuantTypeInfo{"F16", 1, 2};
    case QuantType::kQ4_0: return QuantTypeInfo{"Q4_0", 32, 18};
    case QuantType::kQ4_1: return QuantTypeInfo{"Q4_1", 32, 20};
    case QuantType::kQ5_0: return QuantTypeInfo{"Q5_0", 32, 22};
    case QuantType::kQ5_1: return QuantTypeInfo{"Q5_1", 32, 24};
    case QuantType::kQ8_0: return QuantTypeInfo{"Q8_0", 32, 34};
    case QuantType::kQ8_1: return QuantTypeInfo{"Q8_1", 32, 40};
    case QuantType::kQ2_K: return QuantTypeInfo{"Q2_K", 256, 84};
    case QuantType::kQ3_K: return QuantTypeInfo{"Q3_K", 256, 110};
    case QuantType::kQ4_K: return QuantTypeInfo{"Q4_K", 256, 144};
    case QuantType::kQ5_K: return QuantTypeInfo{"Q5_K", 256, 176};
    case QuantType::kQ6_K: return QuantTypeInfo{"Q6_K", 256, 210};
    case QuantType::kQ8_K: return QuantTypeInfo{"Q8_K", 256, 292};
    case QuantType::kIQ2_XXS: return QuantTypeInfo{"IQ2_XXS", 256, 66};
    case QuantType::kIQ2_XS: return QuantTypeInfo{"IQ2_XS", 256, 74};
    case QuantType::kIQ3_XXS: return QuantTypeInfo{"IQ3_XXS", 256, 98};
    case QuantType::kIQ1_S: return QuantTypeInfo{"IQ1_S", 256, 50};
    case QuantType::kIQ4_NL: return QuantTypeInfo{"IQ4_NL", 32, 18};
    case QuantType::kIQ3_S: return QuantTypeInfo{"IQ3_S", 256, 110};
    case QuantType::kIQ2_S: return QuantTypeInfo{"IQ2_S", 256, 82};
    case QuantType::kIQ4_XS: return QuantTypeInfo{"IQ4_XS", 256, 136};
    case QuantType::kI8: return QuantTypeInfo{"I8", 1, 1};
    case QuantType::kI16: return QuantTypeInfo{"I16", 1, 2};
    case QuantType::kI32: return QuantTypeInfo{"I32", 1, 4};
    case QuantType::kI64: return QuantTypeInfo{"I64", 1, 8};
    case QuantType::kF64: return QuantTypeInfo{"F64", 1, 8};
    case QuantType::kIQ1_M: return QuantTypeInfo{"IQ1_M", 256, 56};
    case QuantType::kBF16: return QuantTypeInfo{"BF16", 1, 2};
    case QuantType::kTQ1_0: return QuantTypeInfo{"TQ1_0", 256, 54};
    case QuantType::kTQ2_0: return QuantTypeInfo{"TQ2_0", 256, 66};
    case QuantType::kMXFP4: return QuantTypeInfo{"MXFP4", 32, 17};
  }
  return std::nullopt;
}

std::string_view QuantTypeName(QuantType t) {
  const auto info = FindQuantTypeInfo(static_cast<uint32_t>(t));
  return info ? info->name : std::string_view("unknown");
}

}  // namespace foundry
