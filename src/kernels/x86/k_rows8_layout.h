// The layouts of Q4_K and Q5_K weights repacked into groups of 8 interleaved rows
// (TypeTraits::repack_rows8, avx2_q4_k_rows8.cc and avx2_q5_k_rows8.cc), which the AVX2 gemms
// and the AVX-512 panels (avx512_k_panels.cc) both read. Plain structs only: no functions, so
// no code compiled for one ISA can end up running under another (x86_kernels.h's rules).
#pragma once

#include <cstdint>

#include "kernels/quant_blocks.h"

namespace foundry::x86 {

// Super-block b of a group of 8 rows: the eight rows' block b, interleaved. The same size as
// eight BlockQ4_K, so a repacked matrix keeps the file's size and row stride.
struct GroupBlockQ4_K {
  uint16_t d[8];              // row r's d (f16)
  uint16_t dmin[8];           // row r's dmin (f16)
  uint32_t scales[3][8];      // word k of row r's 12 packed scale/min bytes
  uint8_t qs[32][8][4];       // chunk c: row r's qs bytes 4c..4c+3
};
static_assert(sizeof(GroupBlockQ4_K) == 8 * sizeof(BlockQ4_K));

// The same for Q5_K, with the fifth bits.
struct GroupBlockQ5_K {
  uint16_t d[8];          // row r's d (f16)
  uint16_t dmin[8];       // row r's dmin (f16)
  uint32_t scales[3][8];  // word k of row r's 12 packed scale/min bytes
  uint8_t qh[8][8][4];    // chunk c: row r's qh bytes 4c..4c+3
  uint8_t qs[32][8][4];   // chunk c: row r's qs bytes 4c..4c+3
};
static_assert(sizeof(GroupBlockQ5_K) == 8 * sizeof(BlockQ5_K));

}  // namespace foundry::x86
