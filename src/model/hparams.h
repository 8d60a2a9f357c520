// Hyper-parameters read from GGUF metadata (`<arch>.*` keys).
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "format/gguf_file.h"

namespace foundry {

enum class RopeLayout { kNorm, kNeox };

struct HParams {
  std::string arch;
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t n_ff = 0;
  int64_t head_dim = 0;    // key length
  int64_t head_dim_v = 0;  // value length
  int64_t n_rot = 0;
  float rms_eps = 1e-5f;
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;
  RopeLayout rope_layout = RopeLayout::kNorm;

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
  int64_t v_dim() const { return n_head_kv * head_dim_v; }
};

// Reads the keys shared by the llama family and validates them (positive, divisible).
StatusOr<HParams> ReadLlamaFamilyHParams(const GgufFile& gguf, std::string_view arch);

}  // namespace foundry
