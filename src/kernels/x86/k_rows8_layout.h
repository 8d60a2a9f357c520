// The layouts of Q4_K, Q5_K and Q6_K weights repacked into groups of 8 interleaved rows
// (TypeTraits::repack_rows8, avx2_q{4,5,6}_k_rows8.cc), which the AVX2 gemms
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

// The same for Q6_K, its bytes in the order the gemms read them (values 128h + 32k + 4c.. of
// half h come from ql chunk 16h + c (k = 0: low nibbles, k = 2: high) or 16h + 8 + c (k = 1, 3)
// and qh chunk 8h + c): a group's blocks are then read front to back, one ascending stream the
// hardware prefetchers follow (in the file's order they jumped back and forth).
struct GroupHalfQ6_K {
  uint8_t ql_qh[4][2][2][8][4];  // [p][0: ql, 1: qh][i]: chunk c = 2p + i of ql and qh
  uint8_t ql_odd[8][8][4];       // [c]: ql chunk 8 + c
};
struct GroupBlockQ6_K {
  uint16_t d[8];         // row r's d (f16)
  int8_t scales[16][8];  // sub-block s's scale of row r
  GroupHalfQ6_K half[2];
};
static_assert(sizeof(GroupBlockQ6_K) == 8 * sizeof(BlockQ6_K));

}  // namespace foundry::x86
