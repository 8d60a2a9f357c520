// AVX2 attention kernels (AttentionKernels in kernels.h): KQ and KQV over f16 KV cache rows in
// tinyBLAS's order, which is also what VecDotF16F16 (avx2_float_dot.cc) and AxpyF16
// (avx2_vector.cc) give one cell at a time. Compiled with the AVX2 flags like every avx2*.cc,
// under the same rules (x86_kernels.h): helpers stay in the unnamed namespace.
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/x86_kernels.h"

namespace foundry::x86 {
namespace {

// VecDotF16F16's result from its 8-lane accumulator and the elements past the last multiple of
// 8 (added one by one in float, then to the horizontal sum).
inline float Finish(__m256 acc, const uint16_t* k, const float* q, int64_t d8, int64_t d) {
  float tail = 0.0f;
  for (int64_t i = d8; i < d; ++i) tail += HalfToFloat(k[i]) * q[i];
  return HsumPs(acc) + tail;
}

// kQ queries against the cells two at a time: 2 * kQ independent accumulators, and each K chunk
// is converted from f16 once for all the queries.
template <int kQ>
void KqQueries(int64_t d, const uint16_t* k, int64_t k_stride, int64_t n, const float* q,
               float* scores, int64_t ld) {
  const int64_t d8 = d / 8 * 8;
  int64_t j = 0;
  for (; j + 2 <= n; j += 2) {
    const uint16_t* k0 = k + j * k_stride;
    const uint16_t* k1 = k0 + k_stride;
    __m256 a0[kQ], a1[kQ];
    for (int h = 0; h < kQ; ++h) a0[h] = a1[h] = _mm256_setzero_ps();
    for (int64_t i = 0; i < d8; i += 8) {
      const __m256 x0 = LoadF16x8(k0 + i), x1 = LoadF16x8(k1 + i);
      for (int h = 0; h < kQ; ++h) {
        const __m256 qv = _mm256_loadu_ps(q + h * d + i);
        a0[h] = _mm256_fmadd_ps(x0, qv, a0[h]);
        a1[h] = _mm256_fmadd_ps(x1, qv, a1[h]);
      }
    }
    for (int h = 0; h < kQ; ++h) {
      scores[h * ld + j] = Finish(a0[h], k0, q + h * d, d8, d);
      scores[h * ld + j + 1] = Finish(a1[h], k1, q + h * d, d8, d);
    }
  }
  if (j < n) {
    const uint16_t* k0 = k + j * k_stride;
    __m256 a0[kQ];
    for (int h = 0; h < kQ; ++h) a0[h] = _mm256_setzero_ps();
    for (int64_t i = 0; i < d8; i += 8) {
      const __m256 x0 = LoadF16x8(k0 + i);
      for (int h = 0; h < kQ; ++h) {
        a0[h] = _mm256_fmadd_ps(x0, _mm256_loadu_ps(q + h * d + i), a0[h]);
      }
    }
    for (int h = 0; h < kQ; ++h) scores[h * ld + j] = Finish(a0[h], k0, q + h * d, d8, d);
  }
}

// The queries four at a time over blocks of kCellBlock cells, so that with more than four
// queries (a GQA group) each block of K rows is read from memory once and then from L1.
void Kq(int64_t d, const uint16_t* k, int64_t k_stride, int64_t n, const float* q, int64_t n_q,
        float* scores, int64_t ld) {
  constexpr int64_t kCellBlock = 64;
  for (int64_t j0 = 0; j0 < n; j0 += kCellBlock) {
    const int64_t nj = n - j0 < kCellBlock ? n - j0 : kCellBlock;
    const uint16_t* kb = k + j0 * k_stride;
    float* sb = scores + j0;
    int64_t h = 0;
    for (; h + 4 <= n_q; h += 4) KqQueries<4>(d, kb, k_stride, nj, q + h * d, sb + h * ld, ld);
    switch (n_q - h) {
      case 3:
        KqQueries<3>(d, kb, k_stride, nj, q + h * d, sb + h * ld, ld);
        break;
      case 2:
        KqQueries<2>(d, kb, k_stride, nj, q + h * d, sb + h * ld, ld);
        break;
      case 1:
        KqQueries<1>(d, kb, k_stride, nj, q + h * d, sb + h * ld, ld);
        break;
      default:
        break;
    }
  }
}

// The lanes of eight output elements stay in registers while the cells stream past: lane m
// takes the cells j with j % 8 == m, in order, exactly as AxpyF16 accumulates them in memory.
void Kqv(int64_t dv, const uint16_t* v, int64_t v_stride, int64_t n, const float* p, float* out) {
  const int64_t n8 = n / 8 * 8;
  int64_t i = 0;
  for (; i + 8 <= dv; i += 8) {
    __m256 l[8];
    for (int m = 0; m < 8; ++m) l[m] = _mm256_setzero_ps();
    const uint16_t* vi = v + i;
    int64_t j = 0;
    for (; j < n8; j += 8) {
      for (int m = 0; m < 8; ++m) {
        l[m] = _mm256_fmadd_ps(_mm256_set1_ps(p[j + m]), LoadF16x8(vi + (j + m) * v_stride), l[m]);
      }
    }
    for (int m = 0; m < 8 && j + m < n; ++m) {
      l[m] = _mm256_fmadd_ps(_mm256_set1_ps(p[j + m]), LoadF16x8(vi + (j + m) * v_stride), l[m]);
    }
    const __m256 s =
        _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(l[0], l[4]), _mm256_add_ps(l[2], l[6])),
                      _mm256_add_ps(_mm256_add_ps(l[1], l[5]), _mm256_add_ps(l[3], l[7])));
    _mm256_storeu_ps(out + i, s);
  }
  for (; i < dv; ++i) {  // AxpyF16's scalar tail: one fused multiply-add per cell
    float l[8] = {};
    for (int64_t j = 0; j < n; ++j)
      l[j % 8] = __builtin_fmaf(p[j], HalfToFloat(v[j * v_stride + i]), l[j % 8]);
    out[i] = ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
  }
}

void RoundToF16(int64_t n, float* x) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm256_storeu_ps(x + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; ++i) {
    x[i] = _cvtsh_ss(static_cast<uint16_t>(_cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT)));
  }
}

// Kqv for several heads: the 8 lanes of each head live in a stack buffer, kSpan output elements
// at a time (a multiple of 8, so the vector part and the scalar tail split the elements as
// AxpyF16 does over the whole row), and each V span is converted from f16 once for all the heads
// of the group, so at long context the V rows are read from memory once per KV head.
void KqvHeads(int64_t dv, const uint16_t* v, int64_t v_stride, int64_t n, const float* p,
              int64_t n_p, int64_t ld, float* out) {
  constexpr int64_t kSpan = 64;
  alignas(32) float lanes[kMaxHeadsPerJob][8 * kSpan];
  const int64_t dv8 = dv / 8 * 8;
  for (int64_t i0 = 0; i0 < dv; i0 += kSpan) {
    const int64_t span = dv - i0 < kSpan ? dv - i0 : kSpan;
    const int64_t vec = (dv8 - i0 < span ? dv8 - i0 : span);  // elements done 8 at a time
    for (int64_t h = 0; h < n_p; ++h) {
      for (int64_t m = 0; m < 8 * kSpan; m += 8) _mm256_store_ps(lanes[h] + m, _mm256_setzero_ps());
    }
    for (int64_t j = 0; j < n; ++j) {
      const uint16_t* vj = v + j * v_stride + i0;
      __m256 vf[kSpan / 8];
      for (int64_t i = 0; i < vec; i += 8) vf[i / 8] = LoadF16x8(vj + i);
      for (int64_t h = 0; h < n_p; ++h) {
        float* l = lanes[h] + (j % 8) * kSpan;
        const float ph = p[h * ld + j];
        const __m256 pj = _mm256_set1_ps(ph);
        int64_t i = 0;
        for (; i < vec; i += 8) {
          _mm256_store_ps(l + i, _mm256_fmadd_ps(pj, vf[i / 8], _mm256_load_ps(l + i)));
        }
        for (; i < span; ++i) l[i] = __builtin_fmaf(ph, HalfToFloat(vj[i]), l[i]);
      }
    }
    for (int64_t h = 0; h < n_p; ++h) {
      for (int64_t i = 0; i < span; ++i) {
        const float* l = lanes[h] + i;  // l[m * kSpan]: lane m
        out[h * dv + i0 + i] = ((l[0] + l[4 * kSpan]) + (l[2 * kSpan] + l[6 * kSpan])) +
                               ((l[kSpan] + l[5 * kSpan]) + (l[3 * kSpan] + l[7 * kSpan]));
      }
    }
  }
}

constexpr AttentionKernels kAvx2Attention = {Kq, Kqv, RoundToF16, KqvHeads};

}  // namespace

const AttentionKernels& Avx2AttentionKernels() { return kAvx2Attention; }

}  // namespace foundry::x86

#endif  // defined(__x86_64__)
