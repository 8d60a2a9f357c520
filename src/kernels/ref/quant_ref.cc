// Scalar reference kernels. Operation order inside every formula follows ggml's reference
// code on purpose (see quant_ref.h); do not "simplify" the arithmetic.
#include "kernels/ref/quant_ref.h"

#include <algorithm>
#include <cmath>
#include <cstring>

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

void QuantizeRowQ4_0(const float* src, void* dst, int64_t n) {
  BlockQ4_0* y = Blocks<BlockQ4_0>(dst);
  const int64_t nb = n / kQK4_0;
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQK4_0;
    float amax = 0.0f;  // largest magnitude, and the signed value that has it
    float max = 0.0f;
    for (int j = 0; j < kQK4_0; ++j) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -8;
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
// Dot products
// ---------------------------------------------------------------------------------------

float VecDotF32F32(int64_t n, const void* w, const void* a) {
  const float* x = static_cast<const float*>(w);
  const float* y = static_cast<const float*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * y[i]);
  return static_cast<float>(sum);
}

float VecDotF16F16(int64_t n, const void* w, const void* a) {
  const uint16_t* x = static_cast<const uint16_t*>(w);
  const uint16_t* y = static_cast<const uint16_t*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(Fp16ToFp32(x[i]) * Fp16ToFp32(y[i]));
  return static_cast<float>(sum);
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

// Shared tail of the K-quant dot products, in ggml's generic form: per super-block the
// integer products q8 * q are accumulated per sub-block, scaled by the integer sub-block
// scale into 8 int32 lanes, and the lanes are added into 8 float lanes with d = dw * da.
struct KDotLanes {
  float sums[8] = {};
  int32_t aux32[8];

  // q: 256 unpacked weights; scales: one per group of `group` elements (16 or 32).
  void AddBlock(const int8_t* q, const int8_t* q8, const int* scales, int group, float d) {
    std::memset(aux32, 0, sizeof(aux32));
    for (int g = 0; g < kQK_K / group; ++g) {
      const int scale = scales[g];
      for (int k = 0; k < group; k += 8) {
        for (int l = 0; l < 8; ++l) aux32[l] += scale * (q8[l] * q[l]);
        q8 += 8;
        q += 8;
      }
    }
    for (int l = 0; l < 8; ++l) sums[l] += d * static_cast<float>(aux32[l]);
  }
};

}  // namespace

float VecDotQ4_KQ8_K(int64_t n, const void* w, const void* a) {
  const BlockQ4_K* x = Blocks<BlockQ4_K>(w);
  const BlockQ8_K* y = Blocks<BlockQ8_K>(a);
  const int64_t nb = n / kQK_K;
  KDotLanes lanes;
  float sumf = 0.0f;
  int8_t q[kQK_K];
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* q4 = x[i].qs;
    for (int j = 0; j < kQK_K / 64; ++j) {
      for (int l = 0; l < 32; ++l) q[64 * j + l] = static_cast<int8_t>(q4[l] & 0xF);
      for (int l = 0; l < 32; ++l) q[64 * j + 32 + l] = static_cast<int8_t>(q4[l] >> 4);
      q4 += 32;
    }
    int scales[8];
    int sumi = 0;  // sum over sub-blocks of min * (sum of activations)
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      ScaleMinK4(j, x[i].scales, &sc, &m);
      scales[j] = sc;
      sumi += (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]) * m;
    }
    lanes.AddBlock(q, y[i].qs, scales, 32, Fp16ToFp32(x[i].d) * y[i].d);
    const float dmin = Fp16ToFp32(x[i].dmin) * y[i].d;
    sumf -= dmin * static_cast<float>(sumi);
  }
  for (int l = 0; l < 8; ++l) sumf += lanes.sums[l];
  return sumf;
}

float VecDotQ5_KQ8_K(int64_t n, const void* w, const void* a) {
  const BlockQ5_K* x = Blocks<BlockQ5_K>(w);
  const BlockQ8_K* y = Blocks<BlockQ8_K>(a);
  const int64_t nb = n / kQK_K;
  KDotLanes lanes;
  float sumf = 0.0f;
  int8_t q[kQK_K];
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* q4 = x[i].qs;
    const uint8_t* hm = x[i].qh;
    uint8_t bit = 1;
    for (int j = 0; j < kQK_K / 64; ++j) {
      for (int l = 0; l < 32; ++l) {
        q[64 * j + l] = static_cast<int8_t>((q4[l] & 0xF) + (hm[l] & bit ? 16 : 0));
      }
      bit = static_cast<uint8_t>(bit << 1);
      for (int l = 0; l < 32; ++l) {
        q[64 * j + 32 + l] = static_cast<int8_t>((q4[l] >> 4) + (hm[l] & bit ? 16 : 0));
      }
      bit = static_cast<uint8_t>(bit << 1);
      q4 += 32;
    }
    int scales[8];
    int sumi = 0;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      ScaleMinK4(j, x[i].scales, &sc, &m);
      scales[j] = sc;
      sumi += (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]) * m;
    }
    lanes.AddBlock(q, y[i].qs, scales, 32, Fp16ToFp32(x[i].d) * y[i].d);
    const float dmin = Fp16ToFp32(x[i].dmin) * y[i].d;
    sumf -= dmin * static_cast<float>(sumi);
  }
  for (int l = 0; l < 8; ++l) sumf += lanes.sums[l];
  return sumf;
}

float VecDotQ6_KQ8_K(int64_t n, const void* w, const void* a) {
  const BlockQ6_K* x = Blocks<BlockQ6_K>(w);
  const BlockQ8_K* y = Blocks<BlockQ8_K>(a);
  const int64_t nb = n / kQK_K;
  KDotLanes lanes;
  int8_t q[kQK_K];
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    for (int half = 0; half < 2; ++half) {
      int8_t* o = q + 128 * half;
      for (int l = 0; l < 32; ++l) {
        o[l + 0] = static_cast<int8_t>(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
        o[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        o[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        o[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
      ql += 64;
      qh += 32;
    }
    int scales[16];
    for (int j = 0; j < 16; ++j) scales[j] = x[i].scales[j];
    lanes.AddBlock(q, y[i].qs, scales, 16, Fp16ToFp32(x[i].d) * y[i].d);
  }
  float sumf = 0.0f;
  for (int l = 0; l < 8; ++l) sumf += lanes.sums[l];
  return sumf;
}

}  // namespace foundry::ref
