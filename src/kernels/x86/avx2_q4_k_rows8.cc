// Q4_K weights repacked at load into groups of 8 interleaved rows (TypeTraits::repack_rows8) and
// their AVX2 gemm (TypeTraits::gemm_repacked8), in the K-quant order (ref::VecDotQ4_KQ8_K) for
// any number of tokens. The integers are the plain layout's, so every output is bit for bit what
// the file's layout gives.
//
// Why: with one row per register every block costs a horizontal sum per output and its scales
// are unpacked and broadcast row by row. With the eight rows of a group in the eight int32 lanes,
// a register of weights serves eight outputs at once, the six-bit scales of eight rows unpack in
// a few vector operations, and an output's integer total is already in its lane.
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/quant_blocks.h"
#include "kernels/x86/avx2_gemm_driver.h"
#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/avx2_k_rows8.h"
#include "kernels/x86/avx2_kernels.h"
#include "kernels/x86/k_rows8_layout.h"

namespace foundry::x86::avx2 {
namespace {

// Chunk c of sub-blocks 2s (lo: low nibbles) and 2s+1 (hi: high nibbles) of the eight rows.
inline void Nibbles(const GroupBlockQ4_K& g, int s, int c, __m256i* lo, __m256i* hi) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i v = Load256(g.qs[8 * s + c]);
  *lo = _mm256_and_si256(v, m4);
  *hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
}

// The integer sums of the 64 elements of sub-blocks 2s and 2s+1 for eight rows (lane r) and kT
// tokens, each sub-block's dot product times its scale.
template <int kT>
inline void PairTotals(const GroupBlockQ4_K& g, int s, const BlockQ8_K* const* q, int64_t b,
                       __m256i scale_lo, __m256i scale_hi, __m256i* totals) {
  __m256i lo[kT], hi[kT];
  for (int j = 0; j < kT; ++j) lo[j] = hi[j] = _mm256_setzero_si256();
  // Eight chunks of four elements; int16 sums stay below 8 * 2 * 15 * 128 = 30720, so the
  // saturating add never saturates. It is there because it is not associative: with plain adds
  // GCC computes all 64 products of a step first, spills them and sums them as a tree, which
  // made the 64-token gemm 1.27x slower (120 vs 93 ms CPU, kernels_bench, AMD EPYC Zen 5).
  for (int c = 0; c < 8; ++c) {
    __m256i vl, vh;
    Nibbles(g, s, c, &vl, &vh);
    for (int j = 0; j < kT; ++j) {
      const int8_t* q8 = q[j][b].qs + 64 * s + 4 * c;
      lo[j] = _mm256_adds_epi16(lo[j], _mm256_maddubs_epi16(vl, Broadcast4(q8)));
      hi[j] = _mm256_adds_epi16(hi[j], _mm256_maddubs_epi16(vh, Broadcast4(q8 + 32)));
    }
  }
  for (int j = 0; j < kT; ++j) {
    totals[j] = _mm256_add_epi32(_mm256_madd_epi16(lo[j], scale_lo),
                                 _mm256_madd_epi16(hi[j], scale_hi));
  }
}

// Eight rows x kT tokens over nb blocks of group g: per block each output's integer totals, then
// res = d * total - dmin * mins, acc = fma(res, y.d, acc).
template <int kT>
inline void TileRows8(int64_t nb, const GroupBlockQ4_K* g, const BlockQ8_K* const* q, float* y,
                      int64_t ldy) {
  __m256 acc[kT];
  for (int j = 0; j < kT; ++j) acc[j] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const GroupBlockQ4_K& gb = g[b];
    __m256i sc[2], mn[2];
    UnpackScales8(gb.scales, sc, mn);
    int32_t pairs[kT][4];
    for (int j = 0; j < kT; ++j) BsumPairs(q[j][b], pairs[j]);
    __m256i block[kT], block_m[kT];
    for (int j = 0; j < kT; ++j) block[j] = block_m[j] = _mm256_setzero_si256();
    for (int s = 0; s < 4; ++s) {
      __m256i totals[kT];
      PairTotals<kT>(gb, s, q, b, SubBlockScale(sc, 2 * s), SubBlockScale(sc, 2 * s + 1), totals);
      // mins[2s] * pair sums of 2s + mins[2s+1] * those of 2s+1, per row.
      const __m256i mins = MinsPair(mn, s);
      for (int j = 0; j < kT; ++j) {
        block[j] = _mm256_add_epi32(block[j], totals[j]);
        block_m[j] = _mm256_add_epi32(
            block_m[j], _mm256_madd_epi16(mins, _mm256_set1_epi32(pairs[j][s])));
      }
    }
    const __m256 xd = _mm256_cvtph_ps(Load128(gb.d));
    const __m256 neg_xdmin = _mm256_xor_ps(_mm256_cvtph_ps(Load128(gb.dmin)), _mm256_set1_ps(-0.0f));
    for (int j = 0; j < kT; ++j) {
      const __m256 res = _mm256_fmadd_ps(neg_xdmin, _mm256_cvtepi32_ps(block_m[j]),
                                         _mm256_mul_ps(xd, _mm256_cvtepi32_ps(block[j])));
      acc[j] = _mm256_fmadd_ps(res, _mm256_set1_ps(q[j][b].d), acc[j]);
    }
  }
  for (int j = 0; j < kT; ++j) _mm256_storeu_ps(y + j * ldy, acc[j]);
}

inline void UnpackBlock(const GroupBlockQ4_K& g, UnpackedWithMins* u) {
  UnpackScalesAndMins(g, u);
  for (int s = 0; s < 4; ++s) {
    for (int c = 0; c < 8; ++c) Nibbles(g, s, c, &u->values[s][c][0], &u->values[s][c][1]);
  }
}

}  // namespace

void RepackQ4_KRows8(int64_t n, const void* src, size_t src_stride, int64_t n_rows, void* dst) {
  RepackRows8<BlockQ4_K, GroupBlockQ4_K>(
      n, src, src_stride, n_rows, dst, [](const BlockQ4_K& x, int r, GroupBlockQ4_K& g) {
        g.d[r] = x.d;
        g.dmin[r] = x.dmin;
        for (int k = 0; k < 3; ++k) std::memcpy(&g.scales[k][r], x.scales + 4 * k, 4);
        for (int c = 0; c < 32; ++c) std::memcpy(g.qs[c][r], x.qs + 4 * c, 4);
      });
}

void GemmQ4_KRows8Repacked(const GemmArgs& g) {
  GemmRepackedRows8<GroupBlockQ4_K, UnpackedWithMins>(
      g, [](const GroupBlockQ4_K& gb, UnpackedWithMins* u) { UnpackBlock(gb, u); },
      [](auto tokens, const auto&... args) {
        BlockTileWithMins<8, decltype(tokens)::value>(args...);
      },
      [](auto tokens, auto... args) { TileRows8<decltype(tokens)::value>(args...); });
}

}  // namespace foundry::x86::avx2

#endif  // defined(__x86_64__)
