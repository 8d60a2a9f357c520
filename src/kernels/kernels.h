// The kernels the model layer computes with, per ISA: the per-type dispatch table (matmuls),
// the vector kernels (element-wise ops) and the attention kernels, bundled as `Kernels`.
//
// To compute y = W x where each row of W has type T and n elements, with k = *KernelsForIsa(isa):
//   const TypeTraits* wt = k.Find(T);                    // nullptr: unsupported type
//   const TypeTraits* at = k.Find(wt->vec_dot_type);
//   std::vector<uint8_t> xq(RowBytes(*at, n));
//   at->quantize_row(x, xq.data(), n);                   // once per activation vector
//   for each row r: y[r] = wt->vec_dot(n, row_ptr(r), xq.data());
// n must be a multiple of both types' block_elems (all supported pairs share it).
//
// Nothing here reads the environment: the ISA is chosen where a model is loaded (LoadOptions,
// ResolveIsa) and the model passes its Kernels down. Every function an ISA has no kernel for
// falls back to the next lower ISA and finally to the scalar reference. FindRefTypeTraits
// always returns the scalar oracle that tests compare against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/tensor_type.h"

namespace foundry {

// One batched dot product: for r < n_rows and t < n_tokens,
// y[t * ldy + r] = dot(row r of w, activation row t of a), rows w_stride and a_stride bytes apart.
struct GemmArgs {
  int64_t n;  // elements per row
  const void* w;
  size_t w_stride;
  int64_t n_rows;
  const void* a;
  size_t a_stride;
  int64_t n_tokens;
  float* y;
  int64_t ldy;
};

using VecDotFn = float (*)(int64_t n, const void* w, const void* a);
using GemmFn = void (*)(const GemmArgs& args);

struct TypeTraits {
  QuantType type;
  QuantType vec_dot_type;  // activation type vec_dot expects (== type for activation types)
  size_t block_elems;
  size_t block_bytes;  // in-memory block size (Q8_1: 36, see quant_blocks.h)
  void (*dequantize_row)(const void* src, float* dst, int64_t n);
  // Quantize/convert n floats into this type; nullptr where we have no quantizer.
  void (*quantize_row)(const float* src, void* dst, int64_t n);
  // Dot product of a row of this type with a row of vec_dot_type; nullptr for types that
  // are activation-only (Q8_1, Q8_K).
  VecDotFn vec_dot;
  // Optional batched form of vec_dot (nullptr: call vec_dot per output): every output of the
  // GemmArgs is vec_dot(n, w + r * w_stride, a + t * a_stride), bit for bit, whatever the number
  // of tokens (the forward pass is batch-invariant: a token's results never depend on what else
  // the batch holds). Tiles of rows x tokens reuse each loaded block and keep independent
  // accumulators in flight.
  GemmFn gemm = nullptr;
  // Optional: n_rows rows (a multiple of 8) of n elements, src_stride bytes apart, rewritten
  // into dst (n_rows * RowBytes(n) bytes) in groups of 8 interleaved rows, the layout
  // gemm_repacked8 reads. Row r of the repacked matrix (r a multiple of 8) starts where it
  // started before, so a repacked tensor keeps its row stride.
  void (*repack_rows8)(int64_t n, const void* src, size_t src_stride, int64_t n_rows,
                       void* dst) = nullptr;
  // The gemm of weights repack_rows8 rewrote, GemmArgs::w at a group's first row and n_rows a
  // multiple of 8. Where repacked_order is nullptr: bit for bit vec_dot on the file's layout, for
  // any number of tokens.
  GemmFn gemm_repacked8 = nullptr;
  // Set where the repacked layout sums in an order of its own, the same for any number of
  // tokens, that the file's layout does not share (Q4_0, Q5_0 and Q8_0 on AVX2, whose file
  // layout keeps vec_dot's order): every output of gemm_repacked8 is repacked_order(n, row,
  // token), bit for bit. A reference function (ref::).
  VecDotFn repacked_order = nullptr;
};

// Supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q4_K, Q5_K, Q6_K, Q8_K. Every ISA
// supports the same types, with the same vec_dot_type and block sizes.
const TypeTraits* FindRefTypeTraits(QuantType type);

// Instruction sets with their own kernels, lowest first.
//   kAvx2:   AVX2 + FMA + F16C.
//   kAvx512: kAvx2 + AVX-512 F, BW, VL and VNNI (Ice Lake+, Zen 4+). AVX-512 without VNNI
//            (Skylake-X) gets kAvx2.
enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };
inline constexpr Isa kAllIsas[] = {Isa::kScalar, Isa::kAvx2, Isa::kAvx512};

std::string_view IsaName(Isa isa);  // "scalar", "avx2", "avx512"
// Whether this build and the running CPU (CPUID) can execute isa's kernels.
bool IsaSupported(Isa isa);
// The best ISA IsaSupported() allows.
Isa BestSupportedIsa();
// The ISA used when none is asked for: the best supported one whose kernels are chosen by
// default (kernels.cc, kIsaVerified): today every ISA, so the best the CPU has.
Isa DefaultIsa();

// Which ISA a load that asks for `requested` gets, as a pure function (the engine calls it
// with BestSupportedIsa() and DefaultIsa()). "" -> default_isa. "scalar", "avx2" or "avx512"
// select that ISA when it is at most `best` (the best supported); an ISA above `best`, or an
// unknown name, falls back to default_isa and sets *warning to a one-line message for the
// user. Otherwise *warning is cleared.
Isa ResolveIsa(std::string_view requested, Isa best, Isa default_isa, std::string* warning);

// The table of one ISA (functions it lacks come from lower ISAs). nullptr when the type is
// unsupported or !IsaSupported(isa), so a caller can never run an illegal instruction.
const TypeTraits* FindTypeTraitsForIsa(QuantType type, Isa isa);

// Element-wise kernels of the forward pass. The SIMD versions round exactly as llama.cpp's CPU
// backend does on the same ISA (its vectorized expf, its lane and summation order), so that
// greedy decoding follows llama.cpp token for token instead of parting at near-ties.
struct VectorKernels {
  // y[i] = exp(x[i] - max) for i < n; returns the sum in ggml_vec_soft_max_f32's order (per
  // group of 8 a float lane sum, groups added in double). y may alias x.
  double (*exp_sum)(int64_t n, const float* x, float max, float* y);
  // y[i] = silu(gate[i]) * up[i] (ggml_vec_swiglu_f32). y may alias gate or up.
  void (*swiglu)(int64_t n, const float* gate, const float* up, float* y);
  // acc[i] = fma(a, v[i], acc[i]) with v in f16: one lane of an f16 matmul accumulator.
  void (*axpy_f16)(int64_t n, float a, const uint16_t* v, float* acc);
  // y[i] = gelu(gate[i]) * up[i] with ggml's table: +0 for gate <= -kGeluTableLimit, gate
  // itself for gate >= kGeluTableLimit, else table[f16 bits of gate] as a float (table: 65536
  // f16 results, GeluTable in ops.cc). y may alias gate or up.
  void (*geglu)(int64_t n, const float* gate, const float* up, const uint16_t* table, float* y);
  // y[i] = Fp32ToFp16(x[i]) (round to nearest even; a NaN stays a NaN, its payload may differ):
  // the KV cache's stores.
  void (*to_f16)(int64_t n, const float* x, uint16_t* y);
};

// Where ggml's GELU leaves its table: gelu(x) is x at or above this and 0 at or below minus it.
inline constexpr float kGeluTableLimit = 10.0f;

// The vector kernels of a supported ISA (nullptr when !IsaSupported(isa)).
const VectorKernels* VectorKernelsForIsa(Isa isa);

// The inner loops of attention over the KV cache (f16 rows), in the order llama.cpp's tinyBLAS
// gives batches of 2 or more tokens, which we take for every batch, a single token included
// (llama.cpp decodes one token in ggml_vec_dot_f16's order instead): one order whatever the
// batch. Each result is bit for bit what the same ISA's per-row kernels give, composed one cell
// at a time; these only do it with fewer calls and more independent accumulators in flight.
struct AttentionKernels {
  // scores[h * ld + j] = TypeTraits(kF16).vec_dot(d, k + j * k_stride, f16(q + h * d)) for
  // h < n_q, j < n. q holds n_q rows of d floats, each exactly an f16 value.
  void (*kq)(int64_t d, const uint16_t* k, int64_t k_stride, int64_t n, const float* q, int64_t n_q,
             float* scores, int64_t ld);
  // out[i] for i < dv: lane j % 8 accumulates VectorKernels::axpy_f16(dv, p[j], v + j * v_stride)
  // over j < n in order, then the lanes are added as tinyBLAS's horizontal sum,
  // ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)).
  void (*kqv)(int64_t dv, const uint16_t* v, int64_t v_stride, int64_t n, const float* p,
              float* out);
  // x[i] = f16(x[i]) as a float, for i < n: llama.cpp's f16 KQV rounds the probabilities so.
  void (*round_to_f16)(int64_t n, float* x);
  // kqv for n_p <= kMaxHeadsPerJob query heads that share the V rows (GQA): out[h * dv + i] is
  // kqv(dv, v, v_stride, n, p + h * ld, out + h * dv)'s, bit for bit, with each V row read once
  // for all the heads.
  void (*kqv_heads)(int64_t dv, const uint16_t* v, int64_t v_stride, int64_t n, const float* p,
                    int64_t n_p, int64_t ld, float* out);
};

// The most query heads one kqv_heads call takes.
inline constexpr int64_t kMaxHeadsPerJob = 8;

// The attention kernels of a supported ISA (nullptr when !IsaSupported(isa)).
const AttentionKernels* AttentionKernelsForIsa(Isa isa);

// Everything the forward pass computes with on one ISA. Immutable; a model keeps the one it was
// loaded with and passes it to the layers and ops.
struct Kernels {
  Isa isa;
  const TypeTraits* types;  // n_types entries, one per supported type
  int n_types;
  const VectorKernels* vector;
  const AttentionKernels* attention;

  // The table of `type`, nullptr when it is unsupported.
  const TypeTraits* Find(QuantType type) const {
    for (int i = 0; i < n_types; ++i) {
      if (types[i].type == type) return &types[i];
    }
    return nullptr;
  }
};

// The kernels of `isa`; nullptr when !IsaSupported(isa), so a caller can never run an illegal
// instruction.
const Kernels* KernelsForIsa(Isa isa);

inline size_t RowBytes(const TypeTraits& t, int64_t n) {
  return static_cast<size_t>(n) / t.block_elems * t.block_bytes;
}

}  // namespace foundry
