// Importing an ONNX Runtime GenAI model folder (what Olive or onnxruntime-genai's model builder
// writes: genai_config.json, model.onnx + external data with int4 MatMulNBits weights,
// tokenizer.json) into one GGUF file. The decoder graph is recognised by its ops and its
// initializers' names; every 4-bit block-32 weight is repacked without requantizing: symmetric
// blocks (zero point 8) become Q4_0, blocks with zero points Q4_1 (only the f32 scales are
// rounded to f16). Norms, biases and unquantized embeddings are copied as F32.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/tensor_type.h"
#include "convert/compile_plan.h"
#include "convert/hf_config.h"
#include "convert/hf_tokenizer.h"
#include "format/gguf_writer.h"
#include "format/onnx_model.h"

namespace foundry::convert {

// True when `dir` holds genai_config.json (an ONNX Runtime GenAI folder).
bool IsOnnxGenaiFolder(const std::filesystem::path& dir);

// Repacks one 32-element MatMulNBits block (16 bytes: element 2k in the low nibble of byte k,
// 2k+1 in the high one) into ggml's nibble order (element j low, j + 16 high of byte j).
void RepackNibbles32(const uint8_t* src, uint8_t* dst);

class OnnxImportPlan : public CompilePlan {
 public:
  // Reads genai_config.json and model.onnx (with its external data), recognises every node
  // and maps the weights. Errors name the file, node or op that cannot be imported.
  static StatusOr<OnnxImportPlan> Make(const std::filesystem::path& dir, HfTokenizer tokenizer,
                                       const std::string& model_name);

  const HfConfig& config() const { return config_; }

  std::string verb() const override { return "Importing"; }
  std::string source_description() const override { return config_.hf_architecture + ", int4"; }
  uint64_t estimated_bytes() const override { return estimated_bytes_; }
  std::vector<std::pair<std::string, QuantType>> tensor_types() const override;
  // inference_model.json's PromptTemplate when the folder has no chat template of its own.
  std::optional<std::string> prompt_template() const override { return prompt_template_; }
  Status Write(const std::filesystem::path& out, const Progress& progress) const override;

 private:
  struct Tensor {
    std::string name;          // GGUF
    std::vector<uint64_t> ne;  // GGUF order
    QuantType type = QuantType::kF32;
    const OnnxTensor* data = nullptr;         // F32/F16 source, or the packed 4-bit weight
    const OnnxTensor* scales = nullptr;       // 4-bit: f32 [N * blocks]
    const OnnxTensor* zero_points = nullptr;  // 4-bit: u8 [N, ceil(blocks / 2)], optional
    uint64_t first_row = 0;                   // of the source (fused q/k/v are split by rows)
    int64_t permute_heads = 0;                // llama Q/K: heads to permute rows over
  };
  Status MapGraph();
  Status AddQuantized(const std::string& name, const OnnxNode& node, size_t weight_input,
                      uint64_t rows, uint64_t first_row, int64_t permute_heads, uint64_t k);
  Status AddFloat(const std::string& name, const OnnxTensor* t, uint64_t first, uint64_t n,
                  std::vector<uint64_t> ne);
  Status WriteTensor(const Tensor& t, GgufWriter* w) const;

  std::filesystem::path dir_;
  HfConfig config_;
  HfTokenizer tokenizer_;
  std::string model_name_;
  std::optional<std::string> prompt_template_;
  std::unique_ptr<OnnxModel> model_;
  std::vector<Tensor> tensors_;
  uint64_t estimated_bytes_ = 0;
};

}  // namespace foundry::convert

namespace foundry::convert {

// The cache's route (`foundry model run NAME` on an ONNX folder in the cache): imports `dir`
// into the GGUF file `out` unless it is already there. The file is written under a temporary
// name and renamed, so a failed or interrupted import leaves nothing that looks complete.
Status ImportOnnxFolderOnce(const std::filesystem::path& dir, const std::filesystem::path& out,
                            const std::string& model_name);

}  // namespace foundry::convert
