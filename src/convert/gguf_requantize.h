// Re-quantizing a GGUF model (`foundry model compile model.gguf --quant Q`), as llama-quantize
// --allow-requantize does: the metadata (architecture, hyperparameters, vocabulary, chat
// template) is copied, every weight llama-quantize would quantize gets the type its rules pick
// and is dequantized and quantized again row by row, unless it has that type already; every
// other tensor (norms, biases, rope factors) is copied as it is.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "convert/compile_plan.h"
#include "convert/hf_compile.h"
#include "format/gguf_file.h"

namespace foundry::convert {

class GgufRequantizePlan : public CompilePlan {
 public:
  // Opens and checks the GGUF (a readable model: architecture, block count, heads) and chooses
  // the types. `options.model_name` replaces general.name.
  static StatusOr<std::unique_ptr<GgufRequantizePlan>> Make(const std::filesystem::path& src,
                                                            const CompileOptions& options);

  std::string source_description() const override;
  uint64_t estimated_bytes() const override { return estimated_bytes_; }
  std::vector<std::pair<std::string, QuantType>> tensor_types() const override;
  Status Write(const std::filesystem::path& out, const Progress& progress) const override;

 private:
  struct Tensor {
    const GgufTensorInfo* src = nullptr;
    std::vector<uint64_t> ne;  // GGUF order, trailing 1s dropped
    QuantType type = QuantType::kF32;
  };

  std::unique_ptr<GgufFile> file_;
  std::string arch_;
  CompileOptions options_;
  std::vector<Tensor> tensors_;  // in llama-quantize's order
  uint64_t estimated_bytes_ = 0;
};

}  // namespace foundry::convert
