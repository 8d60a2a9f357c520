// A decoder-only transformer described as data: what an architecture file fills in (which
// tensors its layers have, its FFN activation, RoPE, scales and sliding window) to get a
// Model. Layers are pre-norm: x += [post-norm](attention(input block)); x += [post-norm](FFN).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "format/gguf_file.h"
#include "kernels/ops.h"
#include "model/blocks.h"
#include "model/hparams.h"
#include "model/model.h"

namespace foundry {

// A RoPE: its parameters and optional frequency factors (tensors of n_rot / 2 divisors of
// theta: Llama 3.1's rope_freqs, Phi-3's LongRoPE short and long factors).
struct RopeSpec {
  RopeParams params;         // freq_factors is set from the tensors below
  std::string factors;       // tensor name, or "" for none
  std::string long_factors;  // used instead when the context per sequence exceeds long_past_ctx
  int64_t long_past_ctx = 0;
};

struct DecoderSpec {
  LayerTensors tensors;
  FfnActivation ffn = FfnActivation::kSwiGlu;
  bool scale_embeddings = false;  // x *= sqrt(n_embd) after the lookup (gemma3)
  float q_scale = 1.0f;           // Q multiplied after RoPE (1: left alone)
  float attn_scale = 1.0f;        // the attention scores' scale
  RopeSpec rope;
  // Sliding-window layers: layer il is one iff sliding_window > 0 and (swa_pattern == 0 or
  // il % swa_pattern < swa_pattern - 1); they attend to their last sliding_window positions
  // and use rope_swa.
  int64_t sliding_window = 0;
  int64_t swa_pattern = 0;
  RopeSpec rope_swa;
  float final_logit_softcap = 0.0f;  // > 0: logits = cap * tanh(logits / cap)

  bool IsSwa(int64_t il) const {
    return sliding_window > 0 && (swa_pattern == 0 || il % swa_pattern < swa_pattern - 1);
  }
};

// Binds the weights of `gguf` for the decoder `spec` describes.
StatusOr<std::unique_ptr<Model>> LoadDecoder(std::shared_ptr<const GgufFile> gguf, HParams h,
                                             DecoderSpec spec);

}  // namespace foundry
