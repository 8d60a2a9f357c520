#include "convert/tensor_names.h"

#include <charconv>
#include <span>

namespace foundry::convert {
namespace {

struct Rename {
  std::string_view hf;
  std::string_view gguf;
};

constexpr Rename kGlobal[] = {
    {"model.embed_tokens", "token_embd"},
    {"model.norm", "output_norm"},
    {"lm_head", "output"},
};

constexpr Rename kBlock[] = {
    {"input_layernorm", "attn_norm"},    {"self_attn.q_proj", "attn_q"},
    {"self_attn.k_proj", "attn_k"},      {"self_attn.v_proj", "attn_v"},
    {"self_attn.o_proj", "attn_output"}, {"post_attention_layernorm", "ffn_norm"},
    {"mlp.gate_proj", "ffn_gate"},       {"mlp.up_proj", "ffn_up"},
    {"mlp.down_proj", "ffn_down"},
};

// Gemma 3's, looked up before kBlock.
constexpr Rename kGemma3Block[] = {
    {"self_attn.q_norm", "attn_q_norm"},
    {"self_attn.k_norm", "attn_k_norm"},
    {"post_attention_layernorm", "post_attention_norm"},
    {"pre_feedforward_layernorm", "ffn_norm"},
    {"post_feedforward_layernorm", "post_ffw_norm"},
};

// Phi-3's fused projections, kept fused (attn_qkv: Q, K, V rows; ffn_up: gate, then up rows).
constexpr Rename kPhi3Block[] = {
    {"self_attn.qkv_proj", "attn_qkv"},
    {"mlp.gate_up_proj", "ffn_up"},
};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

StatusOr<std::optional<GgufTensorName>> MapHfTensorName(std::string_view hf_name,
                                                        std::string_view arch) {
  // Buffers, not weights (llama.cpp's converter skips them too).
  for (std::string_view skip :
       {".rotary_emb.inv_freq", ".attention.masked_bias", ".attention.bias"}) {
    if (EndsWith(hf_name, skip)) return std::optional<GgufTensorName>();
  }
  const auto unknown = [&] {
    return InvalidArgument("tensor '" + std::string(hf_name) + "' is not part of a " +
                           std::string(arch) + " model (cannot map it to GGUF)");
  };
  std::string_view suffix;
  std::string_view stem = hf_name;
  for (std::string_view s : {".weight", ".bias"}) {
    if (EndsWith(hf_name, s)) {
      suffix = s;
      stem = hf_name.substr(0, hf_name.size() - s.size());
    }
  }
  if (suffix.empty()) return unknown();
  for (const Rename& r : kGlobal) {
    if (stem == r.hf)
      return std::optional<GgufTensorName>({std::string(r.gguf) + std::string(suffix), -1});
  }
  constexpr std::string_view kLayers = "model.layers.";
  if (stem.substr(0, kLayers.size()) != kLayers) return unknown();
  stem.remove_prefix(kLayers.size());
  int layer = -1;
  auto [p, ec] = std::from_chars(stem.data(), stem.data() + stem.size(), layer);
  if (ec != std::errc() || layer < 0 || p == stem.data() + stem.size() || *p != '.')
    return unknown();
  stem.remove_prefix(static_cast<size_t>(p - stem.data()) + 1);
  // The architecture's own names first, then the common ones.
  std::span<const Rename> own;
  if (arch == "gemma3") own = kGemma3Block;
  if (arch == "phi3") own = kPhi3Block;
  for (std::span<const Rename> renames : {own, std::span<const Rename>(kBlock)}) {
    for (const Rename& r : renames) {
      if (stem == r.hf) {
        return std::optional<GgufTensorName>(
            {"blk." + std::to_string(layer) + "." + std::string(r.gguf) + std::string(suffix),
             layer});
      }
    }
  }
  return unknown();
}

int GgufTensorLayer(std::string_view name) {
  constexpr std::string_view kBlk = "blk.";
  if (name.substr(0, kBlk.size()) != kBlk) return -1;
  int layer = -1;
  auto [p, ec] = std::from_chars(name.data() + kBlk.size(), name.data() + name.size(), layer);
  if (ec != std::errc() || p == name.data() + name.size() || *p != '.') return -1;
  return layer;
}

}  // namespace foundry::convert
