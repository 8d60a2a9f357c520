// Q6_K decoding on AVX-512. Decoding reads every weight once, so this is about keeping up with
// memory: the AVX2 kernel's unpacking and scale shuffles per 32 values kept Q6_K decoding below
// the bandwidth the Q4_K paths reach.
// * The file's layout (matrices not repacked: a tied output, a row count not a multiple of 8):
//   two rows per 512-bit register, one per 256-bit half, against the same activations in both
//   halves; VNNI's vpdpwssd applies the scales and accumulates in one step.
// * Repacked by the AVX2 repack_rows8 (k_rows8_layout.h): a group's eight rows per register,
//   vpdpbusd giving each row's sums of four products, read as one ascending stream.
//
// Every output keeps the K-quant order of every ISA (ref::VecDotQ6_KQ8_K: per super-block the
// exact integer total, then fma(d * total, y.d, acc)): bit for bit the AVX2 kernels.
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/quant_blocks.h"
#include "kernels/x86/avx2_gemm_driver.h"
#include "kernels/x86/avx2_kernels.h"
#include "kernels/x86/avx512_helpers.h"
#include "kernels/x86/avx512_kernels.h"
#include "kernels/x86/k_rows8_layout.h"







namespace foundry::x86::avx512 {
namespace {

// Rows x[0] and x[1] times token q over nb super-blocks: y[0], y[1]. `ahead`: see
// PrefetchAhead (avx2_gemm_driver.h).
inline void Rows2(int64_t nb, const BlockQ6_K* const* x, const BlockQ8_K* q, float* y,
                  const char* ahead) {
  const __m512i m4 = _mm512_set1_epi8(0x0F), m2 = _mm512_set1_epi8(0x03);
  // Per 128-bit lane: the int16 scale 2k (lanes 0, 2) or 2k + 1 (lanes 1, 3) of a half's eight,
  // in all eight int16 slots.
  __m512i pick[4];
  for (int k = 0; k < 4; ++k) {
    const auto pair = [](int s) {
      return static_cast<int64_t>(0x0101010101010101LL * (2 * s)) +
             static_cast<int64_t>(0x0100010001000100LL);
    };
    pick[k] = _mm512_set_epi64(pair(2 * k + 1), pair(2 * k + 1), pair(2 * k), pair(2 * k),
                               pair(2 * k + 1), pair(2 * k + 1), pair(2 * k), pair(2 * k));
  }
  float acc0 = 0.0f, acc1 = 0.0f;
  for (int64_t b = 0; b < nb; ++b) {
    PrefetchAhead<2 * sizeof(BlockQ6_K)>(ahead, b);
    const BlockQ6_K& x0 = x[0][b];
    const BlockQ6_K& x1 = x[1][b];
    const BlockQ8_K& qb = q[b];
    const __m256i sc0 = _mm256_cvtepi8_epi16(Load128(x0.scales));
    const __m256i sc1 = _mm256_cvtepi8_epi16(Load128(x1.scales));
    const __m512i sc = Join(sc0, sc1);
    // Start from -32 * scales . bsums (the values are stored as q + 32).
    const __m512i bsums = _mm512_broadcast_i64x4(Load256(qb.bsums));
    __m512i sum = _mm512_sub_epi32(_mm512_setzero_si512(),
                                   _mm512_slli_epi32(_mm512_madd_epi16(sc, bsums), 5));
    // Per half h, lanes [row 0 scales 8h..8h+7, the same, row 1's, the same].
    const __m512i halves[2] = {_mm512_shuffle_i64x2(sc, sc, _MM_SHUFFLE(2, 2, 0, 0)),
                               _mm512_shuffle_i64x2(sc, sc, _MM_SHUFFLE(3, 3, 1, 1))};
    for (int h = 0; h < 2; ++h) {
      const __m512i ql0 = Join(Load256(x0.ql + 64 * h), Load256(x1.ql + 64 * h));
      const __m512i ql1 = Join(Load256(x0.ql + 64 * h + 32), Load256(x1.ql + 64 * h + 32));
      const __m512i qh = Join(Load256(x0.qh + 32 * h), Load256(x1.qh + 32 * h));
      const __m512i lo[4] = {_mm512_and_si512(ql0, m4), _mm512_and_si512(ql1, m4),
                             _mm512_and_si512(_mm512_srli_epi16(ql0, 4), m4),
                             _mm512_and_si512(_mm512_srli_epi16(ql1, 4), m4)};
      const __m512i half = halves[h];
      for (int k = 0; k < 4; ++k) {
        const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(qh, 2 * k), m2);
        const __m512i w = _mm512_or_si512(lo[k], _mm512_slli_epi16(hi, 4));
        const __m512i a = _mm512_broadcast_i64x4(Load256(qb.qs + 128 * h + 32 * k));
        sum = _mm512_dpwssd_epi32(sum, _mm512_maddubs_epi16(w, a),
                                  _mm512_shuffle_epi8(half, pick[k]));
      }
    }
    const int t0 = HsumEpi32(_mm512_castsi512_si256(sum));
    const int t1 = HsumEpi32(_mm512_extracti64x4_epi64(sum, 1));
    acc0 = __builtin_fmaf(HalfToFloat(x0.d) * static_cast<float>(t0), qb.d, acc0);
    acc1 = __builtin_fmaf(HalfToFloat(x1.d) * static_cast<float>(t1), qb.d, acc1);
  }
  y[0] = acc0;
  y[1] = acc1;
}

inline void Rows4(int64_t nb, const BlockQ6_K* const* x, const BlockQ8_K* q, float* y,
                  const char* ahead) {
  Rows4AsPairs(nb, x, q, y, ahead, Rows2);
}

// Repacked (k_rows8_layout.h): a group's eight rows times token q over nb super-blocks, y[0..7].
// A 512-bit register holds two consecutive chunks of four values of the eight rows (lanes 0-7
// chunk c, 8-15 chunk c + 1), so one vpdpbusd against the two chunks' activation words (each
// broadcast to its half) gives each row's sums of four products; a sub-block's two registers
// of sums, halves added, are scaled lane by lane.
inline void Group(int64_t nb, const GroupBlockQ6_K* g, const BlockQ8_K* q, float* y) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const GroupBlockQ6_K& gb = g[b];
    const BlockQ8_K& qb = q[b];
    // Lanes 0-7: rows' totals of even sub-blocks, 8-15: odd ones.
    __m512i total = _mm512_setzero_si512();
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        __m512i sums[2];  // sub-blocks 8h + 2k + u: lanes 0-7 + lanes 8-15
#pragma GCC unroll 2
        for (int u = 0; u < 2; ++u) {
          // Start from -32 * the activations' sum (the values are stored as q + 32).
          sums[u] = _mm512_maskz_set1_epi32(0x00FF, -32 * qb.bsums[8 * h + 2 * k + u]);
#pragma GCC unroll 2
          for (int c = 4 * u; c < 4 * u + 4; c += 2) {
            const GroupHalfQ6_K& half = gb.half[h];
            const __m512i ql = Load512(k % 2 == 0 ? half.ql_qh[c / 2][0][0] : half.ql_odd[c]);
            const __m512i qh = Load512(half.ql_qh[c / 2][1][0]);
            __m512i hi;  // bits 2k, 2k + 1 of each qh byte at bits 4, 5
            switch (k) {
              case 0: hi = _mm512_slli_epi16(qh, 4); break;
              case 1: hi = _mm512_slli_epi16(qh, 2); break;
              case 2: hi = qh; break;
              default: hi = _mm512_srli_epi16(qh, 2);
            }
            hi = _mm512_and_si512(hi, _mm512_set1_epi8(0x30));
            const __m512i lo = k < 2 ? ql : _mm512_srli_epi16(ql, 4);
            // (lo & 0x0F) | hi
            const __m512i w = _mm512_ternarylogic_epi32(lo, m4, hi, 0xEA);
            const int8_t* a = qb.qs + 128 * h + 32 * k + 4 * c;
            int32_t a0, a1;
            std::memcpy(&a0, a, 4);
            std::memcpy(&a1, a + 4, 4);
            const __m512i act = _mm512_mask_set1_epi32(_mm512_set1_epi32(a0), 0xFF00, a1);
            sums[u] = _mm512_dpbusd_epi32(sums[u], w, act);
          }
        }
        // [sub-block 2k's halves added | 2k + 1's], times the rows' scales of the two.
        const __m512i lo = _mm512_shuffle_i64x2(sums[0], sums[1], _MM_SHUFFLE(1, 0, 1, 0));
        const __m512i hi = _mm512_shuffle_i64x2(sums[0], sums[1], _MM_SHUFFLE(3, 2, 3, 2));
        const __m512i scales = _mm512_cvtepi8_epi32(Load128(gb.scales[8 * h + 2 * k]));
        total = _mm512_add_epi32(total, _mm512_mullo_epi32(_mm512_add_epi32(lo, hi), scales));
      }
    }
    const __m256i t = _mm256_add_epi32(_mm512_castsi512_si256(total),
                                       _mm512_extracti64x4_epi64(total, 1));
    acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtph_ps(Load128(gb.d)), _mm256_cvtepi32_ps(t)),
                          _mm256_set1_ps(qb.d), acc);
  }
  _mm256_storeu_ps(y, acc);
}

}  // namespace

void GemmQ6_KDecode(const GemmArgs& g) {
  GemmRows4<BlockQ6_K, BlockQ8_K, kQK_K>(g, Rows4, avx2::VecDotQ6_KQ8_K);
}

void GemmQ6_KRows8Decode(const GemmArgs& g) {
  if (g.n_tokens != 1) {  // a few tokens: AVX2's tiles of four share each block's unpacking
    avx2::GemmQ6_KRows8Repacked(g);
    return;
  }
  const auto* w = static_cast<const uint8_t*>(g.w);
  for (int64_t i = 0; i < g.n_rows / 8; ++i) {
    Group(g.n / kQK_K, reinterpret_cast<const GroupBlockQ6_K*>(w + i * 8 * g.w_stride),
          static_cast<const BlockQ8_K*>(g.a), g.y + 8 * i);
  }
}

}  // namespace foundry::x86::avx512

#endif  // defined(__x86_64__)
