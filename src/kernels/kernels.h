// Per-type kernel dispatch table: the interface the model layer uses for matmuls.
//
// To compute y = W x where each row of W has type T and n elements:
//   const TypeTraits* wt = FindTypeTraits(T);            // nullptr: unsupported type
//   const TypeTraits* at = FindTypeTraits(wt->vec_dot_type);
//   std::vector<uint8_t> xq(RowBytes(*at, n));
//   at->quantize_row(x, xq.data(), n);                   // once per activation vector
//   for each row r: y[r] = wt->vec_dot(n, row_ptr(r), xq.data());
// n must be a multiple of both types' block_elems (all supported pairs share it).
//
// The table is ISA-agnostic: FindTypeTraits returns the best implementation for the
// running CPU (today the scalar reference); FindRefTypeTraits always returns the scalar
// oracle that tests compare against.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/tensor_type.h"

namespace foundry {

struct TypeTraits {
  QuantType type;
  QuantType vec_dot_type;  // activation type vec_dot expects (== type for activation types)
  size_t block_elems;
  size_t block_bytes;  // in-memory block size (Q8_1: 36, see quant_blocks.h)
  void (*dequantize_row)(const void* src, float* dst, int64_t n);
  // Quantize/convert n floats into this type; nullptr where we have no quantizer.
  void (*quantize_row)(const float* src, void* dst, int64_t n);
  // Dot product of a row of this type with a row of vec_dot_type; nullptr for types that
  // are activation-only (Q8_1, Q8_K).
  float (*vec_dot)(int64_t n, const void* w, const void* a);
};

// Supported: F32, F16, BF16, Q4_0, Q4_1, Q8_0, Q8_1, Q4_K, Q5_K, Q6_K, Q8_K.
const TypeTraits* FindTypeTraits(QuantType type);
const TypeTraits* FindRefTypeTraits(QuantType type);

inline size_t RowBytes(const TypeTraits& t, int64_t n) {
  return static_cast<size_t>(n) / t.block_elems * t.block_bytes;
}

}  // namespace foundry
