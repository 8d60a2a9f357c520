// AVX2 + FMA + F16C kernels. Compiled with -mavx2 -mfma -mf16c (src/CMakeLists.txt); only
// reached through kernels.cc after CPUID confirms the ISA. See x86_kernels.h for the rules
// this file follows (no shared inline functions).
//
// Numerics follow llama.cpp's AVX2 code rather than the scalar reference, because greedy
// decoding must agree with llama.cpp token for token and SmolLM-sized models part at
// near-ties on 1-ulp differences:
// * Q8_0/Q8_1 activations scale by 127/amax and round ties to even (ggml's AVX2 quantizer;
//   the reference multiplies by 1/d and rounds ties away), Q8_K as the reference;
// * dot products compute the same integer block sums exactly and accumulate them in
//   llama.cpp's order (see DotBlocks32, DotFloat);
// * the vector kernels use ggml's AVX2 expf approximation (ExpPs).
#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <type_traits>

#include "kernels/quant_blocks.h"
#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/x86_kernels.h"

namespace foundry::x86 {
namespace {

inline float HmaxPs(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline int HsumEpi32(__m128i v) {
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(v);
}
inline int HsumEpi32(__m256i v) {
  return HsumEpi32(_mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)));
}

inline __m256 Abs(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

// 32 int32 (in a, b, c, d order) to their low bytes (as the reference's cast to int8),
// in the same order.
inline __m256i PackLowBytes(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i low = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                       0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  // Each 128-bit lane keeps its 4 low bytes in dword 0: a -> [a0-3 | a4-7] etc.
  const __m256i ab = _mm256_or_si256(_mm256_shuffle_epi8(a, low),
                                     _mm256_slli_si256(_mm256_shuffle_epi8(b, low), 4));
  const __m256i cd = _mm256_or_si256(_mm256_shuffle_epi8(c, low),
                                     _mm256_slli_si256(_mm256_shuffle_epi8(d, low), 4));
  const __m256i abcd = _mm256_or_si256(ab, _mm256_slli_si256(cd, 8));
  // dwords: [a0-3, b0-3, c0-3, d0-3 | a4-7, b4-7, c4-7, d4-7]
  return _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// The int8 value of each int32's low byte, as int32.
inline __m256i SignExtendLowByte(__m256i v) {
  return _mm256_srai_epi32(_mm256_slli_epi32(v, 24), 24);
}

// ggml's nearest_int (round half to even for |f| < 2^22; the reference's exact bit trick,
// so inf and NaN give the same garbage as the scalar code).
inline __m256i NearestInt(__m256 f) {
  const __m256i bits = _mm256_castps_si256(_mm256_add_ps(f, _mm256_set1_ps(12582912.0f)));
  return _mm256_sub_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)),
                          _mm256_set1_epi32(0x00400000));
}

// sum x*y over 32 byte pairs as 8 int32 lanes; x in [-128, 127], y in [-127, 127].
inline __m256i DotI8(__m256i x, __m256i y) {
  const __m256i ax = _mm256_sign_epi8(x, x);
  const __m256i sy = _mm256_sign_epi8(y, x);
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}

// u in [0, 127] (unsigned), y signed: sum u*y as 8 int32 lanes.
inline __m256i DotU8I8(__m256i u, __m256i y) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, y), _mm256_set1_epi16(1));
}

// 16 bytes of packed nibbles -> 32 bytes: low nibbles (elements 0..15), then high nibbles.
inline __m256i UnpackNibbles16(const uint8_t* p) {
  // The 16 bytes in both halves, the upper half shifted by a nibble: three operations, not five.
  const __m256i v = _mm256_broadcastsi128_si256(Load128(p));
  const __m256i shifted = _mm256_srlv_epi64(v, _mm256_setr_epi64x(0, 0, 4, 4));
  return _mm256_and_si256(shifted, _mm256_set1_epi8(0x0F));
}

// Q4_K/Q5_K packed 6-bit scales and mins -> bytes 0..7 scales, 8..15 mins.
inline void UnpackScalesMinsK4(const uint8_t* packed, uint32_t out[4]) {
  constexpr uint32_t kLow6 = 0x3f3f3f3f, kLow4 = 0x0f0f0f0f, kLow2 = 0x03030303;
  uint32_t u[3];
  __builtin_memcpy(u, packed, 12);
  out[0] = u[0] & kLow6;
  out[1] = (u[2] & kLow4) | (((u[0] >> 6) & kLow2) << 4);
  out[2] = u[1] & kLow6;
  out[3] = ((u[2] >> 4) & kLow4) | (((u[1] >> 6) & kLow2) << 4);
}

// sum_j mins[j] * (bsums[2j] + bsums[2j+1]) for the 8 sub-blocks of 32.
inline int MinsDotBsums(const uint8_t* mins8, const int16_t* bsums) {
  const __m128i mins = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(mins8)));
  const __m256i bs = Load256(bsums);
  const __m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
  return HsumEpi32(_mm_madd_epi16(pairs, mins));
}

// ---------------------------------------------------------------------------------------
// Activation quantizers
// ---------------------------------------------------------------------------------------

// One block of 32 floats to int8 as ggml's AVX2 quantize_row_q8_0/q8_1 do: multiply by
// 127/amax, round ties to even, convert, saturate to int8. Returns d = amax/127 and the
// (wrapping) sum of the int32 values before saturation.
inline float QuantizeBlock32(const float* x, int8_t* qs, int* qsum) {
  __m256 v[4];
  __m256 m = _mm256_setzero_ps();
  for (int k = 0; k < 4; ++k) {
    v[k] = _mm256_loadu_ps(x + 8 * k);
    m = _mm256_max_ps(m, Abs(v[k]));
  }
  const float amax = HmaxPs(m);
  const float d = amax / 127;
  const __m256 id = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
  __m256i q[4];
  for (int k = 0; k < 4; ++k) {
    const __m256 r =
        _mm256_round_ps(_mm256_mul_ps(v[k], id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    q[k] = _mm256_cvtps_epi32(r);
  }
  if (qsum) {
    *qsum = HsumEpi32(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
  }
  // Saturating packs work within 128-bit halves; the permutation restores element order.
  const __m256i w01 = _mm256_packs_epi32(q[0], q[1]);
  const __m256i w23 = _mm256_packs_epi32(q[2], q[3]);
  const __m256i b = _mm256_packs_epi16(w01, w23);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs),
                      _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
  return d;
}

void QuantizeRowQ8_0(const float* src, void* dst, int64_t n) {
  BlockQ8_0* y = static_cast<BlockQ8_0*>(dst);
  const int64_t nb = n / kQK8_0;
  for (int64_t i = 0; i < nb; ++i) {
    y[i].d = FloatToHalf(QuantizeBlock32(src + i * kQK8_0, y[i].qs, nullptr));
  }
}

void QuantizeRowQ8_1(const float* src, void* dst, int64_t n) {
  BlockQ8_1* y = static_cast<BlockQ8_1*>(dst);
  const int64_t nb = n / kQK8_1;
  for (int64_t i = 0; i < nb; ++i) {
    int sum = 0;
    const float d = QuantizeBlock32(src + i * kQK8_1, y[i].qs, &sum);
    y[i].d = FloatToHalf(d);
    y[i].s = FloatToHalf(static_cast<float>(sum) * d);
  }
}

void QuantizeRowQ8_K(const float* src, void* dst, int64_t n) {
  BlockQ8_K* y = static_cast<BlockQ8_K*>(dst);
  const int64_t nb = n / kQK_K;
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQK_K;
    __m256 m = _mm256_setzero_ps();
    for (int k = 0; k < kQK_K; k += 8) m = _mm256_max_ps(m, Abs(_mm256_loadu_ps(x + k)));
    const float amax = HmaxPs(m);
    if (amax == 0.0f) {
      y[i].d = 0.0f;
      __builtin_memset(y[i].qs, 0, sizeof(y[i].qs));
      __builtin_memset(y[i].bsums, 0, sizeof(y[i].bsums));
      continue;
    }
    // The first element of largest magnitude gives the sign of the scale.
    const __m256 va = _mm256_set1_ps(amax);
    int first = 0;
    for (int k = 0; k < kQK_K; k += 8) {
      const int mask =
          _mm256_movemask_ps(_mm256_cmp_ps(Abs(_mm256_loadu_ps(x + k)), va, _CMP_EQ_OQ));
      if (mask) {
        first = k + __builtin_ctz(static_cast<unsigned>(mask));
        break;
      }
    }
    const float iscale = -127.0f / x[first];
    const __m256 vs = _mm256_set1_ps(iscale);
    const __m256i v127 = _mm256_set1_epi32(127);
    for (int k = 0; k < kQK_K; k += 32) {
      __m256i q[4];
      for (int l = 0; l < 4; ++l) {
        const __m256 p = _mm256_mul_ps(vs, _mm256_loadu_ps(x + k + 8 * l));
        q[l] = SignExtendLowByte(_mm256_min_epi32(NearestInt(p), v127));
      }
      y[i].bsums[k / 16] = static_cast<int16_t>(HsumEpi32(_mm256_add_epi32(q[0], q[1])));
      y[i].bsums[k / 16 + 1] = static_cast<int16_t>(HsumEpi32(_mm256_add_epi32(q[2], q[3])));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + k),
                          PackLowBytes(q[0], q[1], q[2], q[3]));
    }
    y[i].d = 1 / iscale;
  }
}

// ---------------------------------------------------------------------------------------
// Float dot products
// ---------------------------------------------------------------------------------------

inline __m256 LoadBF16x8(const uint16_t* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(Load128(p)), 16));
}
inline float Bf16ToFloat(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  __builtin_memcpy(&f, &bits, 4);
  return f;
}

// One 8-lane accumulator over the row, then a horizontal sum: the order of llama.cpp's
// tinyBLAS, which computes its F32/F16/BF16 matmuls (attention's KQ and KQV included).
template <typename T, typename Load8, typename Scalar>
inline float DotFloat(int64_t n, const T* x, const T* y, Load8 load, Scalar scalar) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(load(x + i), load(y + i), acc);
  float tail = 0.0f;
  for (; i < n; ++i) tail += scalar(x[i]) * scalar(y[i]);
  return HsumPs(acc) + tail;
}

float VecDotF32F32(int64_t n, const void* w, const void* a) {
  return DotFloat(
      n, static_cast<const float*>(w), static_cast<const float*>(a),
      [](const float* p) { return _mm256_loadu_ps(p); }, [](float v) { return v; });
}

float VecDotF16F16(int64_t n, const void* w, const void* a) {
  return DotFloat(n, static_cast<const uint16_t*>(w), static_cast<const uint16_t*>(a), LoadF16x8,
                  HalfToFloat);
}

float VecDotBF16BF16(int64_t n, const void* w, const void* a) {
  return DotFloat(n, static_cast<const uint16_t*>(w), static_cast<const uint16_t*>(a), LoadBF16x8,
                  Bf16ToFloat);
}

// ---------------------------------------------------------------------------------------
// Quantized dot products
// ---------------------------------------------------------------------------------------

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

// Decoding reads each weight once, so its speed is how well the weights stream in. The hardware
// prefetchers keep up with one sequential stream, not with a tile's four interleaved rows (and
// prefetching the next tile in one burst at its start floods the miss queues), so a decoding tile
// prefetches the weights kDecodeAheadBytes past its own, a block step at a time: one steady
// stream.
constexpr int64_t kDecodeAheadBytes = 12 << 10;

// Per block b of a decoding tile: the kStepBytes (its rows' blocks b) that far ahead; nothing
// where the stream ends (ahead == nullptr).
template <size_t kStepBytes>
inline void PrefetchAhead(const char* ahead, int64_t b) {
  if (ahead == nullptr) return;
  const char* p = ahead + b * static_cast<int64_t>(kStepBytes);
  for (size_t o = 0; o < kStepBytes; o += 64) _mm_prefetch(p + o, _MM_HINT_T0);
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

constexpr int kTokensPerGroup = 16;

// The tiles of a gemm over one token group, for types whose tiles read weights and activations
// as they are:  tile(nb, x[kR], q[kT], y, ldy).
template <typename BlockW, typename BlockA, typename Tile>
class PlainTiles {
 public:
  explicit PlainTiles(Tile tile) : tile_(tile) {}
  void BeginGroup(const BlockA* const* q, int64_t /*n*/, int64_t /*nb*/) { q_ = q; }
  void BeginRows(const BlockW* const* x, int64_t /*nb*/) { x_ = x; }
  void Run(int64_t nb, int64_t t, float* y, int64_t ldy) { tile_(nb, x_, q_ + t, y, ldy); }

 private:
  Tile tile_;
  const BlockA* const* q_ = nullptr;
  const BlockW* const* x_ = nullptr;
};

// Decoding: tiles of 4 rows x 1 token, four independent accumulator chains instead of one,
// vec_dot for the last rows; token after token.   rows4(nb, x[4], q, y, ahead): see
// PrefetchAhead.
template <typename BlockW, typename BlockA, int kBlockElems, typename Rows4>
inline void GemmRows4(int64_t n, const void* w, size_t w_stride, int64_t n_rows, const void* a,
                      size_t a_stride, int64_t n_tokens, float* y, int64_t ldy, Rows4 rows4,
                      float (*vec_dot)(int64_t, const void*, const void*)) {
  const int64_t nb = n / kBlockElems;
  const uint8_t* wb = static_cast<const uint8_t*>(w);
  const uint8_t* ab = static_cast<const uint8_t*>(a);
  const auto row = [&](int64_t r) { return reinterpret_cast<const BlockW*>(wb + r * w_stride); };
  const auto token = [&](int64_t t) { return reinterpret_cast<const BlockA*>(ab + t * a_stride); };
  const int64_t rows_tiled = n_rows / 4 * 4;
  const char* end = reinterpret_cast<const char*>(row(n_rows));
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t r0 = 0; r0 < rows_tiled; r0 += 4) {
      const BlockW* x[4] = {row(r0), row(r0 + 1), row(r0 + 2), row(r0 + 3)};
      const char* ahead = reinterpret_cast<const char*>(x[0]) + kDecodeAheadBytes;
      if (ahead + 4 * w_stride > end) ahead = nullptr;
      rows4(nb, x, token(t), y + t * ldy + r0, ahead);
    }
    for (int64_t r = rows_tiled; r < n_rows; ++r) y[t * ldy + r] = vec_dot(n, row(r), token(t));
  }
}

// The loop nest of every tiled gemm: decoding (fewer than kT tokens) as GemmRows4; prompts in
// tiles of kR rows x kT tokens, tokens in groups small enough for their activations to stay in
// L1 while every row passes over them; vec_dot for the edges. Tiles compute each output
// exactly as vec_dot does.
//   tiles.BeginGroup(q[n], n, nb), then per kR rows tiles.BeginRows(x[kR], nb), then per kT
//   tokens of the group tiles.Run(nb, t, y, ldy): see PlainTiles.
// kBlockElems: elements per block of both types (32, or 256 for the K-quants).
template <typename BlockW, typename BlockA, int kBlockElems, int kR, int kT, typename Tiles,
          typename Rows4>
inline void GemmTiles(int64_t n, const void* w, size_t w_stride, int64_t n_rows, const void* a,
                      size_t a_stride, int64_t n_tokens, float* y, int64_t ldy, Tiles& tiles,
                      Rows4 rows4, float (*vec_dot)(int64_t, const void*, const void*)) {
  if (n_tokens < kT) {
    GemmRows4<BlockW, BlockA, kBlockElems>(n, w, w_stride, n_rows, a, a_stride, n_tokens, y, ldy,
                                           rows4, vec_dot);
    return;
  }
  const int64_t nb = n / kBlockElems;
  const uint8_t* wb = static_cast<const uint8_t*>(w);
  const uint8_t* ab = static_cast<const uint8_t*>(a);
  const auto row = [&](int64_t r) { return reinterpret_cast<const BlockW*>(wb + r * w_stride); };
  const auto token = [&](int64_t t) { return reinterpret_cast<const BlockA*>(ab + t * a_stride); };
  const int64_t rows_tiled = n_rows / kR * kR, tokens_tiled = n_tokens / kT * kT;
  static_assert(kTokensPerGroup % kT == 0);
  for (int64_t g = 0; g < tokens_tiled; g += kTokensPerGroup) {
    const int64_t n_group = std::min<int64_t>(kTokensPerGroup, tokens_tiled - g);
    const BlockA* q[kTokensPerGroup];
    for (int64_t j = 0; j < n_group; ++j) q[j] = token(g + j);
    tiles.BeginGroup(q, n_group, nb);
    for (int64_t r0 = 0; r0 < rows_tiled; r0 += kR) {
      const BlockW* x[kR];
      for (int i = 0; i < kR; ++i) x[i] = row(r0 + i);
      tiles.BeginRows(x, nb);
      for (int64_t t = 0; t < n_group; t += kT) tiles.Run(nb, t, y + (g + t) * ldy + r0, ldy);
    }
  }
  for (int64_t r = 0; r < n_rows; ++r) {  // edges: one output at a time
    for (int64_t t = r < rows_tiled ? tokens_tiled : 0; t < n_tokens; ++t) {
      y[t * ldy + r] = vec_dot(n, row(r), token(t));
    }
  }
}

void GemmQ4_1Q8_1(int64_t n, const void* w, size_t w_stride, int64_t n_rows, const void* a,
                  size_t a_stride, int64_t n_tokens, float* y, int64_t ldy) {
  PlainTiles<BlockQ4_1, BlockQ8_1, decltype(&TileQ4_1Q8_1)> tiles(TileQ4_1Q8_1);
  GemmTiles<BlockQ4_1, BlockQ8_1, kQK8_1, 2, 4>(n, w, w_stride, n_rows, a, a_stride, n_tokens, y,
                                                ldy, tiles, TileQ4_1Q8_1Rows4, VecDotQ4_1Q8_1);
}

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

float VecDotQ5_0Q8_0(int64_t n, const void* w, const void* a) {
  return DotBlocks32(
      n / kQK8_0, static_cast<const BlockQ5_0*>(w), static_cast<const BlockQ8_0*>(a),
      [](const BlockQ5_0& x, const BlockQ8_0& y) { return DotI8(SignedQ5_0(x), Load256(y.qs)); });
}

float VecDotQ8_0Q8_0(int64_t n, const void* w, const void* a) {
  return DotBlocks32(
      n / kQK8_0, static_cast<const BlockQ8_0*>(w), static_cast<const BlockQ8_0*>(a),
      [](const BlockQ8_0& x, const BlockQ8_0& y) { return DotI8(SignedQ8_0(x), Load256(y.qs)); });
}

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
inline void GemmBlocks32(int64_t n, const void* w, size_t w_stride, int64_t n_rows, const void* a,
                         size_t a_stride, int64_t n_tokens, float* y, int64_t ldy,
                         float (*vec_dot)(int64_t, const void*, const void*)) {
  const auto rows4 = TileBlocks32Rows4<BlockW, sign>;
  if (n_tokens >= 4 && n / kQK8_0 <= kPanelMaxBlocks) {
    const auto unpack = [](const BlockW& x) { return sign(x); };
    Blocks32Tiles<BlockW, decltype(unpack)> tiles;
    GemmTiles<BlockW, BlockQ8_0, kQK8_0, Blocks32Tiles<BlockW, decltype(unpack)>::kR, 4>(
        n, w, w_stride, n_rows, a, a_stride, n_tokens, y, ldy, tiles, rows4, vec_dot);
    return;
  }
  // Rows too long for the tiles' tables: the decoding tiles, token after token.
  GemmRows4<BlockW, BlockQ8_0, kQK8_0>(n, w, w_stride, n_rows, a, a_stride, n_tokens, y, ldy, rows4,
                                       vec_dot);
}

void GemmQ4_0Q8_0(int64_t n, const void* w, size_t w_stride, int64_t n_rows, const void* a,
                  size_t a_stride, int64_t n_tokens, float* y, int64_t ldy) {
  GemmBlocks32<BlockQ4_0, SignedQ4_0>(n, w, w_stride, n_rows, a, a_stride, n_tokens, y, ldy,
                                      VecDotQ4_0Q8_0);
}

void GemmQ5_0Q8_0(int64_t n, const void* w, size_t w_stride, int64_t n_rows, const void* a,
                  size_t a_stride, int64_t n_tokens, float* y, int64_t ldy) {
  GemmBlocks32<BlockQ5_0, SignedQ5_0>(n, w, w_stride, n_rows, a, a_stride, n_tokens, y, ldy,
                                      VecDotQ5_0Q8_0);
}

void GemmQ8_0Q8_0(int64_t n, const void* w, size_t w_stride, int64_t n_rows, const void* a,
                  size_t a_stride, int64_t n_tokens, float* y, int64_t ldy) {
  GemmBlocks32<BlockQ8_0, SignedQ8_0>(n, w, w_stride, n_rows, a, a_stride, n_tokens, y, ldy,
                                      VecDotQ8_0Q8_0);
}

float VecDotQ4_KQ8_K(int64_t n, const void* w, const void* a) {
  const BlockQ4_K* x = static_cast<const BlockQ4_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const int64_t nb = n / kQK_K;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps();
  float acc_m = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = HalfToFloat(x[i].d) * y[i].d;
    const float dmin = HalfToFloat(x[i].dmin) * y[i].d;
    uint32_t utmp[4];
    UnpackScalesMinsK4(x[i].scales, utmp);
    const uint8_t* sc = reinterpret_cast<const uint8_t*>(utmp);
    acc_m += dmin * static_cast<float>(MinsDotBsums(sc + 8, y[i].bsums));
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j) {
      const __m256i bits = Load256(x[i].qs + 32 * j);
      const __m256i lo = _mm256_and_si256(bits, m4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
      __m256i p0 = _mm256_maddubs_epi16(lo, Load256(y[i].qs + 64 * j));
      __m256i p1 = _mm256_maddubs_epi16(hi, Load256(y[i].qs + 64 * j + 32));
      p0 = _mm256_madd_epi16(p0, _mm256_set1_epi16(sc[2 * j]));
      p1 = _mm256_madd_epi16(p1, _mm256_set1_epi16(sc[2 * j + 1]));
      sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return HsumPs(acc) - acc_m;
}

float VecDotQ5_KQ8_K(int64_t n, const void* w, const void* a) {
  const BlockQ5_K* x = static_cast<const BlockQ5_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const int64_t nb = n / kQK_K;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i bit0 = _mm256_set1_epi8(1);
  const __m256i bit1 = _mm256_set1_epi8(2);
  __m256 acc = _mm256_setzero_ps();
  float acc_m = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = HalfToFloat(x[i].d) * y[i].d;
    const float dmin = HalfToFloat(x[i].dmin) * y[i].d;
    uint32_t utmp[4];
    UnpackScalesMinsK4(x[i].scales, utmp);
    const uint8_t* sc = reinterpret_cast<const uint8_t*>(utmp);
    acc_m += dmin * static_cast<float>(MinsDotBsums(sc + 8, y[i].bsums));
    __m256i hb = Load256(x[i].qh);
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j) {
      const __m256i bits = Load256(x[i].qs + 32 * j);
      // Sub-block 2j takes bit 2j of qh, sub-block 2j+1 bit 2j+1 (hb is shifted by 2 per j).
      const __m256i lo = _mm256_or_si256(_mm256_and_si256(bits, m4),
                                         _mm256_slli_epi16(_mm256_and_si256(hb, bit0), 4));
      const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(hb, bit1), 3));
      hb = _mm256_srli_epi16(hb, 2);
      __m256i p0 = _mm256_maddubs_epi16(lo, Load256(y[i].qs + 64 * j));
      __m256i p1 = _mm256_maddubs_epi16(hi, Load256(y[i].qs + 64 * j + 32));
      p0 = _mm256_madd_epi16(p0, _mm256_set1_epi16(sc[2 * j]));
      p1 = _mm256_madd_epi16(p1, _mm256_set1_epi16(sc[2 * j + 1]));
      sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return HsumPs(acc) - acc_m;
}

float VecDotQ6_KQ8_K(int64_t n, const void* w, const void* a) {
  const BlockQ6_K* x = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const int64_t nb = n / kQK_K;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i m2a = _mm256_set1_epi8(0x03);
  const __m256i m2b = _mm256_set1_epi8(0x0C);
  const __m256i m2c = _mm256_set1_epi8(0x30);
  const __m256i m2d = _mm256_set1_epi8(static_cast<char>(0xC0));
  // Shuffle masks broadcasting scales 2p and 2p+1 to 8 bytes each.
  __m128i pair_mask[8];
  for (int p = 0; p < 8; ++p) {
    pair_mask[p] =
        _mm_set_epi64x(0x0101010101010101LL * (2 * p + 1), 0x0101010101010101LL * (2 * p));
  }
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const float d = HalfToFloat(x[i].d) * y[i].d;
    const __m128i sc8 = Load128(x[i].scales);
    // q is stored as q + 32: lane k starts at -32 * (scale * bsums of its two sub-blocks).
    __m256i sumi = _mm256_sub_epi32(
        _mm256_setzero_si256(),
        _mm256_slli_epi32(_mm256_madd_epi16(_mm256_cvtepi8_epi16(sc8), Load256(y[i].bsums)), 5));
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = x[i].ql + 64 * h;
      const int8_t* q8 = y[i].qs + 128 * h;
      const __m256i ql0 = Load256(ql);
      const __m256i ql1 = Load256(ql + 32);
      const __m256i hb = Load256(x[i].qh + 32 * h);
      __m256i q[4];
      q[0] = _mm256_or_si256(_mm256_and_si256(ql0, m4),
                             _mm256_slli_epi16(_mm256_and_si256(hb, m2a), 4));
      q[1] = _mm256_or_si256(_mm256_and_si256(ql1, m4),
                             _mm256_slli_epi16(_mm256_and_si256(hb, m2b), 2));
      q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                             _mm256_and_si256(hb, m2c));
      q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                             _mm256_srli_epi16(_mm256_and_si256(hb, m2d), 2));
      for (int k = 0; k < 4; ++k) {
        const __m256i p = _mm256_maddubs_epi16(q[k], Load256(q8 + 32 * k));
        const __m256i s = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, pair_mask[4 * h + k]));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, s));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return HsumPs(acc);
}

// Horizontal sums of kN int32x4 vectors (kN a multiple of 4): out[k] = sum of v[k]'s lanes.
// Integer addition (wrapping) is associative, so a tile gets vec_dot's integers with fewer
// shuffles than kN separate HsumEpi32.
template <int kN>
inline void HsumEpi32Many(const __m128i* v, int32_t* out) {
  int g = 0;
  for (; g + 4 <= kN; g += 4) {
    const __m128i s =
        _mm_hadd_epi32(_mm_hadd_epi32(v[g], v[g + 1]), _mm_hadd_epi32(v[g + 2], v[g + 3]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + g), s);
  }
  for (; g < kN; ++g) out[g] = HsumEpi32(v[g]);
}
template <int kN>
inline void HsumEpi32Many(const __m256i* v, int32_t* out) {
  int g = 0;
  for (; g + 4 <= kN; g += 4) {
    const __m256i s =
        _mm256_hadd_epi32(_mm256_hadd_epi32(v[g], v[g + 1]), _mm256_hadd_epi32(v[g + 2], v[g + 3]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + g),
                     _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1)));
  }
  for (; g < kN; ++g) out[g] = HsumEpi32(v[g]);
}

// Sub-blocks 2s and 2s+1 of a Q4_K/Q5_K block as unsigned bytes, as VecDotQ4_KQ8_K and
// VecDotQ5_KQ8_K build them.
inline void UnpackQ4_K(const BlockQ4_K& x, int s, __m256i* lo, __m256i* hi) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i bits = Load256(x.qs + 32 * s);
  *lo = _mm256_and_si256(bits, m4);
  *hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
}
inline void UnpackQ5_K(const BlockQ5_K& x, int s, __m256i* lo, __m256i* hi) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i bits = Load256(x.qs + 32 * s);
  const __m256i hb = _mm256_srli_epi16(Load256(x.qh), 2 * s);
  *lo = _mm256_or_si256(_mm256_and_si256(bits, m4),
                        _mm256_slli_epi16(_mm256_and_si256(hb, _mm256_set1_epi8(1)), 4));
  *hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits, 4), m4),
                        _mm256_slli_epi16(_mm256_and_si256(hb, _mm256_set1_epi8(2)), 3));
}

// The f32 scales of eight tokens' Q8_K blocks b, lane j token j.
inline __m256 TokenScales8(const BlockQ8_K* const* q, int64_t b) {
  return _mm256_setr_ps(q[0][b].d, q[1][b].d, q[2][b].d, q[3][b].d, q[4][b].d, q[5][b].d, q[6][b].d,
                        q[7][b].d);
}

// The transpose of eight 4-lane vectors: lane j of out[s] is lane s of v[j].
inline void Transpose8x4(const __m128i* v, __m256i* out) {
  __m256i a[4];
  for (int j = 0; j < 4; ++j) a[j] = _mm256_set_m128i(v[j + 4], v[j]);
  const __m256i t0 = _mm256_unpacklo_epi32(a[0], a[1]), t1 = _mm256_unpackhi_epi32(a[0], a[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(a[2], a[3]), t3 = _mm256_unpackhi_epi32(a[2], a[3]);
  out[0] = _mm256_unpacklo_epi64(t0, t2);
  out[1] = _mm256_unpackhi_epi64(t0, t2);
  out[2] = _mm256_unpacklo_epi64(t1, t3);
  out[3] = _mm256_unpackhi_epi64(t1, t3);
}

// The float order of a Q4_K/Q5_K dot product: ggml_vec_dot_q4_K_q8_K's (an 8-lane accumulator
// fed each block's integer lanes, the mins in a scalar) or that of llama.cpp's kernels for
// repacked Q4_K (one accumulator fed each block's integer total, the mins in another; see
// ref::VecDotQ4_KQ8_KBlockTotals).
// kSubBlockPairs: the same as kBlockTotals with a float step per 64 elements (llama.cpp's
// repacked gemm, which takes tokens four at a time; its gemv takes the rest a block at a time).
// kTiled: llama.cpp's tiled K-quant matmul for batches of 8+ tokens (ref::VecDotQ6_KQ8_KTiled):
// one accumulator fed fma(d * total - dmin * mins, y.d) per block.
enum class KOrder { kLanes, kBlockTotals, kSubBlockPairs, kTiled };

// VecDotQ4_KQ8_K / VecDotQ5_KQ8_K over a tile of kR rows x kT tokens: per output the same
// float operations in the same order (kLanes: d and dmin products, acc_m += dmin * mins, one
// fma of the block's integer lanes, HsumPs(acc) - acc_m; kBlockTotals: see KOrder), while each
// weight block's nibbles and scales are unpacked once for kT tokens and the bsum pairs once per
// token for kR rows.
template <int kR, int kT, typename BlockW, void (*unpack)(const BlockW&, int, __m256i*, __m256i*),
          KOrder kOrder = KOrder::kLanes>
inline void TileQ4_KLike(int64_t nb, const BlockW* const* x, const BlockQ8_K* const* q, float* y,
                         int64_t ldy, const char* ahead = nullptr) {
  constexpr int kN = kR * kT;
  __m256 acc[kR][kT];
  float acc_m[kR][kT], acc_t[kR][kT];  // acc_t: kBlockTotals' accumulator
  for (int i = 0; i < kR; ++i) {
    for (int j = 0; j < kT; ++j) {
      acc[i][j] = _mm256_setzero_ps();
      acc_m[i][j] = acc_t[i][j] = 0.0f;
    }
  }
  for (int64_t b = 0; b < nb; ++b) {
    PrefetchAhead<kR * sizeof(BlockW)>(ahead, b);
    __m128i pairs[kT];  // bsums[2k] + bsums[2k+1], as MinsDotBsums adds them
    for (int j = 0; j < kT; ++j) {
      const __m256i bs = Load256(q[j][b].bsums);
      pairs[j] = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
    }
    __m128i mins_dot[kN];
    __m256i sums[kN];           // kBlockTotals: each output's integer lanes of this block
    __m256i pair_sums[kN * 4];  // kSubBlockPairs: the same per 64 elements, [i][s][j]
    for (int i = 0; i < kR; ++i) {
      const BlockW& xb = x[i][b];
      uint32_t utmp[4];
      UnpackScalesMinsK4(xb.scales, utmp);
      const uint8_t* sc = reinterpret_cast<const uint8_t*>(utmp);
      const __m128i mins =
          _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + 8)));
      for (int j = 0; j < kT; ++j) mins_dot[i * kT + j] = _mm_madd_epi16(pairs[j], mins);
      // The block's sub-blocks as bytes and their scales as int16, shared by the kT tokens.
      __m256i u[8], scale[8];
      for (int s = 0; s < 4; ++s) {
        unpack(xb, s, &u[2 * s], &u[2 * s + 1]);
        scale[2 * s] = _mm256_set1_epi16(sc[2 * s]);
        scale[2 * s + 1] = _mm256_set1_epi16(sc[2 * s + 1]);
      }
      const float xd = HalfToFloat(xb.d);
      for (int j = 0; j < kT; ++j) {
        __m256i sumi = _mm256_setzero_si256();
        for (int s = 0; s < 4; ++s) {
          const int8_t* q8 = q[j][b].qs + 64 * s;
          const __m256i p0 =
              _mm256_madd_epi16(_mm256_maddubs_epi16(u[2 * s], Load256(q8)), scale[2 * s]);
          const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(u[2 * s + 1], Load256(q8 + 32)),
                                               scale[2 * s + 1]);
          if constexpr (kOrder == KOrder::kSubBlockPairs) {
            pair_sums[(i * 4 + s) * kT + j] = _mm256_add_epi32(p0, p1);
          }
          sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        if constexpr (kOrder == KOrder::kLanes) {
          const float d = xd * q[j][b].d;
          acc[i][j] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc[i][j]);
        } else {
          sums[i * kT + j] = sumi;
        }
      }
    }
    // Each output's mins . bsums total (kSubBlockPairs keeps them per 64 elements instead).
    alignas(32) int32_t md[kN];
    if constexpr (kOrder != KOrder::kSubBlockPairs) HsumEpi32Many<kN>(mins_dot, md);
    if constexpr (kOrder == KOrder::kLanes) {
      for (int i = 0; i < kR; ++i) {
        const float xdmin = HalfToFloat(x[i][b].dmin);
        for (int j = 0; j < kT; ++j) {
          const float dmin = xdmin * q[j][b].d;
          acc_m[i][j] += dmin * static_cast<float>(md[i * kT + j]);
        }
      }
    } else if constexpr (kOrder == KOrder::kSubBlockPairs) {
      alignas(32) int32_t totals[kN * 4];  // [i][s][j]: per output, per 64 elements
      HsumEpi32Many<kN * 4>(pair_sums, totals);
      // Lane s of a mins product is the 64 elements s's two sub-blocks (madd of pairs).
      if constexpr (kT == 8) {
        const __m256 yd = TokenScales8(q, b);
        for (int i = 0; i < kR; ++i) {
          const __m256 xd_yd = _mm256_mul_ps(_mm256_set1_ps(HalfToFloat(x[i][b].d)), yd);
          const __m256 xdmin_yd = _mm256_mul_ps(_mm256_set1_ps(HalfToFloat(x[i][b].dmin)), yd);
          __m256i mins[4];
          Transpose8x4(mins_dot + i * kT, mins);
          __m256 t = _mm256_loadu_ps(acc_t[i]), m = _mm256_loadu_ps(acc_m[i]);
          for (int s = 0; s < 4; ++s) {
            const __m256i total = Load256(totals + (i * 4 + s) * kT);
            t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), xd_yd, t);
            m = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mins[s]), xdmin_yd, m);
          }
          _mm256_storeu_ps(acc_t[i], t);
          _mm256_storeu_ps(acc_m[i], m);
        }
      } else {
        int32_t mins[kN * 4];  // [o][s]
        for (int o = 0; o < kN; ++o)
          _mm_storeu_si128(reinterpret_cast<__m128i*>(mins + 4 * o), mins_dot[o]);
        for (int i = 0; i < kR; ++i) {
          const float xd = HalfToFloat(x[i][b].d), xdmin = HalfToFloat(x[i][b].dmin);
          for (int j = 0; j < kT; ++j) {
            const float yd = q[j][b].d;
            const int o = i * kT + j;
            for (int s = 0; s < 4; ++s) {
              acc_t[i][j] = __builtin_fmaf(static_cast<float>(totals[(i * 4 + s) * kT + j]),
                                           xd * yd, acc_t[i][j]);
              acc_m[i][j] =
                  __builtin_fmaf(static_cast<float>(mins[4 * o + s]), xdmin * yd, acc_m[i][j]);
            }
          }
        }
      }
    } else {
      alignas(32) int32_t totals[kN];
      HsumEpi32Many<kN>(sums, totals);
      if constexpr (kT == 8 && kOrder == KOrder::kTiled) {
        const __m256 yd = TokenScales8(q, b);
        for (int i = 0; i < kR; ++i) {
          const __m256 xd = _mm256_set1_ps(HalfToFloat(x[i][b].d));
          const __m256 neg_xdmin = _mm256_set1_ps(-HalfToFloat(x[i][b].dmin));
          const __m256 total = _mm256_cvtepi32_ps(Load256(totals + i * kT));
          const __m256 mins = _mm256_cvtepi32_ps(Load256(md + i * kT));
          const __m256 res = _mm256_fmadd_ps(neg_xdmin, mins, _mm256_mul_ps(xd, total));
          _mm256_storeu_ps(acc_t[i], _mm256_fmadd_ps(res, yd, _mm256_loadu_ps(acc_t[i])));
        }
      } else {
        for (int i = 0; i < kR; ++i) {
          const float xd = HalfToFloat(x[i][b].d), xdmin = HalfToFloat(x[i][b].dmin);
          for (int j = 0; j < kT; ++j) {
            const float yd = q[j][b].d;
            const float total = static_cast<float>(totals[i * kT + j]);
            const float mins = static_cast<float>(md[i * kT + j]);
            if constexpr (kOrder == KOrder::kTiled) {
              const float res = __builtin_fmaf(-xdmin, mins, xd * total);
              acc_t[i][j] = __builtin_fmaf(res, yd, acc_t[i][j]);
            } else {
              acc_t[i][j] = __builtin_fmaf(total, xd * yd, acc_t[i][j]);
              acc_m[i][j] = __builtin_fmaf(mins, xdmin * yd, acc_m[i][j]);
            }
          }
        }
      }
    }
  }
  for (int i = 0; i < kR; ++i) {
    for (int j = 0; j < kT; ++j) {
      y[j * ldy + i] =
          kOrder == KOrder::kLanes ? HsumPs(acc[i][j]) - acc_m[i][j] : acc_t[i][j] - acc_m[i][j];
    }
  }
}

template <typename BlockW, void (*unpack)(const BlockW&, int, __m256i*, __m256i*),
          KOrder kOrder = KOrder::kLanes>
inline void TileQ4_KLikeRows4(int64_t nb, const BlockW* const* x, const BlockQ8_K* q, float* y,
                              const char* ahead) {
  TileQ4_KLike<4, 1, BlockW, unpack, kOrder>(nb, x, &q, y, 1, ahead);
}

// Q4_K/Q5_K . Q8_K in one of the KOrder orders, one output (the edges of the tiles).
template <typename BlockW, void (*unpack)(const BlockW&, int, __m256i*, __m256i*), KOrder kOrder>
float VecDotQ4_KLikeInOrder(int64_t n, const void* w, const void* a) {
  const BlockW* x = static_cast<const BlockW*>(w);
  const BlockQ8_K* q = static_cast<const BlockQ8_K*>(a);
  float y;
  TileQ4_KLike<1, 1, BlockW, unpack, kOrder>(n / kQK_K, &x, &q, &y, 1);
  return y;
}
template <KOrder kOrder>
constexpr auto VecDotQ4_KQ8_KInOrder = VecDotQ4_KLikeInOrder<BlockQ4_K, UnpackQ4_K, kOrder>;

// A Q4_K/Q5_K gemm whose every output follows kOrder.
template <typename BlockW, void (*unpack)(const BlockW&, int, __m256i*, __m256i*), KOrder kOrder>
void GemmQ4_KLikeInOrder(int64_t n, const void* w, size_t w_stride, int64_t n_rows, const void* a,
                         size_t a_stride, int64_t n_tokens, float* y, int64_t ldy) {
  constexpr auto kTile = [](int64_t nb, const BlockW* const* x, const BlockQ8_K* const* q, float* y,
                            int64_t ldy) {
    TileQ4_KLike<2, 8, BlockW, unpack, kOrder>(nb, x, q, y, ldy);
  };
  PlainTiles<BlockW, BlockQ8_K, decltype(kTile)> tiles(kTile);
  GemmTiles<BlockW, BlockQ8_K, kQK_K, 2, 8>(n, w, w_stride, n_rows, a, a_stride, n_tokens, y, ldy,
                                            tiles, TileQ4_KLikeRows4<BlockW, unpack, kOrder>,
                                            VecDotQ4_KLikeInOrder<BlockW, unpack, kOrder>);
}

constexpr auto GemmQ4_KQ8_K = GemmQ4_KLikeInOrder<BlockQ4_K, UnpackQ4_K, KOrder::kLanes>;
constexpr auto GemmQ5_KQ8_K = GemmQ4_KLikeInOrder<BlockQ5_K, UnpackQ5_K, KOrder::kLanes>;

// llama.cpp's repacked Q4_K: whole groups of four tokens in its gemm's order, the last
// n_tokens % 4 in its gemv's.
void GemmQ4_KQ8_KRepackedOrder(int64_t n, const void* w, size_t w_stride, int64_t n_rows,
                               const void* a, size_t a_stride, int64_t n_tokens, float* y,
                               int64_t ldy) {
  const int64_t n4 = n_tokens / 4 * 4;
  if (n4 > 0) {
    GemmQ4_KLikeInOrder<BlockQ4_K, UnpackQ4_K, KOrder::kSubBlockPairs>(n, w, w_stride, n_rows, a,
                                                                       a_stride, n4, y, ldy);
  }
  if (n4 < n_tokens) {
    GemmRows4<BlockQ4_K, BlockQ8_K, kQK_K>(
        n, w, w_stride, n_rows, static_cast<const uint8_t*>(a) + n4 * a_stride, a_stride,
        n_tokens - n4, y + n4 * ldy, ldy,
        TileQ4_KLikeRows4<BlockQ4_K, UnpackQ4_K, KOrder::kBlockTotals>,
        VecDotQ4_KQ8_KInOrder<KOrder::kBlockTotals>);
  }
}

// VecDotQ6_KQ8_K over a tile of kR rows x kT tokens: per output ggml_vec_dot_q6_K_q8_K's AVX2
// order (kLanes: the block's integer lanes, less 32 * scale * bsums per lane, fused into an
// 8-lane accumulator; HsumPs at the end) or the tiled matmul's (kTiled: see KOrder). Each
// weight block's 6-bit quants and scale vectors are built once for kT tokens.
template <int kR, int kT, KOrder kOrder = KOrder::kLanes>
inline void TileQ6_KQ8_K(int64_t nb, const BlockQ6_K* const* x, const BlockQ8_K* const* q, float* y,
                         int64_t ldy, const char* ahead = nullptr) {
  static_assert(kOrder == KOrder::kLanes || kOrder == KOrder::kTiled);
  constexpr int kN = kR * kT;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i m2a = _mm256_set1_epi8(0x03);
  const __m256i m2b = _mm256_set1_epi8(0x0C);
  const __m256i m2c = _mm256_set1_epi8(0x30);
  const __m256i m2d = _mm256_set1_epi8(static_cast<char>(0xC0));
  __m256 acc[kR][kT];
  float acc_t[kR][kT];  // kTiled's accumulator
  for (int i = 0; i < kR; ++i) {
    for (int j = 0; j < kT; ++j) {
      acc[i][j] = _mm256_setzero_ps();
      acc_t[i][j] = 0.0f;
    }
  }
  for (int64_t b = 0; b < nb; ++b) {
    PrefetchAhead<kR * sizeof(BlockQ6_K)>(ahead, b);
    __m256i bsums[kT];
    for (int j = 0; j < kT; ++j) bsums[j] = Load256(q[j][b].bsums);
    __m256i sumi[kN];
    for (int i = 0; i < kR; ++i) {
      const BlockQ6_K& xb = x[i][b];
      const __m128i sc8 = Load128(xb.scales);
      const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
      __m256i* si = sumi + i * kT;
      // Start from -32 * bias (q is stored as q + 32).
      for (int j = 0; j < kT; ++j) {
        si[j] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                 _mm256_slli_epi32(_mm256_madd_epi16(sc16, bsums[j]), 5));
      }
      // Per half: its 6-bit quants (32 per vector) and their scales as int16, built once for
      // the kT tokens.
      for (int h = 0; h < 2; ++h) {
        const uint8_t* ql = xb.ql + 64 * h;
        const __m256i ql0 = Load256(ql);
        const __m256i ql1 = Load256(ql + 32);
        const __m256i hb = Load256(xb.qh + 32 * h);
        __m256i qk[4];
        qk[0] = _mm256_or_si256(_mm256_and_si256(ql0, m4),
                                _mm256_slli_epi16(_mm256_and_si256(hb, m2a), 4));
        qk[1] = _mm256_or_si256(_mm256_and_si256(ql1, m4),
                                _mm256_slli_epi16(_mm256_and_si256(hb, m2b), 2));
        qk[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                                _mm256_and_si256(hb, m2c));
        qk[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                _mm256_srli_epi16(_mm256_and_si256(hb, m2d), 2));
        __m256i scale[4];
        for (int k = 0; k < 4; ++k) {
          // Scales 8h+2k and 8h+2k+1, each for 8 int16 lanes.
          const int lo = 8 * h + 2 * k;
          const __m128i pair =
              _mm_set_epi64x(0x0101010101010101LL * (lo + 1), 0x0101010101010101LL * lo);
          scale[k] = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, pair));
        }
        for (int j = 0; j < kT; ++j) {
          const int8_t* q8 = q[j][b].qs + 128 * h;
          __m256i acc_j = si[j];
          for (int k = 0; k < 4; ++k) {
            const __m256i p = _mm256_maddubs_epi16(qk[k], Load256(q8 + 32 * k));
            acc_j = _mm256_add_epi32(acc_j, _mm256_madd_epi16(p, scale[k]));
          }
          si[j] = acc_j;
        }
      }
    }
    if constexpr (kOrder == KOrder::kTiled) {
      alignas(32) int32_t totals[kN];
      HsumEpi32Many<kN>(sumi, totals);
      if constexpr (kT == 8) {  // the scalar loop's operations, eight tokens a vector
        const __m256 yd = TokenScales8(q, b);
        for (int i = 0; i < kR; ++i) {
          const __m256 total = _mm256_cvtepi32_ps(Load256(totals + i * kT));
          const __m256 res = _mm256_mul_ps(_mm256_set1_ps(HalfToFloat(x[i][b].d)), total);
          _mm256_storeu_ps(acc_t[i], _mm256_fmadd_ps(res, yd, _mm256_loadu_ps(acc_t[i])));
        }
      } else {
        for (int i = 0; i < kR; ++i) {
          const float xd = HalfToFloat(x[i][b].d);
          for (int j = 0; j < kT; ++j) {
            acc_t[i][j] =
                __builtin_fmaf(xd * static_cast<float>(totals[i * kT + j]), q[j][b].d, acc_t[i][j]);
          }
        }
      }
    } else {
      for (int i = 0; i < kR; ++i) {
        const float xd = HalfToFloat(x[i][b].d);
        for (int j = 0; j < kT; ++j) {
          const float d = xd * q[j][b].d;
          acc[i][j] =
              _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi[i * kT + j]), acc[i][j]);
        }
      }
    }
  }
  for (int i = 0; i < kR; ++i) {
    for (int j = 0; j < kT; ++j) {
      y[j * ldy + i] = kOrder == KOrder::kTiled ? acc_t[i][j] : HsumPs(acc[i][j]);
    }
  }
}

template <KOrder kOrder>
inline void TileQ6_KQ8_KRows4(int64_t nb, const BlockQ6_K* const* x, const BlockQ8_K* q, float* y,
                              const char* ahead) {
  TileQ6_KQ8_K<4, 1, kOrder>(nb, x, &q, y, 1, ahead);
}

template <KOrder kOrder>
float VecDotQ6_KQ8_KInOrder(int64_t n, const void* w, const void* a) {
  const BlockQ6_K* x = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* q = static_cast<const BlockQ8_K*>(a);
  float y;
  TileQ6_KQ8_K<1, 1, kOrder>(n / kQK_K, &x, &q, &y, 1);
  return y;
}

template <KOrder kOrder>
void GemmQ6_KQ8_KInOrder(int64_t n, const void* w, size_t w_stride, int64_t n_rows, const void* a,
                         size_t a_stride, int64_t n_tokens, float* y, int64_t ldy) {
  constexpr auto kTile = [](int64_t nb, const BlockQ6_K* const* x, const BlockQ8_K* const* q,
                            float* y,
                            int64_t ldy) { TileQ6_KQ8_K<2, 8, kOrder>(nb, x, q, y, ldy); };
  PlainTiles<BlockQ6_K, BlockQ8_K, decltype(kTile)> tiles(kTile);
  GemmTiles<BlockQ6_K, BlockQ8_K, kQK_K, 2, 8>(n, w, w_stride, n_rows, a, a_stride, n_tokens, y,
                                               ldy, tiles, TileQ6_KQ8_KRows4<kOrder>,
                                               VecDotQ6_KQ8_KInOrder<kOrder>);
}

// Only the functions this ISA implements; null fields fall back to the scalar table.
constexpr TypeTraits kAvx2Overrides[] = {
    {QuantType::kF32, QuantType::kF32, 1, 4, nullptr, nullptr, VecDotF32F32},
    {QuantType::kF16, QuantType::kF16, 1, 2, nullptr, nullptr, VecDotF16F16},
    {QuantType::kBF16, QuantType::kBF16, 1, 2, nullptr, nullptr, VecDotBF16BF16},
    {QuantType::kQ4_0, QuantType::kQ8_0, kQK4_0, sizeof(BlockQ4_0), nullptr, nullptr,
     VecDotQ4_0Q8_0, GemmQ4_0Q8_0},
    {QuantType::kQ4_1, QuantType::kQ8_1, kQK4_1, sizeof(BlockQ4_1), nullptr, nullptr,
     VecDotQ4_1Q8_1, GemmQ4_1Q8_1},
    {QuantType::kQ5_0, QuantType::kQ8_0, kQK5_0, sizeof(BlockQ5_0), nullptr, nullptr,
     VecDotQ5_0Q8_0, GemmQ5_0Q8_0},
    {QuantType::kQ8_0, QuantType::kQ8_0, kQK8_0, sizeof(BlockQ8_0), nullptr, QuantizeRowQ8_0,
     VecDotQ8_0Q8_0, GemmQ8_0Q8_0},
    {QuantType::kQ8_1, QuantType::kQ8_1, kQK8_1, sizeof(BlockQ8_1), nullptr, QuantizeRowQ8_1,
     nullptr},
    {QuantType::kQ4_K, QuantType::kQ8_K, kQK_K, sizeof(BlockQ4_K), nullptr, nullptr, VecDotQ4_KQ8_K,
     GemmQ4_KQ8_K, GemmQ4_KQ8_KRepackedOrder,
     GemmQ4_KLikeInOrder<BlockQ4_K, UnpackQ4_K, KOrder::kTiled>},
    {QuantType::kQ5_K, QuantType::kQ8_K, kQK_K, sizeof(BlockQ5_K), nullptr, nullptr, VecDotQ5_KQ8_K,
     GemmQ5_KQ8_K, nullptr, GemmQ4_KLikeInOrder<BlockQ5_K, UnpackQ5_K, KOrder::kTiled>},
    {QuantType::kQ6_K, QuantType::kQ8_K, kQK_K, sizeof(BlockQ6_K), nullptr, nullptr, VecDotQ6_KQ8_K,
     GemmQ6_KQ8_KInOrder<KOrder::kLanes>, nullptr, GemmQ6_KQ8_KInOrder<KOrder::kTiled>},
    {QuantType::kQ8_K, QuantType::kQ8_K, kQK_K, sizeof(BlockQ8_K), nullptr, QuantizeRowQ8_K,
     nullptr},
};

// ---------------------------------------------------------------------------------------
// Vector kernels (llama.cpp's AVX2 numerics, lane for lane)
// ---------------------------------------------------------------------------------------

// expf on 8 lanes with ggml's AVX2 approximation (ARM's optimized-routines algorithm:
// x = n ln2 + b with n = round(x / ln2), 2^n exactly from the exponent bits, e^b from a
// degree-5 polynomial; max error about 1.5 ulp). Lanes with |n| > 126 take a slow path that
// splits 2^n into two factors so that results near overflow or underflow stay exact; beyond
// |n| > 192 they saturate to inf or 0. -inf gives 0.
inline __m256 ExpPs(__m256 x) {
  const __m256 shifter = _mm256_set1_ps(0x1.8p23f);
  const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), shifter);
  const __m256 n = _mm256_sub_ps(z, shifter);
  // b = x - n * ln2, with ln2 split into a high and a low part.
  const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                    _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
  const __m256i e = _mm256_slli_epi32(_mm256_castps_si256(z), 23);
  const __m256 scale = _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_set1_epi32(0x3f800000)));
  const __m256 abs_n = Abs(n);
  const __m256 big = _mm256_cmp_ps(abs_n, _mm256_set1_ps(126), _CMP_GT_OQ);
  const __m256 b2 = _mm256_mul_ps(b, b);
  const __m256 hi =
      _mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f));
  const __m256 lo =
      _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f));
  const __m256 poly = _mm256_fmadd_ps(_mm256_fmadd_ps(hi, b2, lo), b2,
                                      _mm256_mul_ps(_mm256_set1_ps(0x1.ffffecp-1f), b));
  if (!_mm256_movemask_ps(big)) return _mm256_fmadd_ps(poly, scale, scale);
  const __m256i neg =
      _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ)),
                       _mm256_set1_epi32(static_cast<int>(0x82000000u)));
  const __m256 s1 = _mm256_castsi256_ps(_mm256_add_epi32(neg, _mm256_set1_epi32(0x7f000000)));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_sub_epi32(e, neg));
  const __m256 huge = _mm256_cmp_ps(abs_n, _mm256_set1_ps(192), _CMP_GT_OQ);
  const __m256 split = _mm256_mul_ps(_mm256_fmadd_ps(s2, poly, s2), s1);
  const __m256 normal = _mm256_fmadd_ps(scale, poly, scale);
  const __m256 r = _mm256_blendv_ps(normal, split, big);
  return _mm256_blendv_ps(r, _mm256_mul_ps(s1, s1), huge);
}

double ExpSum(int64_t n, const float* x, float max, float* y) {
  double sum = 0.0;
  int64_t i = 0;
  const __m256 vmax = _mm256_set1_ps(max);
  for (; i + 8 <= n; i += 8) {
    const __m256 v = ExpPs(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmax));
    _mm256_storeu_ps(y + i, v);
    sum += static_cast<double>(HsumPs(v));
  }
  for (; i < n; ++i) {
    const float v = __builtin_expf(x[i] - max);
    sum += static_cast<double>(v);
    y[i] = v;
  }
  return sum;
}

void SwiGlu(int64_t n, const float* gate, const float* up, float* y) {
  int64_t i = 0;
  const __m256 one = _mm256_set1_ps(1.0f);
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 e = ExpPs(_mm256_sub_ps(_mm256_setzero_ps(), g));
    const __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, e));
    _mm256_storeu_ps(y + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
  }
  for (; i < n; ++i) y[i] = gate[i] / (1.0f + __builtin_expf(-gate[i])) * up[i];
}

void AxpyF16(int64_t n, float a, const uint16_t* v, float* acc) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(acc + i, _mm256_fmadd_ps(va, LoadF16x8(v + i), _mm256_loadu_ps(acc + i)));
  }
  for (; i < n; ++i) acc[i] = __builtin_fmaf(a, HalfToFloat(v[i]), acc[i]);
}

float DotF16(int64_t n, const uint16_t* x, const uint16_t* y) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int j = 0; j < 4; ++j) {
      acc[j] = _mm256_fmadd_ps(LoadF16x8(x + i + 8 * j), LoadF16x8(y + i + 8 * j), acc[j]);
    }
  }
  const __m256 s = _mm256_add_ps(_mm256_add_ps(acc[0], acc[2]), _mm256_add_ps(acc[1], acc[3]));
  // ggml reduces the last 8 lanes with two horizontal adds: (t0 + t1) + (t2 + t3).
  const __m128 t = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  const __m128 h = _mm_hadd_ps(t, t);
  double sum = static_cast<double>(_mm_cvtss_f32(_mm_hadd_ps(h, h)));
  for (; i < n; ++i) sum += static_cast<double>(HalfToFloat(x[i]) * HalfToFloat(y[i]));
  return static_cast<float>(sum);
}

// The table lookup stays scalar (a gather is no faster here); F16C does the two conversions that
// cost most of the scalar loop.
void GeGlu(int64_t n, const float* gate, const float* up, const uint16_t* table, float* y) {
  int64_t i = 0;
  const __m256 lo = _mm256_set1_ps(-kGeluTableLimit), hi = _mm256_set1_ps(kGeluTableLimit);
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(gate + i);
    alignas(16) uint16_t h[8];
    _mm_store_si128(reinterpret_cast<__m128i*>(h), _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
    for (int k = 0; k < 8; ++k) h[k] = table[h[k]];
    __m256 g = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(h)));
    g = _mm256_blendv_ps(g, x, _mm256_cmp_ps(x, hi, _CMP_GE_OQ));
    // At or below -10 the output is +0 itself, not 0 * up (which is -0 where up < 0), as ggml.
    const __m256 out = _mm256_mul_ps(g, _mm256_loadu_ps(up + i));
    _mm256_storeu_ps(y + i, _mm256_andnot_ps(_mm256_cmp_ps(x, lo, _CMP_LE_OQ), out));
  }
  for (; i < n; ++i) {
    const float x = gate[i];
    y[i] = x <= -kGeluTableLimit
               ? 0.0f
               : (x >= kGeluTableLimit ? x : HalfToFloat(table[FloatToHalf(x)])) * up[i];
  }
}

void ToF16(int64_t n, const float* x, uint16_t* y) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), h);
  }
  for (; i < n; ++i) y[i] = FloatToHalf(x[i]);
}

constexpr VectorKernels kAvx2Vector = {ExpSum, SwiGlu, AxpyF16, DotF16, GeGlu, ToF16};

}  // namespace

const TypeTraits* Avx2TypeTraits(QuantType type) {
  for (const TypeTraits& t : kAvx2Overrides) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

const VectorKernels& Avx2VectorKernels() { return kAvx2Vector; }

}  // namespace foundry::x86

#endif  // defined(__x86_64__)
