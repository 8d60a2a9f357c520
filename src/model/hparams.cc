#include "model/hparams.h"

#include <string>

namespace foundry {
namespace {

StatusOr<int64_t> ReadCount(const GgufFile& g, const std::string& key, int64_t max,
                            std::optional<int64_t> fallback = std::nullopt) {
  FOUNDRY_ASSIGN_OR_RETURN(auto v, g.FindUint(key));
  if (!v) {
    if (fallback) return *fallback;
    return CorruptFile("required metadata '" + key + "' is missing");
  }
  if (*v == 0 || *v > static_cast<uint64_t>(max)) {
    return CorruptFile("metadata '" + key + "' = " + std::to_string(*v) + " is out of range");
  }
  return static_cast<int64_t>(*v);
}

}  // namespace

StatusOr<HParams> ReadLlamaFamilyHParams(const GgufFile& g, std::string_view arch_name) {
  HParams h;
  h.arch = std::string(arch_name);
  const std::string a = h.arch + ".";
  FOUNDRY_ASSIGN_OR_RETURN(h.n_ctx_train, ReadCount(g, a + "context_length", 1 << 24));
  FOUNDRY_ASSIGN_OR_RETURN(h.n_embd, ReadCount(g, a + "embedding_length", 1 << 16));
  FOUNDRY_ASSIGN_OR_RETURN(h.n_layer, ReadCount(g, a + "block_count", 1024));
  FOUNDRY_ASSIGN_OR_RETURN(h.n_ff, ReadCount(g, a + "feed_forward_length", 1 << 20));
  FOUNDRY_ASSIGN_OR_RETURN(h.n_head, ReadCount(g, a + "attention.head_count", 1024));
  FOUNDRY_ASSIGN_OR_RETURN(h.n_head_kv,
                           ReadCount(g, a + "attention.head_count_kv", 1024, h.n_head));
  if (h.n_embd % h.n_head != 0 && !g.Find(a + "attention.key_length")) {
    return CorruptFile("embedding_length is not a multiple of head_count");
  }
  FOUNDRY_ASSIGN_OR_RETURN(h.head_dim,
                           ReadCount(g, a + "attention.key_length", 4096, h.n_embd / h.n_head));
  FOUNDRY_ASSIGN_OR_RETURN(h.head_dim_v,
                           ReadCount(g, a + "attention.value_length", 4096, h.head_dim));
  FOUNDRY_ASSIGN_OR_RETURN(h.n_rot, ReadCount(g, a + "rope.dimension_count", 4096, h.head_dim));
  if (h.n_head % h.n_head_kv != 0) {
    return CorruptFile("attention.head_count (" + std::to_string(h.n_head) +
                       ") is not a multiple of head_count_kv (" + std::to_string(h.n_head_kv) +
                       ")");
  }
  if (h.n_rot > h.head_dim || h.n_rot % 2 != 0) {
    return CorruptFile("rope.dimension_count " + std::to_string(h.n_rot) +
                       " must be even and at most the head size");
  }
  FOUNDRY_ASSIGN_OR_RETURN(auto eps, g.FindFloat(a + "attention.layer_norm_rms_epsilon"));
  if (eps) h.rms_eps = static_cast<float>(*eps);
  FOUNDRY_ASSIGN_OR_RETURN(auto base, g.FindFloat(a + "rope.freq_base"));
  if (base) h.rope_freq_base = static_cast<float>(*base);
  if (!(h.rope_freq_base > 0)) return CorruptFile("rope.freq_base must be positive");
  FOUNDRY_ASSIGN_OR_RETURN(auto scaling, g.FindString(a + "rope.scaling.type"));
  FOUNDRY_ASSIGN_OR_RETURN(auto factor, g.FindFloat(a + "rope.scaling.factor"));
  if (scaling && *scaling == "linear" && factor && *factor > 0) {
    h.rope_freq_scale = static_cast<float>(1.0 / *factor);
  } else if (scaling && *scaling != "none" && *scaling != "linear") {
    return Unimplemented("rope scaling '" + std::string(*scaling) + "' is not supported yet");
  }
  // The vocabulary size comes from the token list, which every runnable model has.
  FOUNDRY_ASSIGN_OR_RETURN(auto tokens, g.GetStringArray("tokenizer.ggml.tokens"));
  h.n_vocab = static_cast<int64_t>(tokens->size());
  if (h.n_vocab == 0) return CorruptFile("the vocabulary is empty");
  return h;
}

}  // namespace foundry
