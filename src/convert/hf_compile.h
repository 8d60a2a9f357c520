// Compiling a Hugging Face checkpoint folder (config.json + *.safetensors, sharded or not) and
// its tokenizer into one GGUF file, tensor by tensor: rows are read from the mapped
// safetensors, converted to float, Q/K rows permuted for llama's RoPE layout, quantized and
// appended to the file, so memory holds one chunk of rows at a time, never the model.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/tensor_type.h"
#include "base/thread_pool.h"
#include "convert/compile_plan.h"
#include "convert/hf_config.h"
#include "convert/hf_tokenizer.h"
#include "convert/quant_plan.h"
#include "format/gguf_writer.h"
#include "format/safetensors_file.h"

namespace foundry::convert {

struct CompileOptions {
  CompileQuant quant = CompileQuant::kQ4_K_M;
  std::string model_name;  // general.name
  int threads = 1;         // quantization threads
};

// Everything known before a byte is written: the checked config, the tensors with their
// sources, shapes and types, and the output size.
class HfCompilePlan : public CompilePlan {
 public:
  // Reads config.json, opens the safetensors (model.safetensors.index.json's shards, else
  // every *.safetensors), maps and checks every tensor (names, shapes, nothing missing) and
  // chooses the types. Errors name the file or tensor.
  static StatusOr<HfCompilePlan> Make(const std::filesystem::path& src, HfTokenizer tokenizer,
                                      const CompileOptions& options);

  const HfConfig& config() const { return config_; }
  size_t tensor_count() const { return tensors_.size(); }

  std::string source_description() const override {
    return config_.hf_architecture + ", " + std::string(CompileQuantName(options_.quant));
  }
  uint64_t estimated_bytes() const override { return estimated_bytes_; }
  std::vector<std::pair<std::string, QuantType>> tensor_types() const override;
  Status Write(const std::filesystem::path& out, const Progress& progress) const override;

 private:
  struct Tensor {
    std::string name;                       // GGUF
    const SafetensorsFile* file = nullptr;  // source (null: `generated`)
    const SafetensorsTensor* src = nullptr;
    std::vector<float> generated;  // rope_freqs, rope_factors_long/short
    std::vector<uint64_t> ne;      // GGUF order
    QuantType type = QuantType::kF32;
    int64_t permute_heads = 0;  // llama Q/K: heads to permute rows over
    // Gemma 3's RMSNorm weights w become 1 + w (computed in half precision for an F16 source,
    // as the converter's torch arithmetic does).
    bool add_one = false;
  };
  Status AddTensors(const std::filesystem::path& src);
  Status WriteTensor(const Tensor& t, GgufWriter* w, ThreadPool& pool, uint64_t* done,
                     const Progress& progress) const;

  HfConfig config_;
  HfTokenizer tokenizer_;
  CompileOptions options_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::vector<Tensor> tensors_;
  uint64_t estimated_bytes_ = 0;
};

}  // namespace foundry::convert
