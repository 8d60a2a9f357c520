// The Llama family: `llama` (Llama 2/3, SmolLM, Mistral-style) and `qwen2` (QKV bias, NEOX
// RoPE). Pre-norm decoder blocks: RMSNorm -> GQA attention with RoPE -> residual ->
// RMSNorm -> SwiGLU FFN -> residual; output head tied to the embeddings when absent.
// Llama 3.1+ RoPE scaling comes as `rope_freqs.weight`: per-dimension divisors of theta,
// applied by RoPE as llama.cpp does.
#include <cmath>

#include "model/arch_registry.h"
#include "model/decoder.h"

namespace foundry {

StatusOr<std::unique_ptr<Model>> LoadLlamaFamily(std::shared_ptr<const GgufFile> gguf,
                                                 std::string_view arch) {
  FOUNDRY_ASSIGN_OR_RETURN(HParams h, ReadLlamaFamilyHParams(*gguf, arch));
  h.rope_layout = arch == "qwen2" ? RopeLayout::kNeox : RopeLayout::kNorm;
  DecoderSpec spec;
  spec.tensors.qkv_bias = true;  // optional in the file
  spec.ffn = FfnActivation::kSwiGlu;
  spec.attn_scale = 1.0f / std::sqrt(static_cast<float>(h.head_dim));
  spec.rope.params = BaseRopeParams(h);
  spec.rope.factors = "rope_freqs.weight";
  return LoadDecoder(std::move(gguf), std::move(h), std::move(spec));
}

}  // namespace foundry
