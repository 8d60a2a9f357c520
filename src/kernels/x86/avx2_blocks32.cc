// AVX2 dot products and gemm tiles of 32-element blocks (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 weights
// against Q8_0/Q8_1 activations); see avx2_kernels.h for the numerics.
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/quant_blocks.h"
#include "kernels/x86/avx2_gemm_driver.h"
#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/avx2_kernels.h"

namespace foundry::x86::avx2 {
namespace {

// One 8-lane accumulator: each block's integer lane sums times d_x*d_y, fused into it in block
// order, then a horizontal sum. This is llama.cpp's order (ggml_vec_dot_* and tinyBLAS alike),
// which greedy decoding needs to follow it token for token.
template <typename BlockX, typename BlockY, typename BlockDot>
inline float DotBlocks32(int64_t nb, const BlockX* x, const BlockY* y, BlockDot dot) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const float d = HalfToFloat(x[i].d) * HalfToFloat(y[i].d);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(dot(x[i], y[i])), acc);
  }
  return HsumPs(acc);
}

// The weights of one Q4_0 block as signed bytes, for DotI8.
inline __m256i SignedQ4_0(const BlockQ4_0& x) {
  return _mm256_sub_epi8(UnpackNibbles16(x.qs), _mm256_set1_epi8(8));
}

}  // namespace

float VecDotQ4_0Q8_0(int64_t n, const void* w, const void* a) {
  return DotBlocks32(
      n / kQK8_0, static_cast<const BlockQ4_0*>(w), static_cast<const BlockQ8_0*>(a),
      [](const BlockQ4_0& x, const BlockQ8_0& y) { return DotI8(SignedQ4_0(x), Load256(y.qs)); });
}

float VecDotQ4_1Q8_1(int64_t n, const void* w, const void* a) {
  const BlockQ4_1* x = static_cast<const BlockQ4_1*>(w);
  const BlockQ8_1* y = static_cast<const BlockQ8_1*>(a);
  const int64_t nb = n / kQK8_1;
  float summs = 0.0f;
  for (int64_t i = 0; i < nb; ++i) summs += HalfToFloat(x[i].m) * HalfToFloat(y[i].s);
  return DotBlocks32(nb, x, y,
                     [](const BlockQ4_1& xb, const BlockQ8_1& yb) {
                       return DotU8I8(UnpackNibbles16(xb.qs), Load256(yb.qs));
                     }) +
         summs;
}

namespace {

// The leading pair of f16 scales of a block (Q4_1: d and m; Q8_1: d and s) as 32 bits.
template <typename Block>
inline int32_t ScalePair(const Block& blk) {
  int32_t pair;
  std::memcpy(&pair, &blk, sizeof(pair));
  return pair;
}

// VecDotQ4_1Q8_1 over a tile of 2 rows x 4 tokens: the same per-output operations (one 8-lane
// accumulator fused in block order, the summs in block order, then HsumPs(acc) + summs), but
// each weight block is unpacked once for 4 tokens and the 8 independent accumulators hide the
// FMA latency that bounds a single dot product.
// One tile of GemmQ4_1Q8_1: rows x[0..1] times tokens q[0..3].
inline void TileQ4_1Q8_1(int64_t nb, const BlockQ4_1* const* x, const BlockQ8_1* const* q, float* y,
                         int64_t ldy) {
  constexpr int kR = 2, kT = 4;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[kR][kT];
  for (int i = 0; i < kR; ++i) {
    for (int j = 0; j < kT; ++j) acc[i][j] = _mm256_setzero_ps();
  }
  // Row i's summs, token j in lane 2j + 1 (mul then add, as the scalar loop; even lanes unused).
  __m256 summs[kR] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
  for (int64_t b = 0; b < nb; ++b) {
    // Lanes 2j and 2j + 1: token j's d_y and s_y.
    const __m256 yds = _mm256_cvtph_ps(_mm_setr_epi32(ScalePair(q[0][b]), ScalePair(q[1][b]),
                                                      ScalePair(q[2][b]), ScalePair(q[3][b])));
    for (int i = 0; i < kR; ++i) {
      // Lanes 2j and 2j + 1: d_x * d_y(token j) and m_x * s_y(token j), the scalar products.
      const __m256 prod = _mm256_mul_ps(_mm256_cvtph_ps(_mm_set1_epi32(ScalePair(x[i][b]))), yds);
      summs[i] = _mm256_add_ps(summs[i], prod);
      const __m256i u = UnpackNibbles16(x[i][b].qs);
      alignas(32) float pf[8];
      _mm256_store_ps(pf, prod);
      for (int j = 0; j < kT; ++j) {
        const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(u, Load256(q[j][b].qs)), ones);
        const __m256 d = _mm256_broadcast_ss(pf + 2 * j);
        acc[i][j] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc[i][j]);
      }
    }
  }
  for (int i = 0; i < kR; ++i) {
    alignas(32) float sm[2 * kT];
    _mm256_store_ps(sm, summs[i]);
    for (int j = 0; j < kT; ++j) y[j * ldy + i] = HsumPs(acc[i][j]) + sm[2 * j + 1];
  }
}

// One tile of 4 rows x[0..3] times one token q, for decoding: four independent accumulators
// (and summs lanes) in flight instead of one dependent chain per row. The eight scale products
// come from one f16 conversion and one multiplication: lanes 2i and 2i + 1 hold row i's
// d_x * d_y and m_x * s_y, each rounded as the scalar product. Each row's d product reaches
// its FMA as a broadcast from memory, which measured faster than a cross-lane permute.
inline void TileQ4_1Q8_1Rows4(int64_t nb, const BlockQ4_1* const* x, const BlockQ8_1* q, float* y,
                              const char* ahead) {
  constexpr int kR = 4;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[kR];
  for (int i = 0; i < kR; ++i) acc[i] = _mm256_setzero_ps();
  __m256 summs = _mm256_setzero_ps();  // lane 2i + 1: row i (the even lanes go unused)
  for (int64_t b = 0; b < nb; ++b) {
    PrefetchAhead<kR * sizeof(BlockQ4_1)>(ahead, b);
    const __m256 xdm = _mm256_cvtph_ps(_mm_setr_epi32(ScalePair(x[0][b]), ScalePair(x[1][b]),
                                                      ScalePair(x[2][b]), ScalePair(x[3][b])));
    const __m256 yds = _mm256_cvtph_ps(_mm_set1_epi32(ScalePair(q[b])));
    const __m256 prod = _mm256_mul_ps(xdm, yds);
    summs = _mm256_add_ps(summs, prod);
    const __m256i qy = Load256(q[b].qs);
    alignas(32) float pf[8];
    _mm256_store_ps(pf, prod);
    const auto step = [&]<int i>() {
      const __m256i p =
          _mm256_madd_epi16(_mm256_maddubs_epi16(UnpackNibbles16(x[i][b].qs), qy), ones);
      const __m256 d = _mm256_broadcast_ss(pf + 2 * i);
      acc[i] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc[i]);
    };
    step.template operator()<0>();
    step.template operator()<1>();
    step.template operator()<2>();
    step.template operator()<3>();
  }
  alignas(32) float sm[2 * kR];
  _mm256_store_ps(sm, summs);
  for (int i = 0; i < kR; ++i) y[i] = HsumPs(acc[i]) + sm[2 * i + 1];
}

}  // namespace

void GemmQ4_1Q8_1(const GemmArgs& g) {
  PlainTiles<BlockQ4_1, BlockQ8_1, decltype(&TileQ4_1Q8_1)> tiles(TileQ4_1Q8_1);
  GemmTiles<BlockQ4_1, BlockQ8_1, kQK8_1, 2, 4>(g, tiles, TileQ4_1Q8_1Rows4, VecDotQ4_1Q8_1);
}

namespace {

// 32 bytes, byte j = 0xFF where bit j of the little-endian 32-bit word at p is set.
inline __m256i BitsToBytes32(const uint8_t* p) {
  uint32_t bits;
  __builtin_memcpy(&bits, p, 4);
  // Byte j of the broadcast word goes to bytes 8j..8j+7, then each byte keeps its own bit.
  const __m256i spread =
      _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)),
                          _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2,
                                           2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

// q - 16 as a signed byte: the nibble, with 0xF0 or-ed in where the fifth bit is clear.
inline __m256i SignedQ5_0(const BlockQ5_0& x) {
  const __m256i high =
      _mm256_andnot_si256(BitsToBytes32(x.qh), _mm256_set1_epi8(static_cast<char>(0xF0)));
  return _mm256_or_si256(UnpackNibbles16(x.qs), high);
}

inline __m256i SignedQ8_0(const BlockQ8_0& x) { return Load256(x.qs); }

}  // namespace

float VecDotQ5_0Q8_0(int64_t n, const void* w, const void* a) {
  return DotBlocks32(
      n / kQK8_0, static_cast<const BlockQ5_0*>(w), static_cast<const BlockQ8_0*>(a),
      [](const BlockQ5_0& x, const BlockQ8_0& y) { return DotI8(SignedQ5_0(x), Load256(y.qs)); });
}

// x = d * q + m, q in 0..31: the Q4_1 order (llama.cpp's ggml_vec_dot_q5_1_q8_1) with the
// fifth bits or-ed in.
float VecDotQ5_1Q8_1(int64_t n, const void* w, const void* a) {
  const BlockQ5_1* x = static_cast<const BlockQ5_1*>(w);
  const BlockQ8_1* y = static_cast<const BlockQ8_1*>(a);
  const int64_t nb = n / kQK8_1;
  float summs = 0.0f;
  for (int64_t i = 0; i < nb; ++i) summs += HalfToFloat(x[i].m) * HalfToFloat(y[i].s);
  return DotBlocks32(
             nb, x, y,
             [](const BlockQ5_1& xb, const BlockQ8_1& yb) {
               const __m256i fifth = _mm256_and_si256(BitsToBytes32(xb.qh), _mm256_set1_epi8(0x10));
               return DotU8I8(_mm256_or_si256(UnpackNibbles16(xb.qs), fifth), Load256(yb.qs));
             }) +
         summs;
}

float VecDotQ8_0Q8_0(int64_t n, const void* w, const void* a) {
  return DotBlocks32(
      n / kQK8_0, static_cast<const BlockQ8_0*>(w), static_cast<const BlockQ8_0*>(a),
      [](const BlockQ8_0& x, const BlockQ8_0& y) { return DotI8(SignedQ8_0(x), Load256(y.qs)); });
}

namespace {

// Four f16 scales as floats, repeated in both 128-bit halves, so that an in-lane shuffle
// broadcasts any one of them to all eight lanes.
inline __m256 FourHalves(uint16_t h0, uint16_t h1, uint16_t h2, uint16_t h3) {
  const uint64_t packed = h0 | static_cast<uint64_t>(h1) << 16 | static_cast<uint64_t>(h2) << 32 |
                          static_cast<uint64_t>(h3) << 48;
  const __m128 f = _mm_cvtph_ps(_mm_cvtsi64_si128(static_cast<int64_t>(packed)));
  return _mm256_setr_m128(f, f);
}

// Lane j of each half of v (both halves equal) in all eight lanes.
template <int j>
inline __m256 BroadcastLane(__m256 v) {
  return _mm256_shuffle_ps(v, v, j * 0x55);
}

// acc[j] += d(j) * cvt(madd(maddubs(ax, sign(q_j, xi)), 1)) for the four lanes j of the scale
// products d, the inner step of DotBlocks32 for one weight block against four activation
// blocks, or four weight blocks against one.
template <int j>
inline void Blocks32Step(__m256i ax, __m256i xi, const int8_t* q, __m256 d, __m256& acc) {
  const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(Load256(q), xi)),
                                      _mm256_set1_epi16(1));
  acc = _mm256_fmadd_ps(BroadcastLane<j>(d), _mm256_cvtepi32_ps(p), acc);
}

// DotBlocks32 over a tile of kR rows x 4 tokens, weights and activations both as Q8_0 blocks
// and their scales as floats (dx[i][b]; dy[b * kTokensPerGroup + j]): every output gets its
// own accumulator and exactly DotBlocks32's operations in its order (the scale products come
// four at a time from one multiplication, which rounds each exactly as the scalar one), while
// each weight block's absolute value is taken once for four tokens and 4 * kR independent
// chains hide the FMA latency.
// The activations' bytes come block-major (qs + (b * kTokensPerGroup + j) * 32), so that one
// pointer with constant offsets reaches all four tokens.
template <int kR>
inline void TileBlocks32(int64_t nb, const BlockQ8_0* const* x, const float* const* dx,
                         const int8_t* qs, const float* dy, float* y, int64_t ldy) {
  __m256 acc[kR][4];
  for (int i = 0; i < kR; ++i) {
    for (int j = 0; j < 4; ++j) acc[i][j] = _mm256_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
    const __m256 dy4 =
        _mm256_broadcast_ps(reinterpret_cast<const __m128*>(dy + b * kTokensPerGroup));
    const int8_t* qb = qs + b * kTokensPerGroup * 32;
    for (int i = 0; i < kR; ++i) {
      const __m256i xi = Load256(x[i][b].qs);
      const __m256i ax = _mm256_sign_epi8(xi, xi);
      const __m256 d = _mm256_mul_ps(_mm256_broadcast_ss(dx[i] + b), dy4);
      Blocks32Step<0>(ax, xi, qb, d, acc[i][0]);
      Blocks32Step<1>(ax, xi, qb + 32, d, acc[i][1]);
      Blocks32Step<2>(ax, xi, qb + 64, d, acc[i][2]);
      Blocks32Step<3>(ax, xi, qb + 96, d, acc[i][3]);
    }
  }
  for (int i = 0; i < kR; ++i) {
    for (int j = 0; j < 4; ++j) y[j * ldy + i] = HsumPs(acc[i][j]);
  }
}

// The decoding tile: four rows against one token, the four scale products again from one
// multiplication.
template <typename BlockW, __m256i (*sign)(const BlockW&)>
inline void TileBlocks32Rows4(int64_t nb, const BlockW* const* x, const BlockQ8_0* q, float* y,
                              const char* ahead) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  for (int64_t b = 0; b < nb; ++b) {
    PrefetchAhead<4 * sizeof(BlockW)>(ahead, b);
    const __m256 d = _mm256_mul_ps(FourHalves(x[0][b].d, x[1][b].d, x[2][b].d, x[3][b].d),
                                   _mm256_set1_ps(HalfToFloat(q[b].d)));
    const __m256i qy = Load256(q[b].qs);
    const auto step = [&]<int i>() {
      const __m256i xi = sign(x[i][b]);
      const __m256i p = _mm256_madd_epi16(
          _mm256_maddubs_epi16(_mm256_sign_epi8(xi, xi), _mm256_sign_epi8(qy, xi)),
          _mm256_set1_epi16(1));
      acc[i] = _mm256_fmadd_ps(BroadcastLane<i>(d), _mm256_cvtepi32_ps(p), acc[i]);
    };
    step.template operator()<0>();
    step.template operator()<1>();
    step.template operator()<2>();
    step.template operator()<3>();
  }
  for (int i = 0; i < 4; ++i) y[i] = HsumPs(acc[i]);
}

// The tiles of a 32-element-block gemm over one token group (see GemmTiles). The group's
// activation scales are converted to floats once, block-major so that a tile loads four at a
// time; each pair of rows has its scales converted once per group too, and packed weights
// (Q4_0, Q5_0) are unpacked into Q8_0 blocks, the same signed bytes: unpacking a Q5_0 block
// costs more than its share of the arithmetic for four tokens.
constexpr int64_t kPanelMaxBlocks = 512;  // rows of up to 16384 elements: 330 KiB of stack

template <typename BlockW, typename Unpack>
class Blocks32Tiles {
 public:
  static constexpr int kR = 2;

  void BeginGroup(const BlockQ8_0* const* q, int64_t n, int64_t nb) {
    for (int64_t b = 0; b < nb; ++b) {
      for (int64_t j = 0; j < n; ++j) {
        dy_[b * kTokensPerGroup + j] = HalfToFloat(q[j][b].d);
        std::memcpy(qs_ + (b * kTokensPerGroup + j) * 32, q[j][b].qs, 32);
      }
    }
  }

  void BeginRows(const BlockW* const* x, int64_t nb) {
    for (int i = 0; i < kR; ++i) {
      for (int64_t b = 0; b < nb; ++b) dx_[i][b] = HalfToFloat(x[i][b].d);
      if constexpr (std::is_same_v<BlockW, BlockQ8_0>) {
        rows_[i] = x[i];
      } else {
        for (int64_t b = 0; b < nb; ++b) {
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(blocks_[i][b].qs), Unpack{}(x[i][b]));
        }
        rows_[i] = blocks_[i];
      }
    }
  }

  void Run(int64_t nb, int64_t t, float* y, int64_t ldy) {
    const float* dx[kR];
    for (int i = 0; i < kR; ++i) dx[i] = dx_[i];
    TileBlocks32<kR>(nb, rows_, dx, qs_ + t * 32, dy_ + t, y, ldy);
  }

 private:
  struct NoBlocks {};
  using Blocks = std::conditional_t<std::is_same_v<BlockW, BlockQ8_0>, NoBlocks,
                                    BlockQ8_0[kR][kPanelMaxBlocks]>;
  alignas(32) int8_t qs_[kPanelMaxBlocks * kTokensPerGroup * 32];  // the group's activations
  alignas(32) float dy_[kPanelMaxBlocks * kTokensPerGroup];
  float dx_[kR][kPanelMaxBlocks];
  Blocks blocks_;
  const BlockQ8_0* rows_[kR] = {};
};

template <typename BlockW, __m256i (*sign)(const BlockW&)>
inline void GemmBlocks32(const GemmArgs& g, VecDotFn vec_dot) {
  const auto rows4 = TileBlocks32Rows4<BlockW, sign>;
  if (g.n_tokens >= 4 && g.n / kQK8_0 <= kPanelMaxBlocks) {
    const auto unpack = [](const BlockW& x) { return sign(x); };
    Blocks32Tiles<BlockW, decltype(unpack)> tiles;
    GemmTiles<BlockW, BlockQ8_0, kQK8_0, Blocks32Tiles<BlockW, decltype(unpack)>::kR, 4>(
        g, tiles, rows4, vec_dot);
    return;
  }
  // Rows too long for the tiles' tables: the decoding tiles, token after token.
  GemmRows4<BlockW, BlockQ8_0, kQK8_0>(g, rows4, vec_dot);
}

}  // namespace

void GemmQ4_0Q8_0(const GemmArgs& g) { GemmBlocks32<BlockQ4_0, SignedQ4_0>(g, VecDotQ4_0Q8_0); }

void GemmQ5_0Q8_0(const GemmArgs& g) { GemmBlocks32<BlockQ5_0, SignedQ5_0>(g, VecDotQ5_0Q8_0); }

void GemmQ8_0Q8_0(const GemmArgs& g) { GemmBlocks32<BlockQ8_0, SignedQ8_0>(g, VecDotQ8_0Q8_0); }

}  // namespace foundry::x86::avx2

#endif  // defined(__x86_64__)
