// SIMD kernels against the scalar oracle, for every ISA this CPU can run (the others are
// reported and their tables checked to be unavailable): activation quantizers must give the
// reference's bytes; dot products must match the reference within kSimdVecDotRelErr.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../isa_under_test.h"
#include "base/fp16.h"
#include "base/tensor_type.h"
#include "kernels/kernels.h"
#include "kernels/ref/quant_ref.h"
#include "kernels_test_util.h"

namespace foundry {
namespace {

using testing::DecodeRow;
using testing::GeometryOf;
using testing::RandomFloats;
using testing::RandomRow;

// |simd - ref| <= kSimdVecDotRelErr * M + n * kSimdVecDotAbsPerElem, where M is the sum of
// the magnitudes of the terms both kernels add (sum |w_i a_i|, with the min/offset parts of
// Q4_1/Q5_1 and Q4_K/Q5_K counted separately, see Magnitude). Integer block sums are exact in
// both; only the order of float additions differs (plus fused multiply-adds). The absolute
// term covers products that underflow (and AVX-512 BF16's flush of denormals to zero).
constexpr double kSimdVecDotRelErr = 1e-5;
constexpr double kSimdVecDotAbsPerElem = FLT_MIN;

constexpr QuantType kWeightTypes[] = {
    QuantType::kF32,  QuantType::kF16,  QuantType::kBF16, QuantType::kQ4_0, QuantType::kQ4_1,
    QuantType::kQ5_1, QuantType::kQ8_0, QuantType::kQ4_K, QuantType::kQ5_K, QuantType::kQ6_K};
constexpr QuantType kActTypes[] = {QuantType::kF32,  QuantType::kF16,  QuantType::kBF16,
                                   QuantType::kQ8_0, QuantType::kQ8_1, QuantType::kQ8_K};

// The ISAs to check: every one the CPU runs; the others are announced, not silently skipped.
std::vector<Isa> RunnableIsas() {
  std::vector<Isa> out;
  for (Isa isa : kAllIsas) {
    if (IsaSupported(isa)) {
      out.push_back(isa);
    } else {
      std::printf("[ SIMD     ] this CPU lacks %s: checking only the paths it can run\n",
                  std::string(IsaName(isa)).c_str());
    }
  }
  return out;
}

std::string Name(QuantType t, Isa isa) {
  return std::string(QuantTypeName(t)) + "/" + std::string(IsaName(isa));
}

std::vector<uint8_t> QuantizeWith(const TypeTraits& tt, const std::vector<float>& x) {
  std::vector<uint8_t> q(RowBytes(tt, static_cast<int64_t>(x.size())));
  tt.quantize_row(x.data(), q.data(), static_cast<int64_t>(x.size()));
  return q;
}

// The bytes a SIMD path's activation quantizer must produce. Q8_0/Q8_1 follow ggml's AVX2
// quantizer, not the reference: x * (127 / amax) rounded ties-to-even, converted to int32
// (INT32_MIN when out of range or NaN), saturated to int8; Q8_1's s is d times the wrapping
// sum of the int32 values. Every other type must match the reference byte for byte.
std::vector<uint8_t> ExpectedSimdQuantization(QuantType t, const std::vector<float>& x) {
  if (t != QuantType::kQ8_0 && t != QuantType::kQ8_1) {
    return QuantizeWith(*FindRefTypeTraits(t), x);
  }
  const bool q8_1 = t == QuantType::kQ8_1;
  const size_t block_bytes = q8_1 ? 36 : 34, nb = x.size() / 32;
  std::vector<uint8_t> out(nb * block_bytes);
  for (size_t b = 0; b < nb; ++b) {
    const float* xb = x.data() + b * 32;
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float d = amax / 127;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    uint32_t sum = 0;
    uint8_t* ob = out.data() + b * block_bytes;
    int8_t* qs = reinterpret_cast<int8_t*>(ob + (q8_1 ? 4 : 2));
    for (int j = 0; j < 32; ++j) {
      const float r = std::nearbyint(xb[j] * id);
      const int32_t i = (std::isfinite(r) && std::fabs(r) < 2147483648.0f)
                            ? static_cast<int32_t>(r)
                            : std::numeric_limits<int32_t>::min();
      sum += static_cast<uint32_t>(i);
      qs[j] = static_cast<int8_t>(std::clamp<int32_t>(i, -128, 127));
    }
    const uint16_t dh = Fp32ToFp16(d);
    std::memcpy(ob, &dh, 2);
    if (q8_1) {
      const uint16_t sh = Fp32ToFp16(d * static_cast<float>(static_cast<int32_t>(sum)));
      std::memcpy(ob + 2, &sh, 2);
    }
  }
  return out;
}

std::vector<uint8_t> ExpectedQuantization(QuantType t, Isa isa, const std::vector<float>& x) {
  return isa == Isa::kScalar ? QuantizeWith(*FindRefTypeTraits(t), x)
                             : ExpectedSimdQuantization(t, x);
}

// ---- activation rows, each n long (n a multiple of 256) ----

// Blocks of `block` elements whose largest magnitude is 127 * 2^e (so d or 1/iscale is a
// power of two and x * id is exact) and every other element is k + 0.5: exact ties.
std::vector<float> TieRow(int64_t n, int block, std::mt19937& rng) {
  std::vector<float> x(static_cast<size_t>(n));
  std::uniform_int_distribution<int> k(-127, 126), e(-12, 12), pos(0, 255);
  for (int64_t b = 0; b < n / block; ++b) {
    const float scale = std::ldexp(1.0f, e(rng));
    for (int j = 0; j < block; ++j) x[b * block + j] = (static_cast<float>(k(rng)) + 0.5f) * scale;
    const float top = (rng() & 1) ? 127.0f : -127.0f;
    x[b * block + pos(rng) % block] = top * scale;
  }
  return x;
}

std::vector<std::vector<float>> ActivationRows(int64_t n, std::mt19937& rng) {
  std::vector<std::vector<float>> rows;
  rows.push_back(RandomFloats(n, rng));
  rows.push_back(RandomFloats(n, rng, 1e-3f));
  rows.push_back(RandomFloats(n, rng, 3e4f));
  rows.push_back(TieRow(n, 32, rng));
  rows.push_back(TieRow(n, 256, rng));
  rows.push_back(std::vector<float>(static_cast<size_t>(n), 0.0f));
  rows.push_back(std::vector<float>(static_cast<size_t>(n), 1.0f));  // all +127
  {
    std::vector<float> x(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) x[i] = (i % 3 == 0) ? -2.0f : 2.0f;  // +-127 mixed
    rows.push_back(x);
  }
  {
    // Integers and one nonzero per block; the rest zero.
    std::vector<float> x(static_cast<size_t>(n), 0.0f);
    for (int64_t i = 0; i < n; i += 37)
      x[i] = static_cast<float>(static_cast<int>(rng() % 255) - 127);
    rows.push_back(x);
  }
  {
    // +a and -a in the same block (Q8_K takes the sign of the first), tiny, huge, subnormal.
    std::vector<float> x = RandomFloats(n, rng);
    for (int64_t b = 0; b < n / 256; ++b) {
      x[b * 256 + 3] = (b & 1) ? 9.0f : -9.0f;
      x[b * 256 + 200] = (b & 1) ? -9.0f : 9.0f;
    }
    // Whole blocks of subnormals (Q8_0's 1/d overflows), huge values and tiny ones.
    for (int64_t i = 0; i < 64; ++i) x[n / 4 + i] = 1e-42f * static_cast<float>(i % 7 - 3);
    for (int64_t i = 0; i < 32; ++i) x[n / 2 + i] = 1e30f * static_cast<float>(i % 5 - 2);
    for (int64_t i = 0; i < 32; ++i) x[3 * n / 4 + i] = 1e-30f * static_cast<float>(i % 5 - 2);
    rows.push_back(x);
  }
  return rows;
}

// ---- weight rows ----

// Byte ranges of the f16 scale fields, which must stay finite; everything else is fair game.
bool IsScaleByte(QuantType t, int off) {
  switch (t) {
    case QuantType::kQ4_0:
    case QuantType::kQ8_0:
      return off < 2;
    case QuantType::kQ4_1:
    case QuantType::kQ5_1:
    case QuantType::kQ4_K:
    case QuantType::kQ5_K:
      return off < 4;
    case QuantType::kQ6_K:
      return off >= 208;
    default:
      return true;
  }
}

std::vector<std::vector<uint8_t>> WeightRows(QuantType t, int64_t n, std::mt19937& rng) {
  std::vector<std::vector<uint8_t>> rows;
  for (int r = 0; r < 24; ++r) rows.push_back(RandomRow(t, n, rng));
  const testing::Geometry g = GeometryOf(t);
  if (g.elems > 1) {
    // Extreme quant bits (all 0, all 1, sign bits only, alternating) with realistic scales.
    for (uint8_t c : {0x00, 0xFF, 0x80, 0x7F, 0xAA, 0x55}) {
      std::vector<uint8_t> row = RandomRow(t, n, rng);
      for (size_t i = 0; i < row.size(); ++i) {
        if (!IsScaleByte(t, static_cast<int>(i % g.bytes))) row[i] = c;
      }
      rows.push_back(row);
    }
  } else {
    // Float rows: zeros, large, tiny (products underflow), and mixed magnitudes; all finite
    // in the type (F16 tops out at 65504).
    const bool half = t == QuantType::kF16;
    std::vector<float> vals(static_cast<size_t>(n));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (int kind = 0; kind < 4; ++kind) {
      for (int64_t i = 0; i < n; ++i) {
        const float v = normal(rng);
        const int e = half ? static_cast<int>(i % 24) - 14 : static_cast<int>(i % 40) - 20;
        vals[i] = kind == 0   ? 0.0f
                  : kind == 1 ? v * (half ? 1e3f : 1e4f)
                  : kind == 2 ? v * (half ? 1e-6f : 1e-20f)
                              : v * std::ldexp(1.0f, e);
      }
      rows.push_back(QuantizeWith(*FindRefTypeTraits(t), vals));
    }
  }
  return rows;
}

// Sum of |term| over the terms a dot product kernel adds (see kSimdVecDotRelErr).
double Magnitude(QuantType wt, const std::vector<uint8_t>& w, QuantType at,
                 const std::vector<uint8_t>& a, int64_t n) {
  const std::vector<double> av = DecodeRow(at, a, n);
  auto sum_abs = [&](const std::vector<uint8_t>& row) {
    const std::vector<double> wv = DecodeRow(wt, row, n);
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += std::fabs(wv[i] * av[i]);
    return s;
  };
  if (wt != QuantType::kQ4_1 && wt != QuantType::kQ5_1 && wt != QuantType::kQ4_K &&
      wt != QuantType::kQ5_K) {
    return sum_abs(w);
  }
  // Scale part (offset/min field zeroed) and offset part (scale field zeroed) separately.
  const testing::Geometry g = GeometryOf(wt);
  std::vector<uint8_t> scale_part = w, min_part = w;
  for (int64_t b = 0; b < n / g.elems; ++b) {
    std::memset(&scale_part[b * g.bytes + 2], 0, 2);
    std::memset(&min_part[b * g.bytes], 0, 2);
  }
  return sum_abs(scale_part) + sum_abs(min_part);
}

// ---------------------------------------------------------------------------------------

TEST(KernelsSimd, DispatchTables) {
  EXPECT_EQ(IsaName(Isa::kScalar), "scalar");
  EXPECT_EQ(IsaName(Isa::kAvx2), "avx2");
  EXPECT_EQ(IsaName(Isa::kAvx512), "avx512");
  EXPECT_TRUE(IsaSupported(Isa::kScalar));
  // AVX-512 kernels build on the AVX2 ones.
  if (IsaSupported(Isa::kAvx512)) {
    EXPECT_TRUE(IsaSupported(Isa::kAvx2));
  }
  std::printf("[ SIMD     ] best ISA: %s, under test: %s\n",
              std::string(IsaName(BestSupportedIsa())).c_str(),
              std::string(IsaName(harness::IsaUnderTest())).c_str());
  for (Isa isa : kAllIsas) {
    for (QuantType t : kWeightTypes) {
      const TypeTraits* tt = FindTypeTraitsForIsa(t, isa);
      if (!IsaSupported(isa)) {
        EXPECT_EQ(tt, nullptr) << Name(t, isa);
        continue;
      }
      ASSERT_NE(tt, nullptr) << Name(t, isa);
      const TypeTraits* rt = FindRefTypeTraits(t);
      EXPECT_EQ(tt->type, t);
      EXPECT_EQ(tt->vec_dot_type, rt->vec_dot_type);
      EXPECT_EQ(tt->block_elems, rt->block_elems);
      EXPECT_EQ(tt->block_bytes, rt->block_bytes);
      EXPECT_NE(tt->vec_dot, nullptr);
      EXPECT_NE(tt->dequantize_row, nullptr);
      // Every SIMD ISA has its own dot product for every weight type.
      if (isa == Isa::kScalar) {
        EXPECT_EQ(tt->vec_dot, rt->vec_dot) << Name(t, isa);
      } else {
        EXPECT_NE(tt->vec_dot, rt->vec_dot) << Name(t, isa);
        EXPECT_NE(tt->vec_dot, FindTypeTraitsForIsa(t, Isa::kScalar)->vec_dot);
      }
    }
    for (QuantType t : {QuantType::kQ8_0, QuantType::kQ8_1, QuantType::kQ8_K}) {
      const TypeTraits* tt = FindTypeTraitsForIsa(t, isa);
      if (!IsaSupported(isa)) continue;
      ASSERT_NE(tt, nullptr);
      if (isa != Isa::kScalar) {
        EXPECT_NE(tt->quantize_row, FindRefTypeTraits(t)->quantize_row) << Name(t, isa);
      }
    }
    EXPECT_EQ(FindTypeTraitsForIsa(static_cast<QuantType>(12345), isa), nullptr);
  }
  // AVX-512 brings its own K-quant gemms (prompts in VNNI panels) on AVX2's dot products.
  if (IsaSupported(Isa::kAvx512)) {
    for (QuantType t : {QuantType::kQ4_K, QuantType::kQ5_K, QuantType::kQ6_K}) {
      const TypeTraits* a512 = FindTypeTraitsForIsa(t, Isa::kAvx512);
      const TypeTraits* a2 = FindTypeTraitsForIsa(t, Isa::kAvx2);
      EXPECT_NE(a512->gemm, a2->gemm) << Name(t, Isa::kAvx512);
      EXPECT_EQ(a512->vec_dot, a2->vec_dot) << Name(t, Isa::kAvx512);
      EXPECT_EQ(a512->repack_rows8, a2->repack_rows8) << Name(t, Isa::kAvx512);
      if (a2->gemm_repacked8 != nullptr) {
        EXPECT_NE(a512->gemm_repacked8, a2->gemm_repacked8) << Name(t, Isa::kAvx512);
      }
    }
  }
  // A Kernels bundle is its ISA's tables; none for an ISA the CPU lacks.
  for (Isa isa : kAllIsas) {
    const Kernels* k = KernelsForIsa(isa);
    if (!IsaSupported(isa)) {
      EXPECT_EQ(k, nullptr) << IsaName(isa);
      continue;
    }
    ASSERT_NE(k, nullptr) << IsaName(isa);
    EXPECT_EQ(k->isa, isa);
    EXPECT_EQ(k->vector, VectorKernelsForIsa(isa));
    EXPECT_EQ(k->attention, AttentionKernelsForIsa(isa));
    for (QuantType t : kWeightTypes) EXPECT_EQ(k->Find(t), FindTypeTraitsForIsa(t, isa));
    EXPECT_EQ(k->Find(static_cast<QuantType>(12345)), nullptr);
  }
}

TEST(KernelsSimd, ResolveIsaHonoursForcedIsa) {
  std::string warning;
  for (Isa best : kAllIsas) {
    for (Isa def : kAllIsas) {
      if (static_cast<int>(def) > static_cast<int>(best)) continue;
      EXPECT_EQ(ResolveIsa("", best, def, &warning), def);
      EXPECT_TRUE(warning.empty());
      for (Isa forced : kAllIsas) {
        const std::string name(IsaName(forced));
        const Isa got = ResolveIsa(name, best, def, &warning);
        if (static_cast<int>(forced) <= static_cast<int>(best)) {
          EXPECT_EQ(got, forced) << name;
          EXPECT_TRUE(warning.empty()) << warning;
        } else {
          EXPECT_EQ(got, def) << name;
          EXPECT_NE(warning.find("not supported"), std::string::npos) << warning;
          EXPECT_EQ(warning.find('\n'), std::string::npos);
        }
      }
      EXPECT_EQ(ResolveIsa("sse9", best, def, &warning), def);
      EXPECT_NE(warning.find("unknown ISA sse9"), std::string::npos) << warning;
    }
  }
  // The default is the best ISA the CPU supports (kIsaVerified).
  EXPECT_TRUE(IsaSupported(DefaultIsa()));
  EXPECT_EQ(DefaultIsa(), BestSupportedIsa());
  // On an AVX-512 CPU: an empty request gets the default, avx512 and scalar force theirs.
  EXPECT_EQ(ResolveIsa("", Isa::kAvx512, Isa::kAvx2, &warning), Isa::kAvx2);
  EXPECT_EQ(ResolveIsa("avx512", Isa::kAvx512, Isa::kAvx2, &warning), Isa::kAvx512);
  EXPECT_EQ(ResolveIsa("scalar", Isa::kAvx512, Isa::kAvx2, &warning), Isa::kScalar);
}

TEST(KernelsSimd, QuantizersMatchExpectedBytes) {
  std::mt19937 rng(1234);
  const int64_t n = 4096;
  const std::vector<std::vector<float>> rows = ActivationRows(n, rng);
  for (Isa isa : RunnableIsas()) {
    for (QuantType t : kActTypes) {
      const TypeTraits* tt = FindTypeTraitsForIsa(t, isa);
      ASSERT_NE(tt, nullptr) << Name(t, isa);
      for (size_t r = 0; r < rows.size(); ++r) {
        const std::vector<uint8_t> ours = QuantizeWith(*tt, rows[r]);
        const std::vector<uint8_t> ref = ExpectedQuantization(t, isa, rows[r]);
        size_t first_diff = ours.size();
        for (size_t i = 0; i < ours.size(); ++i) {
          if (ours[i] != ref[i]) {
            first_diff = i;
            break;
          }
        }
        EXPECT_EQ(first_diff, ours.size())
            << Name(t, isa) << " row " << r << ": first differing byte " << first_diff << " ("
            << int(ours[first_diff < ours.size() ? first_diff : 0]) << " vs "
            << int(ref[first_diff < ref.size() ? first_diff : 0]) << ")";
      }
    }
  }
}

// The tie rows really hold ties: in every block, x * (127 / amax) is exact and every element
// other than the maximum lands on k + 0.5 (where roundf and round-half-even can differ).
TEST(KernelsSimd, TieRowsContainTies) {
  std::mt19937 rng(5);
  for (int block : {32, 256}) {
    const std::vector<float> x = TieRow(1024, block, rng);
    int ties = 0;
    for (int b = 0; b < 1024 / block; ++b) {
      float amax = 0;
      for (int j = 0; j < block; ++j) amax = std::max(amax, std::fabs(x[b * block + j]));
      for (int j = 0; j < block; ++j) {
        const float s = x[b * block + j] * (127.0f / amax);
        if (std::fabs(s - std::trunc(s)) == 0.5f) ++ties;
      }
    }
    EXPECT_EQ(ties, 1024 - 1024 / block) << block;
  }
}

TEST(KernelsSimd, VecDotMatchesReference) {
  std::mt19937 rng(99);
  const std::vector<Isa> isas = RunnableIsas();
  for (QuantType wt : kWeightTypes) {
    const TypeTraits* rw = FindRefTypeTraits(wt);
    const TypeTraits* ra = FindRefTypeTraits(rw->vec_dot_type);
    std::vector<int64_t> sizes;
    if (rw->block_elems == 1) {
      sizes = {1, 7, 15, 16, 33, 64, 100, 576, 4099};
    } else if (rw->block_elems == 32) {
      sizes = {32, 64, 96, 576, 1536, 4096};
    } else {
      sizes = {256, 512, 768, 1536, 4096};
    }
    for (int64_t n : sizes) {
      std::vector<std::vector<float>> acts;
      if (n % 256 == 0) {
        acts = ActivationRows(n, rng);
      } else {
        acts = {RandomFloats(n, rng), std::vector<float>(static_cast<size_t>(n), 0.0f),
                RandomFloats(n, rng, 1e-25f)};
      }
      const std::vector<std::vector<uint8_t>> weights = WeightRows(wt, n, rng);
      for (const std::vector<float>& x : acts) {
        const std::vector<uint8_t> a = QuantizeWith(*ra, x);
        for (size_t r = 0; r < weights.size(); ++r) {
          const std::vector<uint8_t>& w = weights[r];
          const double ref = rw->vec_dot(n, w.data(), a.data());
          const double mag = Magnitude(wt, w, rw->vec_dot_type, a, n);
          const double bound = kSimdVecDotRelErr * mag + n * kSimdVecDotAbsPerElem;
          for (Isa isa : isas) {
            const TypeTraits* tw = FindTypeTraitsForIsa(wt, isa);
            const double got = tw->vec_dot(n, w.data(), a.data());
            if (!std::isfinite(ref)) {
              // Scales that overflow to inf (activations beyond the f16 range): the result
              // stays non-finite, and NaN stays NaN. (A lane-wise partial sum of 0 times an
              // inf scale may turn the reference's inf into NaN.)
              ASSERT_FALSE(std::isfinite(got)) << Name(wt, isa) << " row " << r;
              if (std::isnan(ref)) {
                ASSERT_TRUE(std::isnan(got)) << Name(wt, isa) << " row " << r;
              }
              continue;
            }
            ASSERT_LE(std::fabs(got - ref), bound)
                << Name(wt, isa) << " n=" << n << " row " << r << ": " << got << " vs ref " << ref
                << " (magnitude " << mag << ")";
          }
        }
      }
    }
  }
}

// Types whose repacked layout has an order of its own (TypeTraits::repacked_order: Q4_0, Q5_0
// and Q8_0 on AVX2) give every output of gemm_repacked8 in that order, bit for bit, whatever the number of
// tokens and wherever a call's rows start: a decoding step and a prompt agree.
TEST(KernelsSimd, RepackedGemmFollowsItsOwnOrder) {
  std::mt19937 rng(12);
  int checked = 0;
  for (Isa isa : RunnableIsas()) {
    for (QuantType type : {QuantType::kQ4_0, QuantType::kQ5_0, QuantType::kQ8_0}) {
      const TypeTraits* tw = FindTypeTraitsForIsa(type, isa);
      if (tw->repack_rows8 == nullptr) continue;
      ASSERT_NE(tw->repacked_order, nullptr) << QuantTypeName(type) << "/" << IsaName(isa);
      const TypeTraits* ta = FindTypeTraitsForIsa(tw->vec_dot_type, isa);
      const int64_t n = 32 * 9;
      const size_t wb = RowBytes(*tw, n), ab = RowBytes(*ta, n);
      for (int64_t rows : {8, 24}) {
        for (int64_t tokens : {1, 2, 4, 7, 16, 21, 40, 137}) {
          std::vector<uint8_t> w(wb * rows), a(ab * tokens), repacked(wb * rows);
          for (int64_t r = 0; r < rows; ++r) {
            const std::vector<uint8_t> row = RandomRow(type, n, rng);
            std::memcpy(w.data() + r * wb, row.data(), wb);
          }
          for (int64_t t = 0; t < tokens; ++t) {
            ta->quantize_row(RandomFloats(n, rng).data(), a.data() + t * ab, n);
          }
          tw->repack_rows8(n, w.data(), wb, rows, repacked.data());
          std::vector<float> y(static_cast<size_t>(rows * tokens));
          tw->gemm_repacked8({n, repacked.data(), wb, 8, a.data(), ab, tokens, y.data(), rows});
          tw->gemm_repacked8({n, repacked.data() + 8 * wb, wb, rows - 8, a.data(), ab, tokens,
                              y.data() + 8, rows});
          for (int64_t t = 0; t < tokens; ++t) {
            for (int64_t r = 0; r < rows; ++r) {
              const float want = tw->repacked_order(n, w.data() + r * wb, a.data() + t * ab);
              const float got = y[t * rows + r];
              uint32_t gb, wbits;
              std::memcpy(&gb, &got, 4);
              std::memcpy(&wbits, &want, 4);
              ASSERT_EQ(gb, wbits) << IsaName(isa) << " " << QuantTypeName(type) << " rows=" << rows
                                   << " tokens=" << tokens << " r=" << r << " t=" << t << ": "
                                   << got << " vs " << want;
              ++checked;
            }
          }
          // The same dot product as vec_dot's, up to float rounding.
          const float approx = tw->vec_dot(n, w.data(), a.data());
          EXPECT_NEAR(y[0], approx, 1e-4f * (1.0f + std::fabs(approx)));
        }
      }
    }
  }
  std::printf("[ SIMD     ] repacked outputs checked in their own order (Q4_0, Q5_0, Q8_0): %d\n",
              checked);
}

// The K-quants sum in one order on every ISA (ref::VecDotQ4_KQ8_K: a float step per super-block
// on its exact integer totals), so every ISA's vec_dot gives the scalar reference's bits, on the
// extreme rows too; and the repacked gemm gives them for any number of tokens, wherever a call's
// rows start (a thread's share): a decoding step and a prompt agree.
TEST(KernelsSimd, KQuantsGiveTheReferenceBits) {
  std::mt19937 rng(13);
  int checked = 0, checked_repacked = 0;
  const auto expect_bits = [](float got, float want, const std::string& what) {
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got)) << what;
      return;
    }
    uint32_t gb, wbits;
    std::memcpy(&gb, &got, 4);
    std::memcpy(&wbits, &want, 4);
    ASSERT_EQ(gb, wbits) << what << ": " << got << " vs ref " << want;
  };
  for (QuantType type : {QuantType::kQ4_K, QuantType::kQ5_K, QuantType::kQ6_K}) {
    const TypeTraits* rw = FindRefTypeTraits(type);
    for (Isa isa : RunnableIsas()) {
      const TypeTraits* tw = FindTypeTraitsForIsa(type, isa);
      const TypeTraits* ta = FindTypeTraitsForIsa(QuantType::kQ8_K, isa);
      for (int64_t n : {256, 768, 4096}) {
        const std::vector<std::vector<uint8_t>> weights = WeightRows(type, n, rng);
        for (const std::vector<float>& x : ActivationRows(n, rng)) {
          const std::vector<uint8_t> a = QuantizeWith(*ta, x);
          for (size_t r = 0; r < weights.size(); ++r) {
            expect_bits(tw->vec_dot(n, weights[r].data(), a.data()),
                        rw->vec_dot(n, weights[r].data(), a.data()),
                        Name(type, isa) + " n=" + std::to_string(n) + " row " + std::to_string(r));
            ++checked;
          }
        }
      }
      if (tw->repack_rows8 == nullptr) continue;
      ASSERT_EQ(tw->repacked_order, nullptr) << Name(type, isa);
      const int64_t n = 256 * 3;
      const size_t wb = RowBytes(*tw, n), ab = RowBytes(*ta, n);
      for (int64_t rows : {8, 24}) {
        for (int64_t tokens : {1, 3, 4, 6, 8, 21, 40, 137}) {
          std::vector<uint8_t> w(wb * rows), a(ab * tokens), repacked(wb * rows);
          for (int64_t r = 0; r < rows; ++r) {
            const std::vector<uint8_t> row = RandomRow(type, n, rng);
            std::memcpy(w.data() + r * wb, row.data(), wb);
          }
          for (int64_t t = 0; t < tokens; ++t) {
            ta->quantize_row(RandomFloats(n, rng).data(), a.data() + t * ab, n);
          }
          tw->repack_rows8(n, w.data(), wb, rows, repacked.data());
          std::vector<float> y(static_cast<size_t>(rows * tokens));
          tw->gemm_repacked8({n, repacked.data(), wb, 8, a.data(), ab, tokens, y.data(), rows});
          tw->gemm_repacked8({n, repacked.data() + 8 * wb, wb, rows - 8, a.data(), ab, tokens,
                              y.data() + 8, rows});
          for (int64_t t = 0; t < tokens; ++t) {
            for (int64_t r = 0; r < rows; ++r) {
              expect_bits(y[t * rows + r], rw->vec_dot(n, w.data() + r * wb, a.data() + t * ab),
                          Name(type, isa) + " repacked rows=" + std::to_string(rows) +
                              " tokens=" + std::to_string(tokens) + " r=" + std::to_string(r) +
                              " t=" + std::to_string(t));
              ++checked_repacked;
            }
          }
        }
      }
    }
  }
  std::printf("[ SIMD     ] K-quant outputs equal to the reference's: %d, repacked: %d\n", checked,
              checked_repacked);
}

// A batched gemm must give vec_dot's bits for every output, including the edges of its tiles
// (odd row and token counts) and a y leading dimension wider than the rows.
TEST(KernelsSimd, GemmMatchesVecDotExactly) {
  std::mt19937 rng(7);
  int checked = 0;
  for (Isa isa : RunnableIsas()) {
    for (QuantType wt : kWeightTypes) {
      const TypeTraits* tw = FindTypeTraitsForIsa(wt, isa);
      if (!tw->gemm) continue;
      const TypeTraits* ta = FindTypeTraitsForIsa(tw->vec_dot_type, isa);
      // Short rows in many tile shapes (137 tokens: two whole token groups and a part), and
      // rows longer than the tiles' scale tables hold (the 32-element types then decode).
      struct Case {
        int64_t blocks;
        std::vector<int64_t> rows, tokens;
      };
      for (const Case& c : {Case{18, {1, 2, 5, 16, 23}, {1, 2, 3, 4, 9, 37, 137}}, Case{512, {3}, {17}},
                            Case{520, {5}, {4, 5}}}) {
        const int64_t n = static_cast<int64_t>(tw->block_elems) * c.blocks;
        const size_t wb = RowBytes(*tw, n), ab = RowBytes(*ta, n);
        for (int64_t rows : c.rows) {
          for (int64_t tokens : c.tokens) {
            std::vector<uint8_t> w(wb * rows), a(ab * tokens);
            for (int64_t r = 0; r < rows; ++r) {
              const std::vector<uint8_t> row = RandomRow(wt, n, rng);
              std::memcpy(w.data() + r * wb, row.data(), wb);
            }
            for (int64_t t = 0; t < tokens; ++t) {
              ta->quantize_row(RandomFloats(n, rng).data(), a.data() + t * ab, n);
            }
            const int64_t ldy = rows + 3;
            std::vector<float> y(static_cast<size_t>(ldy * tokens), -1.0f);
            tw->gemm({n, w.data(), wb, rows, a.data(), ab, tokens, y.data(), ldy});
            for (int64_t t = 0; t < tokens; ++t) {
              for (int64_t r = 0; r < ldy; ++r) {
                const float got = y[t * ldy + r];
                if (r >= rows) {
                  ASSERT_EQ(got, -1.0f) << Name(wt, isa) << " wrote past its rows";
                  continue;
                }
                const float want = tw->vec_dot(n, w.data() + r * wb, a.data() + t * ab);
                uint32_t gb, wbits;
                std::memcpy(&gb, &got, 4);
                std::memcpy(&wbits, &want, 4);
                ASSERT_EQ(gb, wbits) << Name(wt, isa) << " rows=" << rows << " tokens=" << tokens
                                     << " r=" << r << " t=" << t << ": " << got << " vs " << want;
                ++checked;
              }
            }
          }
        }
      }
    }
  }
  std::printf("[ SIMD     ] gemm outputs checked against vec_dot: %d\n", checked);
}

// End to end through each ISA's own quantizer and dot product (what MatMul does).
TEST(KernelsSimd, QuantizeThenDotMatchesReference) {
  std::mt19937 rng(3);
  const int64_t n = 2048;
  for (Isa isa : RunnableIsas()) {
    for (QuantType wt : kWeightTypes) {
      const TypeTraits* tw = FindTypeTraitsForIsa(wt, isa);
      const TypeTraits* ta = FindTypeTraitsForIsa(tw->vec_dot_type, isa);
      const TypeTraits* rw = FindRefTypeTraits(wt);
      const TypeTraits* ra = FindRefTypeTraits(rw->vec_dot_type);
      for (int rep = 0; rep < 8; ++rep) {
        const std::vector<float> x = RandomFloats(n, rng);
        const std::vector<uint8_t> w = RandomRow(wt, n, rng);
        const std::vector<uint8_t> a_ref = ExpectedQuantization(ra->type, isa, x);
        ASSERT_EQ(QuantizeWith(*ta, x), a_ref) << Name(wt, isa);
        const double ref = rw->vec_dot(n, w.data(), a_ref.data());
        const double got = tw->vec_dot(n, w.data(), a_ref.data());
        const double mag = Magnitude(wt, w, rw->vec_dot_type, a_ref, n);
        EXPECT_LE(std::fabs(got - ref), kSimdVecDotRelErr * mag + n * kSimdVecDotAbsPerElem)
            << Name(wt, isa);
      }
    }
  }
}

}  // namespace
}  // namespace foundry
