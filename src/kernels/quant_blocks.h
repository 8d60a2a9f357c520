// In-memory block layouts of the quantized types, bit-identical to ggml's (ggml-common.h).
//
// Half-precision fields are stored as raw IEEE binary16 bits (uint16_t); convert with
// base/fp16.h. All structs are trivially copyable and packed by construction (every field
// is naturally aligned at its offset), so a row of blocks can be read straight from a
// mapped GGUF file (GGUF tensor data is 32-byte aligned; blocks need at most 4-byte
// alignment, and only BlockQ8_K, which never comes from a file, has a float field).
#pragma once

#include <cstddef>
#include <cstdint>

namespace foundry {

inline constexpr int kQK4_0 = 32;
inline constexpr int kQK4_1 = 32;
inline constexpr int kQK5_0 = 32;
inline constexpr int kQK5_1 = 32;
inline constexpr int kQK8_0 = 32;
inline constexpr int kQK8_1 = 32;
inline constexpr int kQK_K = 256;        // super-block size of the K-quants
inline constexpr int kKScaleBytes = 12;  // packed 6-bit scales+mins of Q4_K/Q5_K

// x = d * (q - 8); low nibbles of qs are elements 0..15, high nibbles 16..31.
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK4_0 / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// x = d * q + m; nibble order as Q4_0.
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK4_1 / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

// x = d * (q - 16), q = low nibble | high bit << 4; nibble order as Q4_0, and qh (a
// little-endian uint32) holds the fifth bit of element j in bit j.
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK5_0 / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

// x = d * q + m, q = low nibble | high bit << 4 in 0..31; nibble and qh order as Q5_0.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK5_1 / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

// x = d * q.
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK8_0];
};
static_assert(sizeof(BlockQ8_0) == 34);

// Activation block for Q4_1 dot products: x = d * q, and s = d * sum(q) (both f16).
// This is ggml's in-memory block_q8_1 (36 bytes). gguf-py's GGML_QUANT_SIZES (and our
// base/tensor_type.h) list Q8_1 as 40 bytes, a leftover of an old layout with f32 d/s;
// Q8_1 never appears in model files, so only this in-memory layout matters.
struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;
  int8_t qs[kQK8_1];
};
static_assert(sizeof(BlockQ8_1) == 36);

// Q4_K: 8 sub-blocks of 32; x = d * sc[j] * q - dmin * m[j], q in 0..15.
// scales[12] packs eight 6-bit scales and eight 6-bit mins:
//   j < 4:  sc = scales[j] & 63,              m = scales[j + 4] & 63
//   j >= 4: sc = (scales[j + 4] & 15) | (scales[j - 4] >> 6) << 4,
//           m  = (scales[j + 4] >> 4) | (scales[j] >> 6) << 4
// qs: 4 groups of 32 bytes; group g holds sub-block 2g in low nibbles, 2g+1 in high.
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

// Q5_K: as Q4_K plus a fifth bit: element 32*j + l has its high bit in qh[l] bit j.
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

// Q6_K: 16 sub-blocks of 16; x = d * scales[j] * (q - 32), q in 0..63.
// Per half (128 elements; ql advances 64, qh 32): for l < 32,
//   e[l]      = ql[l] & 15      | (qh[l] >> 0 & 3) << 4
//   e[l + 32] = ql[l + 32] & 15 | (qh[l] >> 2 & 3) << 4
//   e[l + 64] = ql[l] >> 4      | (qh[l] >> 4 & 3) << 4
//   e[l + 96] = ql[l + 32] >> 4 | (qh[l] >> 6 & 3) << 4
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

// Activation block for K-quant dot products: x = d * q; bsums[j] = sum of qs[16j..16j+15].
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};
static_assert(sizeof(BlockQ8_K) == 292);

}  // namespace foundry
