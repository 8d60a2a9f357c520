#include "kernels/kernels.h"

#include <string>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "kernels/quant_blocks.h"
#include "kernels/ref/quant_ref.h"
#include "kernels/ref/vector_ref.h"
#include "kernels/x86/x86_kernels.h"

namespace foundry {
namespace {

// The scalar oracle; a type without a quantizer (Q5_0) or dot product (the activation-only
// Q8_1 and Q8_K) leaves it null.
constexpr TypeTraits kRefTraits[] = {
    {.type = QuantType::kF32,
     .vec_dot_type = QuantType::kF32,
     .block_elems = 1,
     .block_bytes = 4,
     .dequantize_row = ref::DequantizeRowF32,
     .quantize_row = ref::QuantizeRowF32,
     .vec_dot = ref::VecDotF32F32},
    {.type = QuantType::kF16,
     .vec_dot_type = QuantType::kF16,
     .block_elems = 1,
     .block_bytes = 2,
     .dequantize_row = ref::DequantizeRowF16,
     .quantize_row = ref::QuantizeRowF16,
     .vec_dot = ref::VecDotF16F16},
    {.type = QuantType::kBF16,
     .vec_dot_type = QuantType::kBF16,
     .block_elems = 1,
     .block_bytes = 2,
     .dequantize_row = ref::DequantizeRowBF16,
     .quantize_row = ref::QuantizeRowBF16,
     .vec_dot = ref::VecDotBF16BF16},
    {.type = QuantType::kQ4_0,
     .vec_dot_type = QuantType::kQ8_0,
     .block_elems = kQK4_0,
     .block_bytes = sizeof(BlockQ4_0),
     .dequantize_row = ref::DequantizeRowQ4_0,
     .quantize_row = ref::QuantizeRowQ4_0,
     .vec_dot = ref::VecDotQ4_0Q8_0},
    {.type = QuantType::kQ4_1,
     .vec_dot_type = QuantType::kQ8_1,
     .block_elems = kQK4_1,
     .block_bytes = sizeof(BlockQ4_1),
     .dequantize_row = ref::DequantizeRowQ4_1,
     .quantize_row = ref::QuantizeRowQ4_1,
     .vec_dot = ref::VecDotQ4_1Q8_1},
    {.type = QuantType::kQ5_0,
     .vec_dot_type = QuantType::kQ8_0,
     .block_elems = kQK5_0,
     .block_bytes = sizeof(BlockQ5_0),
     .dequantize_row = ref::DequantizeRowQ5_0,
     .quantize_row = ref::QuantizeRowQ5_0,
     .vec_dot = ref::VecDotQ5_0Q8_0},
    {.type = QuantType::kQ5_1,
     .vec_dot_type = QuantType::kQ8_1,
     .block_elems = kQK5_1,
     .block_bytes = sizeof(BlockQ5_1),
     .dequantize_row = ref::DequantizeRowQ5_1,
     .quantize_row = ref::QuantizeRowQ5_1,
     .vec_dot = ref::VecDotQ5_1Q8_1},
    {.type = QuantType::kQ8_0,
     .vec_dot_type = QuantType::kQ8_0,
     .block_elems = kQK8_0,
     .block_bytes = sizeof(BlockQ8_0),
     .dequantize_row = ref::DequantizeRowQ8_0,
     .quantize_row = ref::QuantizeRowQ8_0,
     .vec_dot = ref::VecDotQ8_0Q8_0},
    {.type = QuantType::kQ8_1,
     .vec_dot_type = QuantType::kQ8_1,
     .block_elems = kQK8_1,
     .block_bytes = sizeof(BlockQ8_1),
     .dequantize_row = ref::DequantizeRowQ8_1,
     .quantize_row = ref::QuantizeRowQ8_1},
    {.type = QuantType::kQ4_K,
     .vec_dot_type = QuantType::kQ8_K,
     .block_elems = kQK_K,
     .block_bytes = sizeof(BlockQ4_K),
     .dequantize_row = ref::DequantizeRowQ4_K,
     .quantize_row = ref::QuantizeRowQ4_K,
     .vec_dot = ref::VecDotQ4_KQ8_K},
    {.type = QuantType::kQ5_K,
     .vec_dot_type = QuantType::kQ8_K,
     .block_elems = kQK_K,
     .block_bytes = sizeof(BlockQ5_K),
     .dequantize_row = ref::DequantizeRowQ5_K,
     .quantize_row = ref::QuantizeRowQ5_K,
     .vec_dot = ref::VecDotQ5_KQ8_K},
    {.type = QuantType::kQ6_K,
     .vec_dot_type = QuantType::kQ8_K,
     .block_elems = kQK_K,
     .block_bytes = sizeof(BlockQ6_K),
     .dequantize_row = ref::DequantizeRowQ6_K,
     .quantize_row = ref::QuantizeRowQ6_K,
     .vec_dot = ref::VecDotQ6_KQ8_K},
    {.type = QuantType::kQ8_K,
     .vec_dot_type = QuantType::kQ8_K,
     .block_elems = kQK_K,
     .block_bytes = sizeof(BlockQ8_K),
     .dequantize_row = ref::DequantizeRowQ8_K,
     .quantize_row = ref::QuantizeRowQ8_K},
};

constexpr int kNumTypes = sizeof(kRefTraits) / sizeof(kRefTraits[0]);
constexpr int kNumIsas = sizeof(kAllIsas) / sizeof(kAllIsas[0]);

// Whether each ISA's kernels are chosen by default (DefaultIsa): every one, the best the CPU has.
// AVX-512 (F, BW, VL, VNNI) takes AVX2's kernels but for its K-quant prompt gemms (VNNI panels,
// the same bits) and F32/BF16 dot products, so it rounds as AVX2 does on the quantized models
// and prompts them faster (side by side with llama.cpp in docs/performance.md). A CPU with AVX-512 but no VNNI (Skylake-SP and -X) does not qualify
// (IsaSupported) and runs the AVX2 kernels.
constexpr bool kIsaVerified[] = {true, true, true};
static_assert(sizeof(kIsaVerified) / sizeof(kIsaVerified[0]) == kNumIsas);

// The per-ISA override table of `isa` for `type` (nullptr: no kernels of its own).
const TypeTraits* OverridesFor(QuantType type, Isa isa) {
#if defined(__x86_64__)
  switch (isa) {
    case Isa::kAvx2:
      return x86::Avx2TypeTraits(type);
    case Isa::kAvx512:
      return x86::Avx512TypeTraits(type);
    case Isa::kScalar:
      break;
  }
#else
  (void)type;
  (void)isa;
#endif
  return nullptr;
}

// tables[isa][i]: kRefTraits[i] with the non-null functions of every ISA up to `isa`.
struct MergedTables {
  TypeTraits tables[kNumIsas][kNumTypes];

  MergedTables() {
    for (int k = 0; k < kNumIsas; ++k) {
      for (int i = 0; i < kNumTypes; ++i) {
        TypeTraits t = k == 0 ? kRefTraits[i] : tables[k - 1][i];
        if (const TypeTraits* o = OverridesFor(t.type, kAllIsas[k])) {
          if (o->dequantize_row) t.dequantize_row = o->dequantize_row;
          if (o->quantize_row) t.quantize_row = o->quantize_row;
          if (o->vec_dot) {  // gemm must round as this vec_dot does: take both or neither
            t.vec_dot = o->vec_dot;
            t.gemm = o->gemm;
            t.repack_rows8 = o->repack_rows8;
            t.gemm_repacked8 = o->gemm_repacked8;
            t.repacked_order = o->repacked_order;
          }
        }
        tables[k][i] = t;
      }
    }
  }
};

const MergedTables& Tables() {
  static const MergedTables tables;  // immutable once built (thread-safe initialisation)
  return tables;
}

bool CpuHasAvx2() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  // F16C from CPUID itself: clang's __builtin_cpu_supports does not know "f16c".
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
#else
  return false;
#endif
}

bool CpuHasAvx512() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return CpuHasAvx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

}  // namespace

std::string_view IsaName(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
  }
  return "unknown";
}

bool IsaSupported(Isa isa) {
  static const bool avx2 = CpuHasAvx2();
  static const bool avx512 = CpuHasAvx512();
  switch (isa) {
    case Isa::kScalar:
      return true;
    case Isa::kAvx2:
      return avx2;
    case Isa::kAvx512:
      return avx512;
  }
  return false;
}

Isa BestSupportedIsa() {
  Isa best = Isa::kScalar;
  for (Isa isa : kAllIsas) {
    if (IsaSupported(isa)) best = isa;
  }
  return best;
}

Isa DefaultIsa() {
  Isa isa = Isa::kScalar;
  for (int k = 0; k < kNumIsas; ++k) {
    if (kIsaVerified[k] && IsaSupported(kAllIsas[k])) isa = kAllIsas[k];
  }
  return isa;
}

Isa ResolveIsa(std::string_view requested, Isa best, Isa default_isa, std::string* warning) {
  warning->clear();
  if (requested.empty()) return default_isa;
  for (Isa isa : kAllIsas) {
    if (IsaName(isa) != requested) continue;
    if (static_cast<int>(isa) <= static_cast<int>(best)) return isa;
    *warning = "ISA " + std::string(requested) + " is not supported by this CPU; using " +
               std::string(IsaName(default_isa));
    return default_isa;
  }
  *warning = "unknown ISA " + std::string(requested) +
             " (expected scalar, avx2 or avx512); using " + std::string(IsaName(default_isa));
  return default_isa;
}

const TypeTraits* FindRefTypeTraits(QuantType type) {
  for (const TypeTraits& t : kRefTraits) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

const VectorKernels* VectorKernelsForIsa(Isa isa) {
  if (!IsaSupported(isa)) return nullptr;
#if defined(__x86_64__)
  // AVX-512 uses the AVX2 vector kernels: they follow llama.cpp's rounding (its expf, its lane
  // order), and they are a small share of a forward pass next to the matmuls.
  if (isa != Isa::kScalar) return &x86::Avx2VectorKernels();
#endif
  return &ref::ScalarVectorKernels();
}

const AttentionKernels* AttentionKernelsForIsa(Isa isa) {
  if (!IsaSupported(isa)) return nullptr;
#if defined(__x86_64__)
  if (isa != Isa::kScalar) return &x86::Avx2AttentionKernels();  // AVX-512 as AVX2, see above
#endif
  return &ref::ScalarAttentionKernels();
}

namespace {

// The kernels of every ISA, built once from the merged tables (immutable).
struct AllKernels {
  Kernels kernels[kNumIsas];

  AllKernels() {
    for (int k = 0; k < kNumIsas; ++k) {
      const Isa isa = kAllIsas[k];
      kernels[k] = {.isa = isa,
                    .types = Tables().tables[k],
                    .n_types = kNumTypes,
                    .vector = VectorKernelsForIsa(isa),
                    .attention = AttentionKernelsForIsa(isa)};
    }
  }
};

}  // namespace

const Kernels* KernelsForIsa(Isa isa) {
  if (!IsaSupported(isa)) return nullptr;
  static const AllKernels all;
  return &all.kernels[static_cast<int>(isa)];
}

const TypeTraits* FindTypeTraitsForIsa(QuantType type, Isa isa) {
  const Kernels* k = KernelsForIsa(isa);
  return k != nullptr ? k->Find(type) : nullptr;
}

}  // namespace foundry
