// AVX-512 dot products and gemm tiles of the K-quants (Q4_K, Q5_K, Q6_K weights against Q8_K
// activations), 64 bytes at a time; see avx512_kernels.h for the numerics.
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#include "kernels/quant_blocks.h"
#include "kernels/x86/avx2_gemm_driver.h"
#include "kernels/x86/avx512_helpers.h"
#include "kernels/x86/avx512_kernels.h"

namespace foundry::x86::avx512 {
namespace {

// A super-block is taken as four 64-byte vectors m of weights (unsigned bytes) and the matching
// activations, each 256-bit half one group of 32 values with its own scale (in the int16 lanes
// of a scale vector): per token, s = vpdpwssd(s, maddubs(weights, activations), scales) over
// the four vectors, and the halves of s added give, lane by lane, the integers of the AVX2
// kernels' 8-lane sum (integer addition is exact in any grouping).

// An int16 scale vector: lanes 16h..16h+15 (h = 0, 1) hold scale idx[h] of the 16 in `scales`
// (int16 lanes of a 256-bit vector), for 32 values each; kSixteens: lanes 8k..8k+7 hold scale
// first + k, for 16 values each (Q6_K).
inline __m512i PairScales(__m256i scales, int a, int b) {
  const __m512i idx =
      Join(_mm256_set1_epi16(static_cast<int16_t>(a)), _mm256_set1_epi16(static_cast<int16_t>(b)));
  return _mm512_permutexvar_epi16(idx, _mm512_castsi256_si512(scales));
}
inline __m512i QuadScales(__m256i scales, int first) {
  const __m512i idx = _mm512_add_epi16(
      _mm512_srli_epi16(_mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
                                         16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                        3),
      _mm512_set1_epi16(static_cast<int16_t>(first)));
  return _mm512_permutexvar_epi16(idx, _mm512_castsi256_si512(scales));
}

// Q4_K and Q5_K: vector m holds sub-blocks kSubs[m] (32 values each): the low nibbles of qs
// bytes 64g..64g+63 are sub-blocks 4g and 4g + 2, the high nibbles 4g + 1 and 4g + 3.
constexpr int kSubs[4][2] = {{0, 2}, {1, 3}, {4, 6}, {5, 7}};

template <bool kFive, typename BlockW>
struct K4Weights {
  using Block = BlockW;
  // A row's super-block: scales (int16 lanes 0..7) and mins (8 int16), its fifth bits.
  struct Row {
    __m256i scales;
    __m128i mins;
    __m512i qh;
    float d, dmin;
  };
  static void Begin(const Block& x, Row& r) {
    uint32_t utmp[4];
    UnpackScalesMinsK4(x.scales, utmp);
    const __m128i sm = _mm_loadu_si128(reinterpret_cast<const __m128i*>(utmp));
    r.scales = _mm256_cvtepu8_epi16(sm);
    r.mins = _mm_cvtepu8_epi16(_mm_srli_si128(sm, 8));
    if constexpr (kFive) r.qh = _mm512_broadcast_i64x4(Load256(x.qh));
    r.d = HalfToFloat(x.d);
    r.dmin = HalfToFloat(x.dmin);
  }
  static __m512i Weights(const Block& x, const Row& r, int m) {
    const __m512i bits = Load512(x.qs + 64 * (m / 2));
    const __m512i q =
        _mm512_and_si512(m % 2 == 0 ? bits : _mm512_srli_epi16(bits, 4), _mm512_set1_epi8(0x0F));
    if constexpr (!kFive) return q;
    // Element l of sub-block s has its fifth bit in qh[l] bit s.
    const __m512i sel = Join(_mm256_set1_epi8(static_cast<char>(1 << kSubs[m][0])),
                             _mm256_set1_epi8(static_cast<char>(1 << kSubs[m][1])));
    return _mm512_mask_add_epi8(q, _mm512_test_epi8_mask(r.qh, sel), q, _mm512_set1_epi8(16));
  }
  static __m512i Scales(const Row& r, int m) {
    return PairScales(r.scales, kSubs[m][0], kSubs[m][1]);
  }
  static __m512i Activations(const BlockQ8_K& q, int m) {
    const __m512i lo = Load512(q.qs + 128 * (m / 2)), hi = Load512(q.qs + 128 * (m / 2) + 64);
    return m % 2 == 0 ? _mm512_shuffle_i64x2(lo, hi, _MM_SHUFFLE(1, 0, 1, 0))
                      : _mm512_shuffle_i64x2(lo, hi, _MM_SHUFFLE(3, 2, 3, 2));
  }
};

// Q6_K: half h (128 values) in two vectors, its values 0..63 and 64..127, each of four
// sub-blocks of 16; stored as q + 32, which the bsums take back out.
struct Q6Weights {
  using Block = BlockQ6_K;
  struct Row {
    __m256i scales;  // 16 int16
    float d;
  };
  static void Begin(const Block& x, Row& r) {
    r.scales = _mm256_cvtepi8_epi16(Load128(x.scales));
    r.d = HalfToFloat(x.d);
  }
  static __m512i Weights(const Block& x, const Row& /*r*/, int m) {
    const int h = m / 2;
    const __m512i ql = Load512(x.ql + 64 * h);
    const __m512i qh = _mm512_broadcast_i64x4(Load256(x.qh + 32 * h));
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    if (m % 2 == 0) {  // values 0..31 take qh bits 0-1, 32..63 bits 2-3
      const __m512i mask = Join(_mm256_set1_epi8(0x03), _mm256_set1_epi8(0x0C));
      const __m512i shift = Join(_mm256_set1_epi16(4), _mm256_set1_epi16(2));
      return _mm512_or_si512(_mm512_and_si512(ql, m4),
                             _mm512_sllv_epi16(_mm512_and_si512(qh, mask), shift));
    }
    // values 64..95 take qh bits 4-5, 96..127 bits 6-7
    const __m512i mask = Join(_mm256_set1_epi8(0x30), _mm256_set1_epi8(static_cast<char>(0xC0)));
    const __m512i shift = Join(_mm256_set1_epi16(0), _mm256_set1_epi16(2));
    return _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4),
                           _mm512_srlv_epi16(_mm512_and_si512(qh, mask), shift));
  }
  static __m512i Scales(const Row& r, int m) { return QuadScales(r.scales, 4 * m); }
  static __m512i Activations(const BlockQ8_K& q, int m) { return Load512(q.qs + 64 * m); }
};

// Every output of a tile of kR rows x kT tokens in the K-quant order of every ISA
// (ref::VecDotQ4_KQ8_K), so bit for bit the AVX2 kernels' results: per super-block the exact
// integer total (Q6_K: less 32 * scale * bsums) and mins . bsums (Q4_K, Q5_K), then
// res = d_x * total - dmin_x * mins, acc = fma(res, d_y, acc). vec_dot is the 1 x 1 tile.
template <typename W, int kR, int kT>
inline void TileK(int64_t nb, const typename W::Block* const* x, const BlockQ8_K* const* q,
                  float* y, int64_t ldy, const char* ahead = nullptr) {
  using BlockW = typename W::Block;
  constexpr bool kMins = !std::is_same_v<W, Q6Weights>;
  float acc[kR][kT] = {};
  for (int64_t b = 0; b < nb; ++b) {
    PrefetchAhead<kR * sizeof(BlockW)>(ahead, b);
    typename W::Row rows[kR];
    for (int i = 0; i < kR; ++i) W::Begin(x[i][b], rows[i]);
    __m512i sums[kR][kT];
    for (int i = 0; i < kR; ++i) {
      for (int j = 0; j < kT; ++j) sums[i][j] = _mm512_setzero_si512();
    }
    for (int m = 0; m < 4; ++m) {
      __m512i wv[kR], sv[kR];
      for (int i = 0; i < kR; ++i) {
        wv[i] = W::Weights(x[i][b], rows[i], m);
        sv[i] = W::Scales(rows[i], m);
      }
      for (int j = 0; j < kT; ++j) {
        const __m512i av = W::Activations(q[j][b], m);
        for (int i = 0; i < kR; ++i) {
          sums[i][j] = _mm512_dpwssd_epi32(sums[i][j], _mm512_maddubs_epi16(wv[i], av), sv[i]);
        }
      }
    }
    for (int j = 0; j < kT; ++j) {
      const BlockQ8_K& qb = q[j][b];
      const __m256i bsums = Load256(qb.bsums);
      // bsums[2k] + bsums[2k + 1]: the activation sums of the 32-value sub-blocks.
      const __m128i pairs =
          _mm_hadd_epi16(_mm256_castsi256_si128(bsums), _mm256_extracti128_si256(bsums, 1));
      for (int i = 0; i < kR; ++i) {
        __m256i lanes = FoldHalves(sums[i][j]);
        float res;
        if constexpr (kMins) {
          const int md = HsumEpi32(_mm_madd_epi16(pairs, rows[i].mins));
          const float total = static_cast<float>(HsumEpi32(lanes));
          res = __builtin_fmaf(-rows[i].dmin, static_cast<float>(md), rows[i].d * total);
        } else {
          const __m256i bias = _mm256_madd_epi16(rows[i].scales, bsums);
          lanes = _mm256_sub_epi32(lanes, _mm256_slli_epi32(bias, 5));
          res = rows[i].d * static_cast<float>(HsumEpi32(lanes));
        }
        acc[i][j] = __builtin_fmaf(res, qb.d, acc[i][j]);
      }
    }
  }
  for (int i = 0; i < kR; ++i) {
    for (int j = 0; j < kT; ++j) y[j * ldy + i] = acc[i][j];
  }
}

template <typename W>
float VecDotK(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const typename W::Block*>(w);
  const auto* q = static_cast<const BlockQ8_K*>(a);
  float y;
  TileK<W, 1, 1>(n / kQK_K, &x, &q, &y, 1);
  return y;
}

template <typename W>
inline void TileKRows4(int64_t nb, const typename W::Block* const* x, const BlockQ8_K* q, float* y,
                       const char* ahead) {
  TileK<W, 4, 1>(nb, x, &q, y, 1, ahead);
}

// Prompts in tiles of 2 rows x 4 tokens, decoding in tiles of 4 rows (avx2_gemm_driver.h).
template <typename W>
void GemmK(const GemmArgs& g) {
  using BlockW = typename W::Block;
  constexpr int kR = 2, kT = 4;
  constexpr auto kTile = [](int64_t nb, const BlockW* const* x, const BlockQ8_K* const* q, float* y,
                            int64_t ldy) { TileK<W, kR, kT>(nb, x, q, y, ldy); };
  PlainTiles<BlockW, BlockQ8_K, decltype(kTile)> tiles(kTile);
  GemmTiles<BlockW, BlockQ8_K, kQK_K, kR, kT>(g, tiles, TileKRows4<W>, VecDotK<W>);
}

using Q4Weights = K4Weights<false, BlockQ4_K>;
using Q5Weights = K4Weights<true, BlockQ5_K>;

}  // namespace

float VecDotQ4_KQ8_K(int64_t n, const void* w, const void* a) {
  return VecDotK<Q4Weights>(n, w, a);
}
float VecDotQ5_KQ8_K(int64_t n, const void* w, const void* a) {
  return VecDotK<Q5Weights>(n, w, a);
}
float VecDotQ6_KQ8_K(int64_t n, const void* w, const void* a) {
  return VecDotK<Q6Weights>(n, w, a);
}

void GemmQ4_KQ8_K(const GemmArgs& g) { GemmK<Q4Weights>(g); }
void GemmQ5_KQ8_K(const GemmArgs& g) { GemmK<Q5Weights>(g); }
void GemmQ6_KQ8_K(const GemmArgs& g) { GemmK<Q6Weights>(g); }

}  // namespace foundry::x86::avx512

#endif  // defined(__x86_64__)
