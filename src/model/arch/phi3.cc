// Phi-3 / Phi-3.5 / Phi-4-mini (`phi3`), following llama.cpp's graph: pre-norm blocks with a
// fused QKV projection (`attn_qkv`: Q rows, then K, then V) or separate Q/K/V, NEOX RoPE on
// the first `rope.dimension_count` dimensions of each head (partial rotary), Q scaled by
// 1/sqrt(head_dim) after RoPE, and a SwiGLU FFN whose gate and up halves are fused in
// `ffn_up` (2 * n_ff rows, gate first). LongRoPE: per-dimension frequency divisors
// `rope_factors_long` / `rope_factors_short`, long when the context per sequence exceeds
// `rope.scaling.original_context_length`, and `rope.scaling.attn_factor` scaling cos/sin.
// The sliding window in the metadata is not applied: llama.cpp (our reference) disables
// Phi-3 SWA, so every layer attends to the whole context.
#include <cmath>
#include <string>

#include "model/arch_registry.h"
#include "model/decoder.h"

namespace foundry {
namespace {

// The LongRoPE settings: rope.scaling.original_context_length (n_ctx_train by default) and
// rope.scaling.attn_factor.
Status ReadLongRope(const GgufFile& g, const HParams& h, RopeSpec* rope) {
  const std::string a = h.arch + ".";
  FOUNDRY_ASSIGN_OR_RETURN(auto orig, g.FindUint(a + "rope.scaling.original_context_length"));
  if (orig && (*orig == 0 || *orig > (uint64_t{1} << 24))) {
    return CorruptFile("metadata '" + a + "rope.scaling.original_context_length' = " +
                       std::to_string(*orig) + " is out of range");
  }
  const int64_t n_ctx_orig = orig ? static_cast<int64_t>(*orig) : h.n_ctx_train;
  FOUNDRY_ASSIGN_OR_RETURN(auto attn_factor, g.FindFloat(a + "rope.scaling.attn_factor"));
  if (attn_factor && !(*attn_factor > 0 && *attn_factor < 100)) {
    return CorruptFile("metadata '" + a + "rope.scaling.attn_factor' is out of range");
  }
  rope->params = BaseRopeParams(h);
  rope->params.n_ctx_orig = static_cast<int>(n_ctx_orig);
  if (attn_factor) rope->params.attn_factor = static_cast<float>(*attn_factor);
  rope->factors = "rope_factors_short.weight";
  rope->long_factors = "rope_factors_long.weight";
  rope->long_past_ctx = n_ctx_orig;
  return OkStatus();
}

}  // namespace

StatusOr<std::unique_ptr<Model>> LoadPhi3(std::shared_ptr<const GgufFile> gguf,
                                          std::string_view arch) {
  FOUNDRY_ASSIGN_OR_RETURN(HParams h, ReadLlamaFamilyHParams(*gguf, arch));
  h.rope_layout = RopeLayout::kNeox;
  if (h.head_dim != h.head_dim_v) return CorruptFile("phi3 needs equal key and value head sizes");
  DecoderSpec spec;
  spec.tensors.fused_qkv = true;  // when the file has attn_qkv
  spec.tensors.fused_gate_up = true;
  spec.ffn = FfnActivation::kSwiGlu;
  spec.q_scale = 1.0f / std::sqrt(static_cast<float>(h.head_dim));
  FOUNDRY_RETURN_IF_ERROR(ReadLongRope(*gguf, h, &spec.rope));
  return LoadDecoder(std::move(gguf), std::move(h), std::move(spec));
}

}  // namespace foundry
