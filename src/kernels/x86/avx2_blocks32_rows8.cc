// 32-element weight blocks repacked at load into groups of 8 interleaved rows
// (TypeTraits::repack_rows8) and their AVX2 gemm (TypeTraits::gemm_repacked8), in the order of
// llama.cpp's repacked Q4_0 kernels: each block's exact integer total into one float accumulator
// per output, acc = fma(isum, x.d * y.d, acc), for any number of tokens
// (ref::VecDotQ4_0Q8_0BlockFma). One order whatever the batch: a decoding step and a prompt give
// an output the same bits.
//
// Why: vec_dot's layout puts one row in a register, so every block of every output costs a
// horizontal sum or a lane accumulator of its own, and each token's activations are loaded once
// per row. With the eight rows of a group in the eight int32 lanes a register of weights serves
// eight outputs at once, an output's integer total is already in its lane, and one broadcast of
// four activation bytes serves eight rows. The unsigned nibbles are multiplied as they are; the
// weights' offset (8 for Q4_0) comes off once per block as offset * (sum of the activations),
// prepared once per token and block.
#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/quant_blocks.h"
#include "kernels/x86/avx2_gemm_driver.h"
#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/avx2_k_rows8.h"
#include "kernels/x86/avx2_kernels.h"

namespace foundry::x86::avx2 {
namespace {

// Block b of a group of 8 rows: the eight rows' block b, interleaved; the size of eight
// BlockQ4_0, so a repacked matrix keeps the file's size and row stride.
struct GroupBlockQ4_0 {
  uint16_t d[8];         // row r's d (f16)
  uint8_t qs[4][8][4];   // chunk c: row r's qs bytes 4c..4c+3 (elements 4c.. and 16+4c..)
};
static_assert(sizeof(GroupBlockQ4_0) == 8 * sizeof(BlockQ4_0));

// Q4_0: unsigned nibbles, offset 8.
struct Q4_0Rows8 {
  using Block = BlockQ4_0;
  using Group = GroupBlockQ4_0;
  static constexpr int32_t kOffset = 8;

  static void Place(const Block& x, int r, Group& g) {
    g.d[r] = x.d;
    for (int c = 0; c < 4; ++c) std::memcpy(g.qs[c][r], x.qs + 4 * c, 4);
  }

  // sum_j nibble_j * a_j of the block for eight rows (lane r) and kT tokens (a[t]: the token's
  // 32 activations). A lane's int16 sums reach 8 * 2 * 15 * 127 = 30480 at most, so the
  // saturating add never saturates (it keeps GCC from reassociating; see avx2_q4_k_rows8.cc).
  template <int kT>
  static void Totals(const Group& g, const int8_t* const* a, __m256i* totals) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256i sum[kT];
    for (int c = 0; c < 4; ++c) {
      const __m256i v = Load256(g.qs[c]);
      const __m256i lo = _mm256_and_si256(v, m4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
      for (int j = 0; j < kT; ++j) {
        const __m256i p = _mm256_adds_epi16(_mm256_maddubs_epi16(lo, Broadcast4(a[j] + 4 * c)),
                                            _mm256_maddubs_epi16(hi, Broadcast4(a[j] + 16 + 4 * c)));
        sum[j] = c == 0 ? p : _mm256_adds_epi16(sum[j], p);
      }
    }
    const __m256i ones = _mm256_set1_epi16(1);
    for (int j = 0; j < kT; ++j) totals[j] = _mm256_madd_epi16(sum[j], ones);
  }
};

struct GroupBlockQ5_0 {
  uint16_t d[8];         // row r's d (f16)
  uint32_t qh[8];        // row r's high bits, as planes (Q5_0Rows8::Place)
  uint8_t qs[4][8][4];   // chunk c: row r's qs bytes 4c..4c+3, as GroupBlockQ4_0
};
static_assert(sizeof(GroupBlockQ5_0) == 8 * sizeof(BlockQ5_0));

// Q5_0: nibbles and a fifth bit, offset 16. The repack moves each row's 32 high bits into eight
// planes: bit 8k + p of the word is the high bit of the element that byte k of vector p holds
// (p = 4h + c: chunk c's low (h = 0) or high (h = 1) nibbles), so a plane is one shift and one
// mask away from bit 4 of its bytes.
struct Q5_0Rows8 {
  using Block = BlockQ5_0;
  using Group = GroupBlockQ5_0;
  static constexpr int32_t kOffset = 16;

  static void Place(const Block& x, int r, Group& g) {
    g.d[r] = x.d;
    for (int c = 0; c < 4; ++c) std::memcpy(g.qs[c][r], x.qs + 4 * c, 4);
    uint32_t qh, planes = 0;
    std::memcpy(&qh, x.qh, sizeof(qh));
    for (int p = 0; p < 8; ++p) {
      for (int k = 0; k < 4; ++k) {
        const int element = 16 * (p / 4) + 4 * (p % 4) + k;
        planes |= ((qh >> element) & 1u) << (8 * k + p);
      }
    }
    g.qh[r] = planes;
  }

  // Plane p's bits at bit 4 of their bytes.
  template <int p>
  static __m256i Plane(__m256i planes) {
    const __m256i bit4 = _mm256_set1_epi8(0x10);
    if constexpr (p < 4) return _mm256_and_si256(_mm256_slli_epi32(planes, 4 - p), bit4);
    if constexpr (p == 4) return _mm256_and_si256(planes, bit4);
    if constexpr (p > 4) return _mm256_and_si256(_mm256_srli_epi32(planes, p - 4), bit4);
  }

  template <int c, int kT>
  static void Chunk(const Group& g, __m256i planes, const int8_t* const* a, __m256i* lo_sum,
                    __m256i* hi_sum) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i v = Load256(g.qs[c]);
    const __m256i lo = _mm256_or_si256(_mm256_and_si256(v, m4), Plane<c>(planes));
    const __m256i hi =
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), Plane<4 + c>(planes));
    for (int j = 0; j < kT; ++j) {
      const __m256i pl = _mm256_maddubs_epi16(lo, Broadcast4(a[j] + 4 * c));
      const __m256i ph = _mm256_maddubs_epi16(hi, Broadcast4(a[j] + 16 + 4 * c));
      lo_sum[j] = c == 0 ? pl : _mm256_adds_epi16(lo_sum[j], pl);
      hi_sum[j] = c == 0 ? ph : _mm256_adds_epi16(hi_sum[j], ph);
    }
  }

  // As Q4_0Rows8::Totals; the low and the high halves apart, each reaching 8 * 31 * 127 = 31496.
  template <int kT>
  static void Totals(const Group& g, const int8_t* const* a, __m256i* totals) {
    const __m256i planes = Load256(g.qh);
    __m256i lo_sum[kT], hi_sum[kT];
    Chunk<0, kT>(g, planes, a, lo_sum, hi_sum);
    Chunk<1, kT>(g, planes, a, lo_sum, hi_sum);
    Chunk<2, kT>(g, planes, a, lo_sum, hi_sum);
    Chunk<3, kT>(g, planes, a, lo_sum, hi_sum);
    const __m256i ones = _mm256_set1_epi16(1);
    for (int j = 0; j < kT; ++j) {
      totals[j] = _mm256_add_epi32(_mm256_madd_epi16(lo_sum[j], ones),
                                   _mm256_madd_epi16(hi_sum[j], ones));
    }
  }
};

struct GroupBlockQ8_0 {
  uint16_t d[8];         // row r's d (f16)
  int8_t qs[8][8][4];    // chunk c: row r's qs 4c..4c+3
};
static_assert(sizeof(GroupBlockQ8_0) == 8 * sizeof(BlockQ8_0));

// Q8_0: signed weights, no offset; |w| times a with w's sign (maddubs takes its first operand
// unsigned), each chunk's pairs (up to 2 * 128 * 127) widened to int32 at once.
struct Q8_0Rows8 {
  using Block = BlockQ8_0;
  using Group = GroupBlockQ8_0;
  static constexpr int32_t kOffset = 0;

  static void Place(const Block& x, int r, Group& g) {
    g.d[r] = x.d;
    for (int c = 0; c < 8; ++c) std::memcpy(g.qs[c][r], x.qs + 4 * c, 4);
  }

  template <int kT>
  static void Totals(const Group& g, const int8_t* const* a, __m256i* totals) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (int j = 0; j < kT; ++j) totals[j] = _mm256_setzero_si256();
    for (int c = 0; c < 8; ++c) {
      const __m256i v = Load256(g.qs[c]);
      const __m256i magnitude = _mm256_sign_epi8(v, v);
      for (int j = 0; j < kT; ++j) {
        const __m256i p = _mm256_madd_epi16(
            _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(Broadcast4(a[j] + 4 * c), v)), ones);
        totals[j] = _mm256_add_epi32(totals[j], p);
      }
    }
  }
};

// A token's block as the tiles need it: its scale and kOffset * (sum of its activations).
struct ActBlock {
  float d;
  int32_t offset_sum;
};

template <int32_t kOffset>
inline void PrepareActivations(const BlockQ8_0* q, int64_t nb, ActBlock* out) {
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nb; ++b) {
    out[b].d = HalfToFloat(q[b].d);
    if constexpr (kOffset != 0) {
      const __m256i pairs = _mm256_maddubs_epi16(ones8, Load256(q[b].qs));
      out[b].offset_sum = kOffset * HsumEpi32(_mm256_madd_epi16(pairs, ones16));
    } else {
      out[b].offset_sum = 0;
    }
  }
}

// Eight rows x kT tokens over nb blocks of group g: y[j * ldy + r] for row r, token j.
template <typename T, int kT>
inline void Tile(int64_t nb, const typename T::Group* g, const BlockQ8_0* const* q,
                 const ActBlock* const* act, float* y, int64_t ldy) {
  __m256 acc[kT];
  for (int j = 0; j < kT; ++j) acc[j] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const int8_t* a[kT];
    for (int j = 0; j < kT; ++j) a[j] = q[j][b].qs;
    __m256i totals[kT];
    T::template Totals<kT>(g[b], a, totals);
    const __m256 xd = LoadF16x8(g[b].d);
    for (int j = 0; j < kT; ++j) {
      __m256i isum = totals[j];
      if constexpr (T::kOffset != 0) {
        isum = _mm256_sub_epi32(isum, _mm256_set1_epi32(act[j][b].offset_sum));
      }
      acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum),
                               _mm256_mul_ps(xd, _mm256_set1_ps(act[j][b].d)), acc[j]);
    }
  }
  for (int j = 0; j < kT; ++j) _mm256_storeu_ps(y + j * ldy, acc[j]);
}

template <typename T>
void Repack(int64_t n, const void* src, size_t src_stride, int64_t n_rows, void* dst) {
  RepackRows8<typename T::Block, typename T::Group, kQK8_0>(n, src, src_stride, n_rows, dst,
                                                            T::Place);
}

// The loop nest of the gemms: tokens kTokensPerGroup at a time (their activations, prepared,
// stay in L2 while every row group passes over them), four at a time within, the last one at a
// time. One order for every tile, so the grouping changes no bit.  group(i): the repacked
// blocks of rows [8i, 8i + 8).
template <typename T, typename Group>
void GemmGroups(const GemmArgs& g, Group group) {
  const int64_t nb = g.n / kQK8_0;
  const int64_t n_groups = g.n_rows / 8;
  const auto* ab = static_cast<const uint8_t*>(g.a);
  std::vector<ActBlock> prepared(
      static_cast<size_t>(std::min<int64_t>(g.n_tokens, kTokensPerGroup) * nb));
  for (int64_t t0 = 0; t0 < g.n_tokens; t0 += kTokensPerGroup) {
    const int64_t n_group = std::min<int64_t>(kTokensPerGroup, g.n_tokens - t0);
    const BlockQ8_0* q[kTokensPerGroup];
    const ActBlock* act[kTokensPerGroup];
    for (int64_t j = 0; j < n_group; ++j) {
      q[j] = reinterpret_cast<const BlockQ8_0*>(ab + (t0 + j) * g.a_stride);
      act[j] = prepared.data() + j * nb;
      PrepareActivations<T::kOffset>(q[j], nb, prepared.data() + j * nb);
    }
    for (int64_t i = 0; i < n_groups; ++i) {
      const typename T::Group* blocks = group(i);
      float* y = g.y + t0 * g.ldy + 8 * i;
      int64_t j = 0;
      for (; j + 4 <= n_group; j += 4) Tile<T, 4>(nb, blocks, q + j, act + j, y + j * g.ldy, g.ldy);
      for (; j < n_group; ++j) Tile<T, 1>(nb, blocks, q + j, act + j, y + j * g.ldy, g.ldy);
    }
  }
}

template <typename T>
void GemmRepacked(const GemmArgs& g) {
  const auto* w = static_cast<const uint8_t*>(g.w);
  GemmGroups<T>(g, [&](int64_t i) {
    return reinterpret_cast<const typename T::Group*>(w + i * 8 * g.w_stride);
  });
}

}  // namespace

void RepackQ4_0Rows8(int64_t n, const void* src, size_t src_stride, int64_t n_rows, void* dst) {
  Repack<Q4_0Rows8>(n, src, src_stride, n_rows, dst);
}

void GemmQ4_0Rows8Repacked(const GemmArgs& g) { GemmRepacked<Q4_0Rows8>(g); }

void RepackQ5_0Rows8(int64_t n, const void* src, size_t src_stride, int64_t n_rows, void* dst) {
  Repack<Q5_0Rows8>(n, src, src_stride, n_rows, dst);
}

void GemmQ5_0Rows8Repacked(const GemmArgs& g) { GemmRepacked<Q5_0Rows8>(g); }

void RepackQ8_0Rows8(int64_t n, const void* src, size_t src_stride, int64_t n_rows, void* dst) {
  Repack<Q8_0Rows8>(n, src, src_stride, n_rows, dst);
}

void GemmQ8_0Rows8Repacked(const GemmArgs& g) { GemmRepacked<Q8_0Rows8>(g); }

}  // namespace foundry::x86::avx2

#endif  // defined(__x86_64__)
