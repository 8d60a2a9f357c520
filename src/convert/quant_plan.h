// `--quant`: the tensor types of a compiled model, chosen as llama.cpp chooses them.
// * f32, f16, bf16, q8_0: as convert_hf_to_gguf.py --outtype: 1-D tensors and norms F32,
//   every other weight the type (Q8_0 rows that are not whole blocks fall back to F16).
// * q4_0, q4_1, q5_0, q6_k, q4_k_m, q5_k_m: as convert_hf_to_gguf.py --outtype f32 followed
//   by llama-quantize (llama_tensor_get_type): the output head (and tied token embeddings)
//   Q6_K, the _m mixes' Q6_K attn_v / ffn_down on the layers use_more_bits picks, and the
//   fallbacks for rows that are not whole blocks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/tensor_type.h"

namespace foundry::convert {

enum class CompileQuant { kF32, kF16, kBF16, kQ8_0, kQ4_0, kQ4_1, kQ5_0, kQ6_K, kQ4_K_M, kQ5_K_M };

// "q4_k_m" (case-insensitive) -> kQ4_K_M; an error listing the supported values otherwise.
StatusOr<CompileQuant> ParseCompileQuant(std::string_view name);
std::string_view CompileQuantName(CompileQuant q);
std::string SupportedCompileQuants();  // "f32, f16, ..."
// general.file_type (llama_ftype).
uint32_t CompileQuantFileType(CompileQuant q);

// What llama-quantize's rules look at.
struct QuantModelInfo {
  std::string arch;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
};

struct PlannedTensor {
  std::string name;          // GGUF name
  std::vector<uint64_t> ne;  // ne[0]: row length
};

// The type of every tensor; `tensors` in the order llama-quantize visits them (non-block
// tensors by name, then block by block, by name: the order of ChooseTensorTypes' callers).
StatusOr<std::vector<QuantType>> ChooseTensorTypes(CompileQuant q, const QuantModelInfo& model,
                                                   const std::vector<PlannedTensor>& tensors);

// Sorts tensors into llama-quantize's order (by layer, non-block tensors first, then name).
bool LlamaQuantizeOrder(const std::string& a, const std::string& b);

}  // namespace foundry::convert
