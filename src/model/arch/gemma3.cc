// Gemma 3 (`gemma3`), following llama.cpp's graph: embeddings scaled by sqrt(n_embd);
// per layer RMSNorm -> Q/K/V -> per-head RMSNorm of Q and K -> NEOX RoPE -> Q scaled by
// 1/sqrt(head_dim) -> attention (sliding-window on 5 of every 6 layers, with their own RoPE
// base) -> RMSNorm of the attention output -> residual -> RMSNorm -> GeGLU FFN (tanh GELU)
// -> RMSNorm of the FFN output -> residual; final RMSNorm; output head tied to the
// embeddings when absent. The GGUF converter already folds Gemma's (1 + w) into the norm
// weights, so every norm is a plain RMSNorm times its weight.
#include <cmath>
#include <string>

#include "model/arch_registry.h"
#include "model/decoder.h"

namespace foundry {
namespace {

// The sliding window, its layer pattern and RoPE, and the final logit soft-capping.
Status ReadWindowAndCap(const GgufFile& g, const HParams& h, DecoderSpec* spec) {
  const std::string a = h.arch + ".";
  FOUNDRY_ASSIGN_OR_RETURN(auto swa, g.FindUint(a + "attention.sliding_window"));
  if (swa && *swa > (uint64_t{1} << 24)) {
    return CorruptFile("metadata '" + a + "attention.sliding_window' = " + std::to_string(*swa) +
                       " is out of range");
  }
  spec->sliding_window = swa ? static_cast<int64_t>(*swa) : 0;
  if (spec->sliding_window > 0) {
    // Newer converters may record the pattern and the local RoPE base; Gemma 3's defaults
    // (every 6th layer global, local base 10000) are what llama.cpp assumes otherwise.
    spec->swa_pattern = 6;
    FOUNDRY_ASSIGN_OR_RETURN(auto pattern, g.FindUint(a + "attention.sliding_window_pattern"));
    if (pattern) {
      if (*pattern > 1024) return CorruptFile("attention.sliding_window_pattern is out of range");
      spec->swa_pattern = static_cast<int64_t>(*pattern);
    }
    FOUNDRY_ASSIGN_OR_RETURN(auto base_swa, g.FindFloat(a + "rope.freq_base_swa"));
    spec->rope_swa.params = BaseRopeParams(h);
    spec->rope_swa.params.freq_base = base_swa ? static_cast<float>(*base_swa) : 10000.0f;
    spec->rope_swa.params.freq_scale = 1.0f;
    if (!(spec->rope_swa.params.freq_base > 0)) {
      return CorruptFile("rope.freq_base_swa must be positive");
    }
  } else {
    FOUNDRY_ASSIGN_OR_RETURN(auto cap, g.FindFloat(a + "final_logit_softcapping"));
    if (cap && *cap > 0) spec->final_logit_softcap = static_cast<float>(*cap);
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::unique_ptr<Model>> LoadGemma3(std::shared_ptr<const GgufFile> gguf,
                                            std::string_view arch) {
  FOUNDRY_ASSIGN_OR_RETURN(HParams h, ReadLlamaFamilyHParams(*gguf, arch));
  h.rope_layout = RopeLayout::kNeox;
  DecoderSpec spec;
  spec.tensors.qk_norm = true;
  spec.tensors.post_norms = true;
  spec.ffn = FfnActivation::kGeGlu;
  spec.scale_embeddings = true;
  // llama.cpp (after gemma_pytorch's config): 27B scales by 1/sqrt(n_embd / n_head), the
  // others by 1/sqrt(head_dim).
  const bool is_27b = h.n_layer == 62;
  spec.q_scale = is_27b ? 1.0f / std::sqrt(static_cast<float>(h.n_embd / h.n_head))
                        : 1.0f / std::sqrt(static_cast<float>(h.head_dim));
  spec.rope.params = BaseRopeParams(h);
  FOUNDRY_RETURN_IF_ERROR(ReadWindowAndCap(*gguf, h, &spec));
  return LoadDecoder(std::move(gguf), std::move(h), std::move(spec));
}

}  // namespace foundry
