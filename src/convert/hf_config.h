// A Hugging Face model's config.json, read into the hyper-parameters a GGUF file carries
// (the `<arch>.*` keys ReadLlamaFamilyHParams reads back), as llama.cpp's converter writes them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "format/gguf_writer.h"

namespace foundry::convert {

struct HfConfig {
  std::string hf_architecture;  // config.json "architectures"[0], e.g. "LlamaForCausalLM"
  std::string arch;             // the GGUF architecture: "llama", "qwen2", "gemma3" or "phi3"
  int64_t n_vocab = 0;
  int64_t n_ctx = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_ff = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  std::optional<int64_t> head_dim;  // written only when config.json has it
  double rms_eps = 1e-5;
  std::optional<double> rope_theta;
  std::optional<double> rope_linear_factor;  // rope_type "linear"
  // rope_type "llama3" (Llama 3.1+): per-dimension divisors of theta, written as the
  // rope_freqs.weight tensor.
  std::vector<float> llama3_rope_factors;
  bool tie_word_embeddings = false;
  // Gemma 3: the sliding window (0: none), the local layers' RoPE base, logit soft-capping.
  int64_t sliding_window = 0;
  std::optional<double> rope_theta_swa;
  std::optional<double> final_logit_softcap;
  // Phi-3: the rotated dimensions per head (partial_rotary_factor), the original context and
  // LongRoPE's per-dimension divisors (written as rope_factors_long/short, empty without
  // scaling) with the attention factor that goes with them.
  int64_t n_rot = 0;
  int64_t n_ctx_orig = 0;
  std::vector<float> rope_factors_long, rope_factors_short;
  std::optional<double> rope_attn_factor;

  int64_t head_size() const { return head_dim ? *head_dim : n_embd / n_head; }
};

// The architectures `foundry model compile` converts, for error messages: "llama (...), qwen2".
std::string SupportedHfArchitectures();

// Reads and validates `dir`/config.json. Errors name the file and the field; an architecture
// this compiler does not convert is kUnimplemented with the supported ones listed.
StatusOr<HfConfig> ReadHfConfig(const std::filesystem::path& dir);

// Writes the `<arch>.*` hyper-parameter keys.
void WriteHParams(const HfConfig& c, GgufWriter* w);

// Writes a compiled model's header keys in llama.cpp's converter order: general.architecture,
// general.type, general.name (when not empty), the hyper-parameters, general.file_type (a
// llama_ftype) and general.quantization_version.
void WriteModelHeader(const HfConfig& c, const std::string& name, uint32_t file_type,
                      GgufWriter* w);

}  // namespace foundry::convert
