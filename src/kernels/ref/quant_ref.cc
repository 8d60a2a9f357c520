// Scalar reference kernels. Operation order inside every formula follows ggml's reference
// code on purpose (see quant_ref.h); do not "simplify" the arithmetic.
#include "kernels/ref/quant_ref.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "base/fp16.h"
#include "kernels/quant_blocks.h"

namespace foundry::ref {
namespace {

template <typename Block>
const Block* Blocks(const void* p) {
  return static_cast<const Block*>(p);
}
template <typename Block>
Block* Blocks(void* p) {
  return static_cast<Block*>(p);
}

// Round to nearest, ties to even, for |f| < 2^22 (ggml's nearest_int trick).
inline int NearestInt(float f) {
  const float v = f + 12582912.0f;  // 1.5 * 2^23
  int32_t i;
  std::memcpy(&i, &v, 4);
  return (i & 0x007fffff) - 0x00400000;
}

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block.
inline void ScaleMinK4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Dequantize
// ---------------------------------------------------------------------------------------

void DequantizeRowF32(const void* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void DequantizeRowF16(const void* src, float* dst, int64_t n) {
  const uint16_t* x = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = Fp16ToFp32(x[i]);
}

void DequantizeRowBF16(const void* src, float* dst, int64_t n) {
  const uint16_t* x = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = Bf16ToFp32(x[i]);
}

void DequantizeRowQ4_0(const void* src, float* dst, int64_t n) {
  const BlockQ4_0* x = Blocks<BlockQ4_0>(src);
  const int64_t nb = n / kQK4_0;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = Fp16ToFp32(x[i].d);
    float* y = dst + i * kQK4_0;
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      const int v0 = (x[i].qs[j] & 0x0F) - 8;
      const int v1 = (x[i].qs[j] >> 4) - 8;
      y[j] = static_cast<float>(v0) * d;
      y[j + kQK4_0 / 2] = static_cast<float>(v1) * d;
    }
  }
}

void DequantizeRowQ4_1(const void* src, float* dst, int64_t n) {
  const BlockQ4_1* x = Blocks<BlockQ4_1>(src);
  const int64_t nb = n / kQK4_1;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = Fp16ToFp32(x[i].d);
    const float m = Fp16ToFp32(x[i].m);
    float* y = dst + i * kQK4_1;
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      const int v0 = x[i].qs[j] & 0x0F;
      const int v1 = x[i].qs[j] >> 4;
      y[j] = static_cast<float>(v0) * d + m;
      y[j + kQK4_1 / 2] = static_cast<float>(v1) * d + m;
    }
  }
}

void DequantizeRowQ8_0(const void* src, float* dst, int64_t n) {
  const BlockQ8_0* x = Blocks<BlockQ8_0>(src);
  const int64_t nb = n / kQK8_0;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = Fp16ToFp32(x[i].d);
    for (int j = 0; j < kQK8_0; ++j) dst[i * kQK8_0 + j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

void DequantizeRowQ8_1(const void* src, float* dst, int64_t n) {
  const BlockQ8_1* x = Blocks<BlockQ8_1>(src);
  const int64_t nb = n / kQK8_1;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = Fp16ToFp32(x[i].d);
    for (int j = 0; j < kQK8_1; ++j) dst[i * kQK8_1 + j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

void DequantizeRowQ4_K(const void* src, float* dst, int64_t n) {
  const BlockQ4_K* x = Blocks<BlockQ4_K>(src);
  const int64_t nb = n / kQK_K;
  float* y = dst;
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* q = x[i].qs;
    const float d = Fp16ToFp32(x[i].d);
    const float dmin = Fp16ToFp32(x[i].dmin);
    int is = 0;
    for (int j = 0; j < kQK_K; j += 64) {
      uint8_t sc, m;
      ScaleMinK4(is + 0, x[i].scales, &sc, &m);
      const float d1 = d * sc;
      const float m1 = dmin * m;
      ScaleMinK4(is + 1, x[i].scales, &sc, &m);
      const float d2 = d * sc;
      const float m2 = dmin * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
      q += 32;
      is += 2;
    }
  }
}

void DequantizeRowQ5_K(const void* src, float* dst, int64_t n) {
  const BlockQ5_K* x = Blocks<BlockQ5_K>(src);
  const int64_t nb = n / kQK_K;
  float* y = dst;
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* ql = x[i].qs;
    const uint8_t* qh = x[i].qh;
    const float d = Fp16ToFp32(x[i].d);
    const float dmin = Fp16ToFp32(x[i].dmin);
    int is = 0;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < kQK_K; j += 64) {
      uint8_t sc, m;
      ScaleMinK4(is + 0, x[i].scales, &sc, &m);
      const float d1 = d * sc;
      const float m1 = dmin * m;
      ScaleMinK4(is + 1, x[i].scales, &sc, &m);
      const float d2 = d * sc;
      const float m2 = dmin * m;
      for (int l = 0; l < 32; ++l) {
        *y++ = d1 * static_cast<float>((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
      }
      for (int l = 0; l < 32; ++l) {
        *y++ = d2 * static_cast<float>((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
      }
      ql += 32;
      is += 2;
      u1 = static_cast<uint8_t>(u1 << 2);
      u2 = static_cast<uint8_t>(u2 << 2);
    }
  }
}

void DequantizeRowQ6_K(const void* src, float* dst, int64_t n) {
  const BlockQ6_K* x = Blocks<BlockQ6_K>(src);
  const int64_t nb = n / kQK_K;
  float* y = dst;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = Fp16ToFp32(x[i].d);
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* sc = x[i].scales;
    for (int half = 0; half < 2; ++half) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l + 0] = d * sc[is + 0] * static_cast<float>(q1);
        y[l + 32] = d * sc[is + 2] * static_cast<float>(q2);
        y[l + 64] = d * sc[is + 4] * static_cast<float>(q3);
        y[l + 96] = d * sc[is + 6] * static_cast<float>(q4);
      }
      y += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  }
}

void DequantizeRowQ8_K(const void* src, float* dst, int64_t n) {
  const BlockQ8_K* x = Blocks<BlockQ8_K>(src);
  const int64_t nb = n / kQK_K;
  for (int64_t i = 0; i < nb; ++i) {
    for (int j = 0; j < kQK_K; ++j) dst[i * kQK_K + j] = x[i].d * static_cast<float>(x[i].qs[j]);
  }
}

// ---------------------------------------------------------------------------------------
// Quantize
// ---------------------------------------------------------------------------------------

void QuantizeRowF32(const float* src, void* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void QuantizeRowF16(const float* src, void* dst, int64_t n) {
  uint16_t* y = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) y[i] = Fp32ToFp16(src[i]);
}

void QuantizeRowBF16(const float* src, void* dst, int64_t n) {
  uint16_t* y = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) y[i] = Fp32ToBf16(src[i]);
}

float SignedAbsMax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void QuantizeRowQ4_0(const float* src, void* dst, int64_t n) {
  BlockQ4_0* y = Blocks<BlockQ4_0>(dst);
  const int64_t nb = n / kQK4_0;
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQK4_0;
    const float d = SignedAbsMax(x, kQK4_0) / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      const float x0 = x[j] * id;
      const float x1 = x[j + kQK4_0 / 2] * id;
      // Truncation toward zero of a value >= 0.5 (as ggml's (int8_t) cast), capped at 15.
      const int q0 = std::min(15, static_cast<int>(x0 + 8.5f));
      const int q1 = std::min(15, static_cast<int>(x1 + 8.5f));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void QuantizeRowQ4_1(const float* src, void* dst, int64_t n) {
  BlockQ4_1* y = Blocks<BlockQ4_1>(dst);
  const int64_t nb = n / kQK4_1;
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQK4_1;
    float min = x[0];
    float max = x[0];
    for (int j = 1; j < kQK4_1; ++j) {
      min = std::min(min, x[j]);
      max = std::max(max, x[j]);
    }
    const float d = (max - min) / 15;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    y[i].m = Fp32ToFp16(min);
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      const float x0 = (x[j] - min) * id;
      const float x1 = (x[j + kQK4_1 / 2] - min) * id;
      const int q0 = std::min(15, static_cast<int>(x0 + 0.5f));
      const int q1 = std::min(15, static_cast<int>(x1 + 0.5f));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void QuantizeRowQ8_0(const float* src, void* dst, int64_t n) {
  BlockQ8_0* y = Blocks<BlockQ8_0>(dst);
  const int64_t nb = n / kQK8_0;
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQK8_0;
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    for (int j = 0; j < kQK8_0; ++j) y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
  }
}

void QuantizeRowQ8_1(const float* src, void* dst, int64_t n) {
  BlockQ8_1* y = Blocks<BlockQ8_1>(dst);
  const int64_t nb = n / kQK8_1;
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQK8_1;
    float amax = 0.0f;
    for (int j = 0; j < kQK8_1; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    int sum = 0;
    for (int j = 0; j < kQK8_1; ++j) {
      y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
      sum += y[i].qs[j];
    }
    // s uses the unrounded float d, as ggml does.
    y[i].s = Fp32ToFp16(static_cast<float>(sum) * d);
  }
}

void QuantizeRowQ8_K(const float* src, void* dst, int64_t n) {
  BlockQ8_K* y = Blocks<BlockQ8_K>(dst);
  const int64_t nb = n / kQK_K;
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQK_K;
    float amax = 0.0f;
    float max = 0.0f;  // signed value with the largest magnitude (first one on ties)
    for (int j = 0; j < kQK_K; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    if (amax == 0.0f) {
      y[i].d = 0.0f;
      std::memset(y[i].qs, 0, sizeof(y[i].qs));
      std::memset(y[i].bsums, 0, sizeof(y[i].bsums));
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQK_K; ++j) {
      y[i].qs[j] = static_cast<int8_t>(std::min(127, NearestInt(iscale * x[j])));
    }
    for (int j = 0; j < kQK_K / 16; ++j) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += y[i].qs[j * 16 + l];
      y[i].bsums[j] = static_cast<int16_t>(sum);
    }
    y[i].d = 1 / iscale;
  }
}

// ---------------------------------------------------------------------------------------
// K-quant weight quantizers
// ---------------------------------------------------------------------------------------

namespace {

constexpr float kGroupMaxEps = 1e-15f;

// Asymmetric quantization of n values to 0..nmax minimizing the weighted squared error of
// scale * L + min over a small grid of candidate inverse scales (ggml make_qkx2_quants with
// use_mad = false). Returns the scale; *neg_min receives -min (min is clamped to <= 0).
float SearchScaleMin(int n, int nmax, const float* x, const float* w, uint8_t* L, float* neg_min,
                     uint8_t* Laux, float rmin, float rdelta, int nstep) {
  float min = x[0];
  float max = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    min = std::min(min, x[i]);
    max = std::max(max, x[i]);
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *neg_min = -min;
    return 0.0f;
  }
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = NearestInt(iscale * (x[i] - min));
    L[i] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    const float diff = scale * L[i] + min - x[i];
    best_error += w[i] * (diff * diff);
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      int l = NearestInt(iscale * (x[i] - min));
      l = std::max(0, std::min(nmax, l));
      Laux[i] = static_cast<uint8_t>(l);
      sum_l += w[i] * l;
      sum_l2 += w[i] * l * l;
      sum_xl += w[i] * l * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (det > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < n; ++i) {
        const float diff = this_scale * Laux[i] + this_min - x[i];
        cur_error += w[i] * (diff * diff);
      }
      if (cur_error < best_error) {
        for (int i = 0; i < n; ++i) L[i] = Laux[i];
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *neg_min = -min;
  return scale;
}

// Symmetric quantization of n values to -nmax..nmax-1 (stored +nmax in L) with weights x^2,
// trying 19 inverse scales around -nmax/max (ggml make_qx_quants, rmse_type 1, no qw).
float SearchScaleSymmetric(int n, int nmax, const float* x, int8_t* L) {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  float iscale = -nmax / max;
  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = NearestInt(iscale * x[i]);
    l = std::max(-nmax, std::min(nmax - 1, l));
    L[i] = static_cast<int8_t>(l + nmax);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    sumlx = 0;
    suml2 = 0;
    for (int i = 0; i < n; ++i) {
      int l = NearestInt(iscale * x[i]);
      l = std::max(-nmax, std::min(nmax - 1, l));
      const float w = x[i] * x[i];
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) {
        const int l = NearestInt(iscale * x[i]);
        L[i] = static_cast<int8_t>(nmax + std::max(-nmax, std::min(nmax - 1, l)));
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Shared by Q4_K and Q5_K: per-sub-block (scale, min) search, 6-bit packing of the scales
// and mins against the block's d and dmin, then requantization of the values to 0..nmax
// with the packed scales. Writes d, dmin and scales[12]; returns the levels in L.
void QuantizeKScales(const float* x, int nmax, float rmin, float rdelta, int nstep, uint16_t* d_out,
                     uint16_t* dmin_out, uint8_t* packed, uint8_t* L) {
  float scales[8];
  float mins[8];
  float weights[32];
  uint8_t Laux[32];
  float max_scale = 0;
  float max_min = 0;
  for (int j = 0; j < 8; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[j] =
        SearchScaleMin(32, nmax, xs, weights, L + 32 * j, &mins[j], Laux, rmin, rdelta, nstep);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
  std::memset(packed, 0, kKScaleBytes);
  for (int j = 0; j < 8; ++j) {
    // ggml stores nearest_int into a uint8_t before clamping to 63.
    uint8_t ls = static_cast<uint8_t>(NearestInt(inv_scale * scales[j]));
    uint8_t lm = static_cast<uint8_t>(NearestInt(inv_min * mins[j]));
    ls = std::min<uint8_t>(63, ls);
    lm = std::min<uint8_t>(63, lm);
    if (j < 4) {
      packed[j] = ls;
      packed[j + 4] = lm;
    } else {
      packed[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
      packed[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
      packed[j] |= static_cast<uint8_t>((lm >> 4) << 6);
    }
  }
  *d_out = Fp32ToFp16(max_scale / 63.0f);
  *dmin_out = Fp32ToFp16(max_min / 63.0f);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    ScaleMinK4(j, packed, &sc, &m);
    const float d = Fp16ToFp32(*d_out) * sc;
    if (d == 0.0f) continue;
    const float dm = Fp16ToFp32(*dmin_out) * m;
    for (int l = 0; l < 32; ++l) {
      const int q = NearestInt((x[32 * j + l] + dm) / d);
      L[32 * j + l] = static_cast<uint8_t>(std::max(0, std::min(nmax, q)));
    }
  }
}

}  // namespace

void QuantizeRowQ4_K(const float* src, void* dst, int64_t n) {
  BlockQ4_K* y = Blocks<BlockQ4_K>(dst);
  const int64_t nb = n / kQK_K;
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQK_K;
    QuantizeKScales(x, 15, -1.0f, 0.1f, 20, &y[i].d, &y[i].dmin, y[i].scales, L);
    uint8_t* q = y[i].qs;
    for (int j = 0; j < kQK_K; j += 64) {
      for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
      q += 32;
    }
  }
}

void QuantizeRowQ5_K(const float* src, void* dst, int64_t n) {
  BlockQ5_K* y = Blocks<BlockQ5_K>(dst);
  const int64_t nb = n / kQK_K;
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQK_K;
    QuantizeKScales(x, 31, -0.5f, 0.1f, 15, &y[i].d, &y[i].dmin, y[i].scales, L);
    uint8_t* qh = y[i].qh;
    uint8_t* ql = y[i].qs;
    std::memset(qh, 0, kQK_K / 8);
    uint8_t m1 = 1, m2 = 2;
    for (int j = 0; j < kQK_K; j += 64) {
      for (int l = 0; l < 32; ++l) {
        int l1 = L[j + l];
        if (l1 > 15) {
          l1 -= 16;
          qh[l] |= m1;
        }
        int l2 = L[j + l + 32];
        if (l2 > 15) {
          l2 -= 16;
          qh[l] |= m2;
        }
        ql[l] = static_cast<uint8_t>(l1 | (l2 << 4));
      }
      m1 = static_cast<uint8_t>(m1 << 2);
      m2 = static_cast<uint8_t>(m2 << 2);
      ql += 32;
    }
  }
}

void QuantizeRowQ6_K(const float* src, void* dst, int64_t n) {
  BlockQ6_K* y = Blocks<BlockQ6_K>(dst);
  const int64_t nb = n / kQK_K;
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQK_K;
    float max_scale = 0;
    float max_abs_scale = 0;
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      const float scale = SearchScaleSymmetric(16, 32, x + 16 * ib, L + 16 * ib);
      scales[ib] = scale;
      if (std::fabs(scale) > max_abs_scale) {
        max_abs_scale = std::fabs(scale);
        max_scale = scale;
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&y[i], 0, sizeof(BlockQ6_K));
      continue;
    }
    const float iscale = -128.0f / max_scale;
    y[i].d = Fp32ToFp16(1 / iscale);
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      y[i].scales[ib] = static_cast<int8_t>(std::min(127, NearestInt(iscale * scales[ib])));
    }
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float d = Fp16ToFp32(y[i].d) * y[i].scales[j];
      if (d == 0.0f) continue;
      for (int l = 0; l < 16; ++l) {
        const int q = NearestInt(x[16 * j + l] / d);
        L[16 * j + l] = static_cast<int8_t>(std::max(-32, std::min(31, q)) + 32);
      }
    }
    uint8_t* ql = y[i].ql;
    uint8_t* qh = y[i].qh;
    for (int j = 0; j < kQK_K; j += 128) {
      for (int l = 0; l < 32; ++l) {
        const int q1 = L[j + l + 0], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
        ql[l + 0] = static_cast<uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
        ql[l + 32] = static_cast<uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
        qh[l] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) |
                                     ((q4 >> 4) << 6));
      }
      ql += 64;
      qh += 32;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Dot products
// ---------------------------------------------------------------------------------------

float VecDotF32F32(int64_t n, const void* w, const void* a) {
  const float* x = static_cast<const float*>(w);
  const float* y = static_cast<const float*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * y[i]);
  return static_cast<float>(sum);
}

// In tinyBLAS's order, as every ISA's: the attention kernels are defined by it, and must sum
// alike for one token and for many (kernels.h).
float VecDotF16F16(int64_t n, const void* w, const void* a) {
  const uint16_t* x = static_cast<const uint16_t*>(w);
  const uint16_t* y = static_cast<const uint16_t*>(a);
  return TinyBlasDot(
      n, [&](int64_t i) { return Fp16ToFp32(x[i]); }, [&](int64_t i) { return Fp16ToFp32(y[i]); });
}

float VecDotBF16BF16(int64_t n, const void* w, const void* a) {
  const uint16_t* x = static_cast<const uint16_t*>(w);
  const uint16_t* y = static_cast<const uint16_t*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(Bf16ToFp32(x[i]) * Bf16ToFp32(y[i]));
  return static_cast<float>(sum);
}

float VecDotQ4_0Q8_0(int64_t n, const void* w, const void* a) {
  const BlockQ4_0* x = Blocks<BlockQ4_0>(w);
  const BlockQ8_0* y = Blocks<BlockQ8_0>(a);
  const int64_t nb = n / kQK8_0;
  float sumf = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    int sumi0 = 0, sumi1 = 0;
    for (int j = 0; j < kQK8_0 / 2; ++j) {
      const int v0 = (x[i].qs[j] & 0x0F) - 8;
      const int v1 = (x[i].qs[j] >> 4) - 8;
      sumi0 += v0 * y[i].qs[j];
      sumi1 += v1 * y[i].qs[j + kQK8_0 / 2];
    }
    const int sumi = sumi0 + sumi1;
    sumf += static_cast<float>(sumi) * Fp16ToFp32(x[i].d) * Fp16ToFp32(y[i].d);
  }
  return sumf;
}

float VecDotQ4_1Q8_1(int64_t n, const void* w, const void* a) {
  const BlockQ4_1* x = Blocks<BlockQ4_1>(w);
  const BlockQ8_1* y = Blocks<BlockQ8_1>(a);
  const int64_t nb = n / kQK8_1;
  float sumf = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    int sumi0 = 0, sumi1 = 0;
    for (int j = 0; j < kQK8_1 / 2; ++j) {
      const int v0 = x[i].qs[j] & 0x0F;
      const int v1 = x[i].qs[j] >> 4;
      sumi0 += v0 * y[i].qs[j];
      sumi1 += v1 * y[i].qs[j + kQK8_1 / 2];
    }
    const int sumi = sumi0 + sumi1;
    sumf += (Fp16ToFp32(x[i].d) * Fp16ToFp32(y[i].d)) * static_cast<float>(sumi) +
            Fp16ToFp32(x[i].m) * Fp16ToFp32(y[i].s);
  }
  return sumf;
}

float VecDotQ8_0Q8_0(int64_t n, const void* w, const void* a) {
  const BlockQ8_0* x = Blocks<BlockQ8_0>(w);
  const BlockQ8_0* y = Blocks<BlockQ8_0>(a);
  const int64_t nb = n / kQK8_0;
  float sumf = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    int sumi = 0;
    for (int j = 0; j < kQK8_0; ++j) sumi += x[i].qs[j] * y[i].qs[j];
    sumf += static_cast<float>(sumi) * (Fp16ToFp32(x[i].d) * Fp16ToFp32(y[i].d));
  }
  return sumf;
}

namespace {

// One K-quant super-block as integers: the 256 weights (Q6_K's less its bias of 32), the
// sub-block scales, and imin = sum over sub-blocks of min * (sum of the sub-block's
// activations), the term the block's dmin multiplies (0 for Q6_K, which has none).
struct KBlockInts {
  int8_t q[kQK_K];
  int scales[16];
  int group;         // elements per scale: 32 (Q4_K, Q5_K) or 16 (Q6_K)
  int32_t imin = 0;
  float d, dmin = 0.0f;  // the weight block's scales

  // sum_j scale_j * (sub-block j's weights . activations): exact, the same integer in every
  // summation order.
  int32_t Total(const int8_t* q8) const {
    int32_t isum = 0;
    for (int g = 0; g < kQK_K / group; ++g) {
      int32_t dot = 0;
      for (int l = 0; l < group; ++l) dot += q[group * g + l] * q8[group * g + l];
      isum += scales[g] * dot;
    }
    return isum;
  }
};

// Q4_K and Q5_K: 4 low bits per weight, Q5_K's fifth from qh (bit 2j for the first 32 of
// each 64, 2j + 1 for the second); 6-bit scales and mins.
template <typename BlockW>
void UnpackQ4_KLike(const BlockW& x, const BlockQ8_K& y, KBlockInts* b) {
  const uint8_t* q4 = x.qs;
  for (int j = 0; j < kQK_K / 64; ++j) {
    for (int l = 0; l < 32; ++l) {
      int lo = q4[l] & 0xF, hi = q4[l] >> 4;
      if constexpr (std::is_same_v<BlockW, BlockQ5_K>) {
        lo += (x.qh[l] >> (2 * j)) & 1 ? 16 : 0;
        hi += (x.qh[l] >> (2 * j + 1)) & 1 ? 16 : 0;
      }
      b->q[64 * j + l] = static_cast<int8_t>(lo);
      b->q[64 * j + 32 + l] = static_cast<int8_t>(hi);
    }
    q4 += 32;
  }
  b->group = 32;
  b->imin = 0;
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    ScaleMinK4(j, x.scales, &sc, &m);
    b->scales[j] = sc;
    b->imin += (y.bsums[2 * j] + y.bsums[2 * j + 1]) * m;
  }
  b->d = Fp16ToFp32(x.d);
  b->dmin = Fp16ToFp32(x.dmin);
}

void UnpackQ6_K(const BlockQ6_K& x, const BlockQ8_K& /*y*/, KBlockInts* b) {
  const uint8_t* ql = x.ql;
  const uint8_t* qh = x.qh;
  for (int half = 0; half < 2; ++half) {
    int8_t* o = b->q + 128 * half;
    for (int l = 0; l < 32; ++l) {
      o[l + 0] = static_cast<int8_t>(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
      o[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
      o[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
      o[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
    }
    ql += 64;
    qh += 32;
  }
  b->group = 16;
  for (int j = 0; j < 16; ++j) b->scales[j] = x.scales[j];
  b->d = Fp16ToFp32(x.d);
}

// The K-quant order of every ISA, whatever the batch (llama.cpp's tiled K-quant matmul's; see
// quant_ref.h).
template <typename BlockW, void (*unpack)(const BlockW&, const BlockQ8_K&, KBlockInts*)>
float VecDotKTiled(int64_t n, const void* w, const void* a) {
  const BlockW* x = Blocks<BlockW>(w);
  const BlockQ8_K* y = Blocks<BlockQ8_K>(a);
  float acc = 0.0f;
  KBlockInts b;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    unpack(x[i], y[i], &b);
    float res = b.d * static_cast<float>(b.Total(y[i].qs));
    res = std::fma(-b.dmin, static_cast<float>(b.imin), res);  // exact no-op for Q6_K
    acc = std::fma(res, y[i].d, acc);
  }
  return acc;
}

}  // namespace

float VecDotQ4_KQ8_K(int64_t n, const void* w, const void* a) {
  return VecDotKTiled<BlockQ4_K, UnpackQ4_KLike<BlockQ4_K>>(n, w, a);
}

float VecDotQ5_KQ8_K(int64_t n, const void* w, const void* a) {
  return VecDotKTiled<BlockQ5_K, UnpackQ4_KLike<BlockQ5_K>>(n, w, a);
}

float VecDotQ6_KQ8_K(int64_t n, const void* w, const void* a) {
  return VecDotKTiled<BlockQ6_K, UnpackQ6_K>(n, w, a);
}

}  // namespace foundry::ref
