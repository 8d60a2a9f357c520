// Choosing a variant for an alias or id, as Foundry Local orders them, and model filters.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "catalog/catalog.h"
#include "catalog/machine.h"

namespace foundry {

// Foundry Local's variant priority, best first.
enum class VariantClass {
  kNpu = 0,
  kVendorGpu = 1,
  kCudaGpu = 2,
  kGenericGpu = 3,
  kVendorCpu = 4,
  kGenericCpu = 5,
};
VariantClass ClassOf(const ModelVariant& v);

// Whether this build can run the variant here: the engine runs GGUF files on CPUs only, so
// only CPU variants with CPUExecutionProvider qualify (GPU/NPU variants never do, even when
// the machine has such devices).
bool Runnable(const ModelVariant& v, const MachineInfo& machine);

// Orders variants best first: a cached one wins, then class (NPU ... generic CPU), then
// higher version, then catalog order. `cached_ids` holds lowercase ids.
std::vector<const ModelVariant*> OrderVariants(std::vector<const ModelVariant*> variants,
                                               const std::set<std::string>& cached_ids);

// An alias resolves to its best runnable variant; an id (with or without ":N") to itself.
// Unknown names are NotFound; a known model with no runnable variant is Unimplemented.
StatusOr<const ModelVariant*> ResolveModel(const Catalog& catalog, std::string_view name,
                                           const MachineInfo& machine,
                                           const std::set<std::string>& cached_ids);

// OK when the machine's RAM covers the variant's minimum; otherwise OutOfRange with a
// message naming the largest alias of the same task that fits (or saying none does).
Status CheckFits(const Catalog& catalog, const ModelVariant& v, const MachineInfo& machine);

// `model list --filter KEY=VALUE`: keys device, provider, task, alias; VALUE may start with
// '!' (or be written KEY!=VALUE) to negate, and end with '*' to match a prefix.
// Case-insensitive.
struct ModelFilter {
  std::string key;
  std::string value;  // lowercase, without '!' and '*'
  bool negate = false;
  bool prefix = false;
};
StatusOr<ModelFilter> ParseModelFilter(std::string_view spec);
bool FilterMatches(const ModelFilter& f, const ModelVariant& v);

}  // namespace foundry
