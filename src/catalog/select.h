// `foundry model select`: the Foundry Local tutorial's model selector (select_model.py):
// walk the candidates in order and pick the first whose task equals the requested one and
// whose min_ram_gb the installed RAM covers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "catalog/catalog.h"
#include "catalog/machine.h"

namespace foundry {

// One candidate, in the tutorial's models.json format.
struct RegistryEntry {
  std::string name;
  std::string task;
  double min_ram_gb = 0;
  std::string notes;
};

// A registry file: a JSON array of {"name","task","min_ram_gb","notes"} objects (or an
// object holding such an array under "models"). `origin` names it in error messages.
StatusOr<std::vector<RegistryEntry>> ParseRegistry(std::string_view json_text,
                                                   const std::string& origin);
StatusOr<std::vector<RegistryEntry>> LoadRegistry(const std::string& path);

// The catalog as candidates: one per alias (its best runnable variant), task in its short
// form ("chat"), largest minimum RAM first so that the first match is the biggest model the
// machine holds.
std::vector<RegistryEntry> CatalogCandidates(const Catalog& catalog, const MachineInfo& machine);

struct SelectionStep {
  const RegistryEntry* entry = nullptr;
  bool task_matches = false;
  bool fits = false;  // min_ram_gb <= RAM
  bool kept() const { return task_matches && fits; }
};

struct Selection {
  std::vector<SelectionStep> steps;  // one per candidate, in order
  std::optional<size_t> chosen;      // index of the first kept candidate
};

Selection SelectModel(const std::vector<RegistryEntry>& candidates, std::string_view task,
                      double ram_gb);

}  // namespace foundry
