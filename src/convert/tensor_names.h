// Hugging Face tensor names of the Llama family (llama, qwen2, gemma3) mapped to GGUF names, as
// llama.cpp's converter maps them: model.layers.N.self_attn.q_proj.weight -> blk.N.attn_q.weight.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace foundry::convert {

struct GgufTensorName {
  std::string name;  // e.g. "blk.3.attn_q.weight"
  int layer = -1;    // -1: not a block tensor
};

// nullopt for tensors the converter drops (rotary_emb.inv_freq and other buffers); an error
// naming the tensor for one that is not part of the architecture.
// `arch` is the GGUF architecture: Gemma 3 has its own norms (q/k norms, pre/post
// feed-forward norms) and its post_attention_layernorm is a post-norm, not the FFN's input norm.
StatusOr<std::optional<GgufTensorName>> MapHfTensorName(std::string_view hf_name,
                                                        std::string_view arch = "llama");

// The block (layer) of a GGUF tensor name ("blk.N."), or -1.
int GgufTensorLayer(std::string_view gguf_name);

}  // namespace foundry::convert
