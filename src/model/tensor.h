// A weight tensor: a typed, shaped view into the mapped model file (or a repacked copy).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "base/tensor_type.h"

namespace foundry {

struct Tensor {
  QuantType type = QuantType::kF32;
  std::array<int64_t, 4> ne = {1, 1, 1, 1};  // ne[0]: elements per row
  const uint8_t* data = nullptr;
  size_t row_bytes = 0;
  // data holds groups of 8 interleaved rows (TypeTraits::repack_rows8, RepackedWeights): Row(r)
  // is a group's start for r a multiple of 8, and only MatMuls reads the rows.
  bool repacked8 = false;

  int64_t rows() const { return ne[1] * ne[2] * ne[3]; }
  const uint8_t* Row(int64_t r) const { return data + static_cast<size_t>(r) * row_bytes; }
  const float* F32() const { return reinterpret_cast<const float*>(data); }
  bool empty() const { return data == nullptr; }
};

}  // namespace foundry
