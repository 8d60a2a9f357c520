#include "model/arch_registry.h"

#include <string>

namespace foundry {
namespace {

constexpr ArchEntry kArchs[] = {
    {"llama", &LoadLlamaFamily},
    {"qwen2", &LoadLlamaFamily},
    {"gemma3", &LoadGemma3},
    {"phi3", &LoadPhi3},
};

}  // namespace

const ArchEntry* FindArch(std::string_view name) {
  for (const ArchEntry& a : kArchs) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::string SupportedArchList() {
  std::string out;
  for (const ArchEntry& a : kArchs) out += (out.empty() ? "" : ", ") + std::string(a.name);
  return out;
}

}  // namespace foundry
