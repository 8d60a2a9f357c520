// The K-quant gemms of prompts on AVX-512 VNNI: weights unpacked into panels of 16 rows, then
// multiplied as outer products. Every output keeps the K-quant order of every ISA
// (ref::VecDotQ4_KQ8_K: a float step per super-block on its exact integer totals), so the results
// are bit for bit those of vec_dot, for any number of tokens.
//
// A panel holds, per super-block, the weights as unsigned bytes in groups of four consecutive
// values, the 16 rows' groups side by side (64 bytes: one register), and each sub-block's scales
// (and Q4_K/Q5_K mins) as 16 int32 lanes, one per row. One vpdpbusd then multiplies four values
// of 16 rows by the same four activations of one token (broadcast), so the 16 lanes are 16 rows'
// sums: no horizontal sums, and each sub-block's scales apply lane by lane. Unpacking costs about
// what a few tokens' products do, hence only for prompts (kPanelMinTokens).
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/quant_blocks.h"
#include "kernels/x86/avx2_kernels.h"
#include "kernels/x86/avx512_helpers.h"
#include "kernels/x86/avx512_kernels.h"
#include "kernels/x86/k_rows8_layout.h"

namespace foundry::x86::avx512 {
namespace {

constexpr int kPanelRows = 16;
constexpr int kGroups = kQK_K / 4;  // groups of four values per super-block

// The 16 x 16 int32 matrix in v transposed in place (v[r] lane c <-> v[c] lane r).
inline void Transpose16x16(__m512i v[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(v[i], v[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(v[i], v[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    v[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    v[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    v[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    v[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  // Now v[4a + b] holds, in each 128-bit lane L, rows 4a..4a+3 of column 4L + b.
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_i32x4(v[i], v[i + 4], _MM_SHUFFLE(2, 0, 2, 0));
    t[i + 4] = _mm512_shuffle_i32x4(v[i], v[i + 4], _MM_SHUFFLE(3, 1, 3, 1));
    t[i + 8] = _mm512_shuffle_i32x4(v[i + 8], v[i + 12], _MM_SHUFFLE(2, 0, 2, 0));
    t[i + 12] = _mm512_shuffle_i32x4(v[i + 8], v[i + 12], _MM_SHUFFLE(3, 1, 3, 1));
  }
  for (int i = 0; i < 4; ++i) {
    v[i] = _mm512_shuffle_i32x4(t[i], t[i + 8], _MM_SHUFFLE(2, 0, 2, 0));
    v[i + 8] = _mm512_shuffle_i32x4(t[i], t[i + 8], _MM_SHUFFLE(3, 1, 3, 1));
    v[i + 4] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], _MM_SHUFFLE(2, 0, 2, 0));
    v[i + 12] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], _MM_SHUFFLE(3, 1, 3, 1));
  }
}

// Per type: Values(x, out) writes a super-block's 256 values as unsigned bytes in order (Q6_K:
// q + 32), Scales(x, sc, mn) its sub-block scales (and mins) as ints.
struct Q6Panel {
  using Block = BlockQ6_K;
  static constexpr int kSubs = 16;  // sub-blocks of 16 values
  static constexpr bool kMins = false;
  static void Values(const Block& x, uint8_t out[kQK_K]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = Load256(x.ql + 64 * h), ql1 = Load256(x.ql + 64 * h + 32);
      const __m256i qh = Load256(x.qh + 32 * h);
      const __m256i lo[4] = {_mm256_and_si256(ql0, m4), _mm256_and_si256(ql1, m4),
                             _mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                             _mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4)};
      for (int k = 0; k < 4; ++k) {
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), m2);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 128 * h + 32 * k),
                            _mm256_or_si256(lo[k], _mm256_slli_epi16(hi, 4)));
      }
    }
  }
  static void Scales(const Block& x, int32_t sc[kSubs], int32_t* /*mn*/) {
    _mm512_storeu_si512(sc, _mm512_cvtepi8_epi32(Load128(x.scales)));
  }
  static float D(const Block& x) { return HalfToFloat(x.d); }
  static float Dmin(const Block& /*x*/) { return 0.0f; }
};

// Q4_K and Q5_K: sub-blocks of 32 values; qs bytes 32j..32j+31 hold values 64j.. (low nibbles)
// and 64j+32.. (high); Q5_K's value 32s + l has its fifth bit in qh[l] bit s.
template <typename BlockW, bool kFive>
struct Q4Panel {
  using Block = BlockW;
  static constexpr int kSubs = 8;
  static constexpr bool kMins = true;
  static void Values(const Block& x, uint8_t out[kQK_K]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int j = 0; j < 4; ++j) {
      const __m256i bits = Load256(x.qs + 32 * j);
      __m256i v[2] = {_mm256_and_si256(bits, m4), _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4)};
      if constexpr (kFive) {
        const __m256i qh = Load256(x.qh);
        for (int k = 0; k < 2; ++k) {
          const __m256i bit = _mm256_set1_epi8(static_cast<char>(1 << (2 * j + k)));
          const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(qh, bit), bit);
          v[k] = _mm256_or_si256(v[k], _mm256_and_si256(set, _mm256_set1_epi8(16)));
        }
      }
      for (int k = 0; k < 2; ++k) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 64 * j + 32 * k), v[k]);
      }
    }
  }
  static void Scales(const Block& x, int32_t sc[kSubs], int32_t mn[kSubs]) {
    uint32_t u[4];
    UnpackScalesMinsK4(x.scales, u);
    const auto* b = reinterpret_cast<const uint8_t*>(u);
    for (int s = 0; s < kSubs; ++s) {
      sc[s] = b[s];
      mn[s] = b[8 + s];
    }
  }
  static float D(const Block& x) { return HalfToFloat(x.d); }
  static float Dmin(const Block& x) { return HalfToFloat(x.dmin); }
};

// 64 bytes, one register's worth (a vector of __m512i would drop its attributes).
struct alignas(64) Lanes {
  int32_t v[16];
  __m512i Int() const { return _mm512_load_si512(v); }
  __m512 Float() const { return _mm512_load_ps(v); }
  void Set(__m512i x) { _mm512_store_si512(v, x); }
  void Set(__m512 x) { _mm512_store_ps(v, x); }
};

// One panel: 16 rows unpacked over the whole row length.
template <typename P>
struct Panel {
  int64_t nb = 0;
  std::vector<Lanes> q;        // [nb][kGroups]: lane r = values 4g..4g+3 of row r
  std::vector<Lanes> scales;   // [nb][kSubs]: lane r = the row's scale
  std::vector<Lanes> mins;     // [nb][kSubs] (Q4_K, Q5_K)
  std::vector<Lanes> d, dmin;  // [nb]: f32 lanes

  explicit Panel(int64_t n_blocks)
      : nb(n_blocks),
        q(static_cast<size_t>(nb * kGroups)),
        scales(static_cast<size_t>(nb * P::kSubs)),
        mins(P::kMins ? static_cast<size_t>(nb * P::kSubs) : 0),
        d(static_cast<size_t>(nb)),
        dmin(static_cast<size_t>(nb)) {}

  // block(r, b): super-block b of the panel's row r (r < 16).
  template <typename BlockOf>
  void Fill(BlockOf block) {
    alignas(64) uint8_t values[kPanelRows][kQK_K];
    alignas(64) int32_t sc[kPanelRows][16] = {};  // Q4_K, Q5_K: lanes 8..15 stay 0
    alignas(64) int32_t mn[kPanelRows][16] = {};
    alignas(64) float dd[kPanelRows], dm[kPanelRows];
    for (int64_t b = 0; b < nb; ++b) {
      for (int r = 0; r < kPanelRows; ++r) {
        const typename P::Block& x = block(r, b);
        P::Values(x, values[r]);
        P::Scales(x, sc[r], mn[r]);
        dd[r] = P::D(x);
        dm[r] = P::Dmin(x);
      }
      Lanes* qb = q.data() + b * kGroups;
      for (int c = 0; c < kGroups / 16; ++c) {  // groups 16c..16c+15
        __m512i v[16];
        for (int r = 0; r < kPanelRows; ++r) v[r] = Load512(values[r] + 64 * c);
        Transpose16x16(v);
        for (int k = 0; k < 16; ++k) qb[16 * c + k].Set(v[k]);
      }
      __m512i v[16];
      for (int r = 0; r < kPanelRows; ++r) v[r] = Load512(sc[r]);
      Transpose16x16(v);
      for (int s = 0; s < P::kSubs; ++s) scales[b * P::kSubs + s].Set(v[s]);
      if constexpr (P::kMins) {
        for (int r = 0; r < kPanelRows; ++r) v[r] = Load512(mn[r]);
        Transpose16x16(v);
        for (int s = 0; s < P::kSubs; ++s) mins[b * P::kSubs + s].Set(v[s]);
      }
      d[b].Set(_mm512_load_ps(dd));
      dmin[b].Set(_mm512_load_ps(dm));
    }
  }
};

inline __m512i Broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm512_set1_epi32(v);
}

// The panel's 16 rows times kT tokens q[j]: y[j * ldy + r].
template <typename P, int kT>
void PanelTile(const Panel<P>& p, const BlockQ8_K* const* q, float* y, int64_t ldy) {
  constexpr int kValuesPerSub = kQK_K / P::kSubs, kGroupsPerSub = kValuesPerSub / 4;
  __m512 acc[kT];
  for (int j = 0; j < kT; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t b = 0; b < p.nb; ++b) {
    const Lanes* qb = p.q.data() + b * kGroups;
    const Lanes* sb = p.scales.data() + b * P::kSubs;
    __m512i total[kT];
    for (int j = 0; j < kT; ++j) total[j] = _mm512_setzero_si512();
    for (int s = 0; s < P::kSubs; ++s) {
      __m512i part[kT];
      for (int j = 0; j < kT; ++j) {
        if constexpr (P::kMins) {
          part[j] = _mm512_setzero_si512();
        } else {  // Q6_K: the values are q + 32; take 32 * the activations' sum back out
          part[j] = _mm512_set1_epi32(-32 * q[j][b].bsums[s]);
        }
      }
      for (int g = 0; g < kGroupsPerSub; ++g) {
        const __m512i w = qb[s * kGroupsPerSub + g].Int();
        for (int j = 0; j < kT; ++j) {
          const int8_t* a = q[j][b].qs + kValuesPerSub * s + 4 * g;
          part[j] = _mm512_dpbusd_epi32(part[j], w, Broadcast4(a));
        }
      }
      for (int j = 0; j < kT; ++j) {
        total[j] = _mm512_add_epi32(total[j], _mm512_mullo_epi32(part[j], sb[s].Int()));
      }
    }
    for (int j = 0; j < kT; ++j) {
      const BlockQ8_K& qb8 = q[j][b];
      __m512 res = _mm512_mul_ps(p.d[b].Float(), _mm512_cvtepi32_ps(total[j]));
      if constexpr (P::kMins) {
        // mins . (bsums[2s] + bsums[2s + 1]), then res = fma(-dmin, that, d * total).
        const Lanes* mb = p.mins.data() + b * P::kSubs;
        __m512i md = _mm512_setzero_si512();
        for (int s = 0; s < P::kSubs; ++s) {
          const int pair = qb8.bsums[2 * s] + qb8.bsums[2 * s + 1];
          md = _mm512_add_epi32(md, _mm512_mullo_epi32(mb[s].Int(), _mm512_set1_epi32(pair)));
        }
        res = _mm512_fnmadd_ps(p.dmin[b].Float(), _mm512_cvtepi32_ps(md), res);
      }
      acc[j] = _mm512_fmadd_ps(res, _mm512_set1_ps(qb8.d), acc[j]);
    }
  }
  for (int j = 0; j < kT; ++j) _mm512_storeu_ps(y + j * ldy, acc[j]);
}

// Row r's super-block from a group of 8 repacked rows (k_rows8_layout.h), lane = r % 8.
inline void FromGroup(const GroupBlockQ4_K& g, int lane, BlockQ4_K* x) {
  x->d = g.d[lane];
  x->dmin = g.dmin[lane];
  for (int k = 0; k < 3; ++k) std::memcpy(x->scales + 4 * k, &g.scales[k][lane], 4);
  for (int c = 0; c < 32; ++c) std::memcpy(x->qs + 4 * c, g.qs[c][lane], 4);
}
inline void FromGroup(const GroupBlockQ5_K& g, int lane, BlockQ5_K* x) {
  x->d = g.d[lane];
  x->dmin = g.dmin[lane];
  for (int k = 0; k < 3; ++k) std::memcpy(x->scales + 4 * k, &g.scales[k][lane], 4);
  for (int c = 0; c < 8; ++c) std::memcpy(x->qh + 4 * c, g.qh[c][lane], 4);
  for (int c = 0; c < 32; ++c) std::memcpy(x->qs + 4 * c, g.qs[c][lane], 4);
}
inline void FromGroup(const GroupBlockQ6_K& g, int lane, BlockQ6_K* x) {
  x->d = g.d[lane];
  for (int s = 0; s < 16; ++s) x->scales[s] = g.scales[s][lane];
  for (int h = 0; h < 2; ++h) {
    const GroupHalfQ6_K& half = g.half[h];
    for (int c = 0; c < 8; ++c) {
      std::memcpy(x->ql + 64 * h + 4 * c, half.ql_qh[c / 2][0][c % 2][lane], 4);
      std::memcpy(x->qh + 32 * h + 4 * c, half.ql_qh[c / 2][1][c % 2][lane], 4);
      std::memcpy(x->ql + 64 * h + 32 + 4 * c, half.ql_odd[c][lane], 4);
    }
  }
}

// Every panel of g's rows: fill(panel, first row), then its tiles of 8, 2 and 1 tokens.
template <typename P, typename FillPanel>
void GemmPanels(const GemmArgs& g, FillPanel fill) {
  const int64_t nb = g.n / kQK_K;
  const auto* a = static_cast<const uint8_t*>(g.a);
  std::vector<const BlockQ8_K*> q(static_cast<size_t>(g.n_tokens));
  for (int64_t t = 0; t < g.n_tokens; ++t) {
    q[t] = reinterpret_cast<const BlockQ8_K*>(a + t * g.a_stride);
  }
  Panel<P> panel(nb);
  for (int64_t r0 = 0; r0 < g.n_rows; r0 += kPanelRows) {
    fill(panel, r0);
    float* y = g.y + r0;
    int64_t t = 0;
    for (; t + 8 <= g.n_tokens; t += 8) PanelTile<P, 8>(panel, q.data() + t, y + t * g.ldy, g.ldy);
    for (; t + 2 <= g.n_tokens; t += 2) PanelTile<P, 2>(panel, q.data() + t, y + t * g.ldy, g.ldy);
    for (; t < g.n_tokens; ++t) PanelTile<P, 1>(panel, q.data() + t, y + t * g.ldy, g.ldy);
  }
}

// The file's layout: row r at w + r * w_stride.
template <typename P>
void GemmPanelsFile(const GemmArgs& g) {
  using Block = typename P::Block;
  const auto* w = static_cast<const uint8_t*>(g.w);
  GemmPanels<P>(g, [&](Panel<P>& panel, int64_t r0) {
    panel.Fill([&](int r, int64_t b) -> const Block& {
      return reinterpret_cast<const Block*>(w + (r0 + r) * g.w_stride)[b];
    });
  });
}

// Repacked: rows r0..r0+7 and r0+8..r0+15 are two groups of 8 (group i at w + 8 i w_stride).
template <typename P, typename GroupBlock>
void GemmPanelsRepacked(const GemmArgs& g) {
  using Block = typename P::Block;
  const auto* w = static_cast<const uint8_t*>(g.w);
  Block x;
  GemmPanels<P>(g, [&](Panel<P>& panel, int64_t r0) {
    panel.Fill([&](int r, int64_t b) -> const Block& {
      const auto* group = reinterpret_cast<const GroupBlock*>(w + (r0 + r / 8 * 8) * g.w_stride);
      FromGroup(group[b], r % 8, &x);
      return x;
    });
  });
}

using Q4KPanel = Q4Panel<BlockQ4_K, false>;
using Q5KPanel = Q4Panel<BlockQ5_K, true>;

// Prompts of at least this many tokens go to the panels, whose unpacking costs about what a few
// tokens' products do.
constexpr int64_t kPanelMinTokens = 16;

// g through `panels` for its rows in whole panels of 16 when it is a prompt, the rest (all of a
// decoding step) through `rest`, which gives the same bits.
void WithPanels(const GemmArgs& g, GemmFn panels, GemmFn rest) {
  const int64_t panel_rows = g.n_tokens >= kPanelMinTokens ? g.n_rows / 16 * 16 : 0;
  if (panel_rows > 0) {
    GemmArgs head = g;
    head.n_rows = panel_rows;
    panels(head);
  }
  if (panel_rows == g.n_rows) return;
  GemmArgs tail = g;
  tail.w = static_cast<const uint8_t*>(g.w) + panel_rows * g.w_stride;
  tail.n_rows = g.n_rows - panel_rows;
  tail.y = g.y + panel_rows;
  rest(tail);
}

}  // namespace

void GemmQ4_KQ8_K(const GemmArgs& g) {
  WithPanels(g, GemmPanelsFile<Q4KPanel>, avx2::GemmQ4_KQ8_K);
}
void GemmQ5_KQ8_K(const GemmArgs& g) {
  WithPanels(g, GemmPanelsFile<Q5KPanel>, avx2::GemmQ5_KQ8_K);
}
void GemmQ6_KQ8_K(const GemmArgs& g) {
  WithPanels(g, GemmPanelsFile<Q6Panel>, GemmQ6_KDecode);
}
// A panel is two repacked groups, so the rows left over are whole groups too.
void GemmQ4_KRows8Repacked(const GemmArgs& g) {
  WithPanels(g, GemmPanelsRepacked<Q4KPanel, GroupBlockQ4_K>, avx2::GemmQ4_KRows8Repacked);
}
void GemmQ5_KRows8Repacked(const GemmArgs& g) {
  WithPanels(g, GemmPanelsRepacked<Q5KPanel, GroupBlockQ5_K>, avx2::GemmQ5_KRows8Repacked);
}
void GemmQ6_KRows8Repacked(const GemmArgs& g) {
  WithPanels(g, GemmPanelsRepacked<Q6Panel, GroupBlockQ6_K>, GemmQ6_KRows8Decode);
}

}  // namespace foundry::x86::avx512

#endif  // defined(__x86_64__)
