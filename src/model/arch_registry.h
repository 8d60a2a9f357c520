// The architectures we can run: each lives in its own file under model/arch/ and is listed
// once in arch_registry.cc.
#pragma once

#include <memory>
#include <string_view>

#include "model/model.h"

namespace foundry {

using ArchLoader = StatusOr<std::unique_ptr<Model>> (*)(std::shared_ptr<const GgufFile>,
                                                        std::string_view arch);

struct ArchEntry {
  std::string_view name;  // value of general.architecture
  ArchLoader load;
};

const ArchEntry* FindArch(std::string_view name);
std::string SupportedArchList();

// Loaders defined by the architecture files.
StatusOr<std::unique_ptr<Model>> LoadLlamaFamily(std::shared_ptr<const GgufFile> gguf,
                                                 std::string_view arch);
StatusOr<std::unique_ptr<Model>> LoadGemma3(std::shared_ptr<const GgufFile> gguf,
                                            std::string_view arch);
StatusOr<std::unique_ptr<Model>> LoadPhi3(std::shared_ptr<const GgufFile> gguf,
                                          std::string_view arch);

}  // namespace foundry
