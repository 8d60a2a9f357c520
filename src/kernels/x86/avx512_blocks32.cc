// AVX-512 dot products and gemm tiles of 32-element blocks (Q4_0, Q4_1, Q5_0, Q8_0 weights
// against Q8_0/Q8_1 activations), two blocks per 512-bit register; see avx512_kernels.h.
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>

#include "kernels/quant_blocks.h"
#include "kernels/x86/avx2_gemm_driver.h"
#include "kernels/x86/avx512_helpers.h"
#include "kernels/x86/avx512_kernels.h"

namespace foundry::x86::avx512 {
namespace {

// Blocks b and b + 1 share a register: block b's 32 values in bytes 0..31 (int32 lanes 0-7),
// block b + 1's in bytes 32..63 (lanes 8-15). The last block of an odd count pairs with zero
// bytes and a zero scale, which add exactly +0 to its lanes.

// Two f16 scales as [s0 x8, s1 x8] floats.
inline __m512 ScalePair(uint16_t s0, uint16_t s1) {
  return _mm512_cvtph_ps(_mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(s1)),
                                          _mm_set1_epi16(static_cast<int16_t>(s0))));
}

// Two blocks' 16 bytes of packed nibbles (b may be null: zeros) -> their 32 values each, in
// element order (low nibbles are elements 0..15, high nibbles 16..31).
inline __m512i NibblesPair(const uint8_t* a, const uint8_t* b) {
  const __m256i v = _mm256_set_m128i(b != nullptr ? Load128(b) : _mm_setzero_si128(), Load128(a));
  const __m512i dup = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 0, 1, 2, 3, 2, 3),
                                               _mm512_castsi256_si512(v));
  return _mm512_and_si512(_mm512_srlv_epi64(dup, _mm512_setr_epi64(0, 0, 4, 4, 0, 0, 4, 4)),
                          _mm512_set1_epi8(0x0F));
}

// The 32 int8 values of two blocks (b may be null: zeros).
template <typename Block>
inline __m512i BytesPair(const Block* a, const Block* b) {
  return Join(Load256(a->qs), b != nullptr ? Load256(b->qs) : _mm256_setzero_si256());
}

// The weight types as vpdpbusd operands: each value as an unsigned byte u = q + kOffset, whose
// dot product with the activations exceeds the signed one by kOffset * sum(activations).
// kMins: x = d * q + m (Q4_1), whose m * s terms the tiles add in their own accumulator.
struct Q4_0Weights {
  using Block = BlockQ4_0;
  static constexpr int kOffset = 8;
  static constexpr bool kMins = false;
  static __m512i Bytes(const Block* a, const Block* b) {
    return NibblesPair(a->qs, b != nullptr ? b->qs : nullptr);
  }
};

struct Q4_1Weights {
  using Block = BlockQ4_1;
  static constexpr int kOffset = 0;
  static constexpr bool kMins = true;
  static __m512i Bytes(const Block* a, const Block* b) {
    return NibblesPair(a->qs, b != nullptr ? b->qs : nullptr);
  }
};

struct Q5_0Weights {
  using Block = BlockQ5_0;
  static constexpr int kOffset = 16;
  static constexpr bool kMins = false;
  static __m512i Bytes(const Block* a, const Block* b) {
    // Bit j of qh is element j's fifth bit: the two words are the byte mask of the register.
    uint32_t ha, hb = 0;
    __builtin_memcpy(&ha, a->qh, 4);
    if (b != nullptr) __builtin_memcpy(&hb, b->qh, 4);
    const __mmask64 high = ha | static_cast<uint64_t>(hb) << 32;
    const __m512i q = NibblesPair(a->qs, b != nullptr ? b->qs : nullptr);
    return _mm512_mask_add_epi8(q, high, q, _mm512_set1_epi8(16));
  }
};

struct Q8_0Weights {
  using Block = BlockQ8_0;
  static constexpr int kOffset = 128;
  static constexpr bool kMins = false;
  static __m512i Bytes(const Block* a, const Block* b) {
    return _mm512_xor_si512(BytesPair(a, b), _mm512_set1_epi8(static_cast<char>(0x80)));
  }
};

// The scale pair of blocks a and b (b may be null: zero) of a weight or activation row; the
// second f16 field (Q4_1's m, Q8_1's s) with kSecond.
template <bool kSecond = false, typename Block>
inline __m512 Scales(const Block* a, const Block* b) {
  uint16_t sa, sb = 0;
  __builtin_memcpy(&sa, reinterpret_cast<const uint8_t*>(a) + 2 * kSecond, 2);
  if (b != nullptr) __builtin_memcpy(&sb, reinterpret_cast<const uint8_t*>(b) + 2 * kSecond, 2);
  return ScalePair(sa, sb);
}

// Every output of a tile of kR rows x kT tokens: per block pair, the exact integer lane sums
// from one vpdpbusd (started at -kOffset * sum(activations) per lane), times d_x * d_y, fused
// into a 16-lane accumulator; then its lanes summed in HsumPs's order (and, with kMins, plus
// lanes 0 and 8 of an accumulator of m_x * s_y fused the same way). vec_dot is the 1 x 1 tile,
// so every tile shape gives vec_dot's bits.
template <typename W, typename BlockA, int kR, int kT>
inline void TileBlocks32(int64_t nb, const typename W::Block* const* x, const BlockA* const* q,
                         float* y, int64_t ldy, const char* ahead = nullptr) {
  using BlockW = typename W::Block;
  __m512 acc[kR][kT], accm[kR][kT];
  for (int i = 0; i < kR; ++i) {
    for (int j = 0; j < kT; ++j) acc[i][j] = accm[i][j] = _mm512_setzero_ps();
  }
  const __m512i zero = _mm512_setzero_si512();
  for (int64_t b = 0; b < nb; b += 2) {
    PrefetchAhead<2 * kR * sizeof(BlockW)>(ahead, b / 2);
    const bool two = b + 1 < nb;
    __m512i u[kR];
    __m512 dx[kR], mx[kR];
    for (int i = 0; i < kR; ++i) {
      const BlockW* xb = x[i] + b;
      const BlockW* xb1 = two ? xb + 1 : nullptr;
      u[i] = W::Bytes(xb, xb1);
      dx[i] = Scales(xb, xb1);
      if constexpr (W::kMins) mx[i] = Scales<true>(xb, xb1);
    }
    for (int j = 0; j < kT; ++j) {
      const BlockA* qb = q[j] + b;
      const BlockA* qb1 = two ? qb + 1 : nullptr;
      const __m512i yv = BytesPair(qb, qb1);
      const __m512 dy = Scales(qb, qb1);
      __m512i start = zero;
      if constexpr (W::kOffset != 0) {
        const __m512i offset = _mm512_set1_epi8(static_cast<char>(W::kOffset));
        start = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, offset, yv));
      }
      __m512 sy = _mm512_setzero_ps();
      if constexpr (W::kMins) sy = Scales<true>(qb, qb1);
      for (int i = 0; i < kR; ++i) {
        const __m512i sums = _mm512_dpbusd_epi32(start, u[i], yv);
        acc[i][j] = _mm512_fmadd_ps(_mm512_mul_ps(dx[i], dy), _mm512_cvtepi32_ps(sums), acc[i][j]);
        if constexpr (W::kMins) accm[i][j] = _mm512_fmadd_ps(mx[i], sy, accm[i][j]);
      }
    }
  }
  for (int i = 0; i < kR; ++i) {
    for (int j = 0; j < kT; ++j) {
      float r = HsumPs(acc[i][j]);
      if constexpr (W::kMins) {
        r += _mm512_cvtss_f32(accm[i][j]) + _mm_cvtss_f32(_mm512_extractf32x4_ps(accm[i][j], 2));
      }
      y[j * ldy + i] = r;
    }
  }
}

template <typename W, typename BlockA>
float VecDotBlocks32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const typename W::Block*>(w);
  const auto* q = static_cast<const BlockA*>(a);
  float y;
  TileBlocks32<W, BlockA, 1, 1>(n / kQK8_0, &x, &q, &y, 1);
  return y;
}

template <typename W, typename BlockA>
inline void TileBlocks32Rows4(int64_t nb, const typename W::Block* const* x, const BlockA* q,
                              float* y, const char* ahead) {
  TileBlocks32<W, BlockA, 4, 1>(nb, x, &q, y, 1, ahead);
}

// Prompts in tiles of 4 rows x 4 tokens (2 x 4 for Q4_1, whose m * s accumulators double the
// registers a tile needs), decoding in tiles of 4 rows (avx2_gemm_driver.h's loop nests).
template <typename W, typename BlockA>
void GemmBlocks32(const GemmArgs& g) {
  using BlockW = typename W::Block;
  constexpr int kR = W::kMins ? 2 : 4, kT = 4;
  constexpr auto kTile = [](int64_t nb, const BlockW* const* x, const BlockA* const* q, float* y,
                            int64_t ldy) { TileBlocks32<W, BlockA, kR, kT>(nb, x, q, y, ldy); };
  PlainTiles<BlockW, BlockA, decltype(kTile)> tiles(kTile);
  GemmTiles<BlockW, BlockA, kQK8_0, kR, kT>(g, tiles, TileBlocks32Rows4<W, BlockA>,
                                            VecDotBlocks32<W, BlockA>);
}

}  // namespace

float VecDotQ4_0Q8_0(int64_t n, const void* w, const void* a) {
  return VecDotBlocks32<Q4_0Weights, BlockQ8_0>(n, w, a);
}
float VecDotQ4_1Q8_1(int64_t n, const void* w, const void* a) {
  return VecDotBlocks32<Q4_1Weights, BlockQ8_1>(n, w, a);
}
float VecDotQ5_0Q8_0(int64_t n, const void* w, const void* a) {
  return VecDotBlocks32<Q5_0Weights, BlockQ8_0>(n, w, a);
}
float VecDotQ8_0Q8_0(int64_t n, const void* w, const void* a) {
  return VecDotBlocks32<Q8_0Weights, BlockQ8_0>(n, w, a);
}

void GemmQ4_0Q8_0(const GemmArgs& g) { GemmBlocks32<Q4_0Weights, BlockQ8_0>(g); }
void GemmQ4_1Q8_1(const GemmArgs& g) { GemmBlocks32<Q4_1Weights, BlockQ8_1>(g); }
void GemmQ5_0Q8_0(const GemmArgs& g) { GemmBlocks32<Q5_0Weights, BlockQ8_0>(g); }
void GemmQ8_0Q8_0(const GemmArgs& g) { GemmBlocks32<Q8_0Weights, BlockQ8_0>(g); }

}  // namespace foundry::x86::avx512

#endif  // defined(__x86_64__)
