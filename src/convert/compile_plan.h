// What `foundry model compile` writes, whatever the source (a Hugging Face folder, a GGUF to
// re-quantize): everything is checked and every tensor's type chosen before a byte is written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/tensor_type.h"

namespace foundry::convert {

class CompilePlan {
 public:
  virtual ~CompilePlan() = default;

  // "Compiling" or "Importing", and the source in a few words ("Qwen2ForCausalLM, q4_k_m",
  // "GGUF qwen2, q4_0"), for the line that starts the work.
  virtual std::string verb() const { return "Compiling"; }
  virtual std::string source_description() const = 0;
  // inference_model.json's PromptTemplate, when the model brings one and no chat template.
  virtual std::optional<std::string> prompt_template() const { return std::nullopt; }
  // Bytes the GGUF file will have, within the size of its metadata.
  virtual uint64_t estimated_bytes() const = 0;
  // (GGUF name, type) in file order.
  virtual std::vector<std::pair<std::string, QuantType>> tensor_types() const = 0;

  // progress(tensor name, bytes written, estimated_bytes()).
  using Progress = std::function<void(const std::string&, uint64_t, uint64_t)>;
  // Writes the GGUF file at `out`.
  virtual Status Write(const std::filesystem::path& out, const Progress& progress) const = 0;
};

}  // namespace foundry::convert
