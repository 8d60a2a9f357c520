#include "convert/quant_plan.h"

#include <cctype>

#include "convert/tensor_names.h"

namespace foundry::convert {
namespace {

struct QuantEntry {
  CompileQuant quant;
  std::string_view name;
  uint32_t file_type;   // llama_ftype
  QuantType base_type;  // the type of an ordinary weight
  bool converter;       // chosen by convert_hf_to_gguf.py (else by llama-quantize)
};

constexpr QuantEntry kQuants[] = {
    {CompileQuant::kF32, "f32", 0, QuantType::kF32, true},
    {CompileQuant::kF16, "f16", 1, QuantType::kF16, true},
    {CompileQuant::kBF16, "bf16", 32, QuantType::kBF16, true},
    {CompileQuant::kQ8_0, "q8_0", 7, QuantType::kQ8_0, true},
    {CompileQuant::kQ4_0, "q4_0", 2, QuantType::kQ4_0, false},
    {CompileQuant::kQ4_1, "q4_1", 3, QuantType::kQ4_1, false},
    {CompileQuant::kQ5_0, "q5_0", 8, QuantType::kQ5_0, false},
    {CompileQuant::kQ6_K, "q6_k", 18, QuantType::kQ6_K, false},
    {CompileQuant::kQ4_K_M, "q4_k_m", 15, QuantType::kQ4_K, false},
    {CompileQuant::kQ5_K_M, "q5_k_m", 17, QuantType::kQ5_K, false},
};

const QuantEntry& Entry(CompileQuant q) {
  for (const QuantEntry& e : kQuants) {
    if (e.quant == q) return e;
  }
  return kQuants[0];
}

uint64_t BlockElems(QuantType t) {
  return FindQuantTypeInfo(static_cast<uint32_t>(t))->block_elems;
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         std::string_view(s).substr(s.size() - suffix.size()) == suffix;
}

// llama.cpp's use_more_bits: the first and last eighth of the layers and every third between.
bool UseMoreBits(int64_t i_layer, int64_t n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

// llama-quantize's tensor_type_fallback: a type whose block does not divide the row.
QuantType Fallback(QuantType t, uint64_t ncols) {
  if (ncols % BlockElems(t) == 0) return t;
  QuantType r = t;
  switch (t) {
    case QuantType::kQ4_K:
      r = QuantType::kQ5_0;
      break;
    case QuantType::kQ5_K:
      r = QuantType::kQ5_1;
      break;
    case QuantType::kQ6_K:
      r = QuantType::kQ8_0;
      break;
    default:
      break;  // 32-element blocks: nothing smaller
  }
  return ncols % BlockElems(r) == 0 ? r : QuantType::kF16;
}

// llama-quantize's attention-V category: attn_v, and Phi-3's fused attn_qkv with it (its own
// attn_qkv rule comes after the attn_v one in llama.cpp's chain, so it never applies).
bool AttnVLike(const std::string& name) {
  return name.find("attn_v.weight") != std::string::npos ||
         name.find("attn_qkv.weight") != std::string::npos;
}

}  // namespace

StatusOr<CompileQuant> ParseCompileQuant(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const QuantEntry& e : kQuants) {
    if (e.name == lower) return e.quant;
  }
  return InvalidArgument("unknown --quant '" + std::string(name) +
                         "'; supported: " + SupportedCompileQuants());
}

std::string_view CompileQuantName(CompileQuant q) { return Entry(q).name; }

std::string SupportedCompileQuants() {
  std::string out;
  for (const QuantEntry& e : kQuants) out += (out.empty() ? "" : ", ") + std::string(e.name);
  return out;
}

uint32_t CompileQuantFileType(CompileQuant q) { return Entry(q).file_type; }

bool LlamaQuantizeOrder(const std::string& a, const std::string& b) {
  const int la = GgufTensorLayer(a), lb = GgufTensorLayer(b);
  if (la != lb) return la < lb;
  return a < b;
}

StatusOr<std::vector<QuantType>> ChooseTensorTypes(CompileQuant q, const QuantModelInfo& model,
                                                   const std::vector<PlannedTensor>& tensors) {
  const QuantEntry& e = Entry(q);
  bool tied = true;  // llama-quantize: tied until an output.weight shows up
  int64_t n_attn_v = 0;
  for (const PlannedTensor& t : tensors) {
    if (t.name == "output.weight") tied = false;
    if (AttnVLike(t.name)) ++n_attn_v;
  }
  const bool is_70b =
      model.n_layer == 80 &&
      (model.arch == "qwen2" || (model.arch == "llama" && model.n_head != model.n_head_kv));
  const bool k_mix = q == CompileQuant::kQ4_K_M || q == CompileQuant::kQ5_K_M;
  int64_t i_attn_v = 0, i_ffn_down = 0;

  std::vector<QuantType> types;
  for (const PlannedTensor& t : tensors) {
    // Both routes keep 1-D tensors, norms and non-weights in F32.
    if (t.ne.size() < 2 || EndsWith(t.name, "_norm.weight") || !EndsWith(t.name, ".weight")) {
      types.push_back(QuantType::kF32);
      continue;
    }
    const uint64_t ncols = t.ne[0];
    if (e.converter) {
      // gguf-py cannot make Q8_0 of a row that is not whole blocks: it falls back to F16.
      types.push_back(e.base_type == QuantType::kQ8_0 && ncols % 32 != 0 ? QuantType::kF16
                                                                         : e.base_type);
      continue;
    }
    QuantType type = e.base_type;
    const bool output = t.name == "output.weight" || (tied && t.name == "token_embd.weight");
    if (output) {
      if (ncols % BlockElems(type) != 0) {
        type = QuantType::kQ8_0;
      } else if (type != QuantType::kQ8_0) {
        type = QuantType::kQ6_K;
      }
    } else if (t.name == "token_embd.weight") {
      // the ftype's type
    } else if (AttnVLike(t.name)) {
      if (k_mix && UseMoreBits(i_attn_v, n_attn_v)) type = QuantType::kQ6_K;
      if (is_70b && (type == QuantType::kQ3_K || type == QuantType::kQ4_K)) type = QuantType::kQ5_K;
      ++i_attn_v;
    } else if (t.name.find("ffn_down") != std::string::npos) {
      if (k_mix && UseMoreBits(i_ffn_down, model.n_layer)) type = QuantType::kQ6_K;
      ++i_ffn_down;
    }
    types.push_back(Fallback(type, ncols));
  }
  return types;
}

}  // namespace foundry::convert
