// What this machine offers a model: RAM, CPU features, accelerators.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace foundry {

struct MachineInfo {
  double total_ram_gb = 0;      // GiB; the RAM override (FOUNDRY_RAM_GB) replaces it
  double available_ram_gb = 0;  // GiB (MemAvailable), at most total_ram_gb
  bool ram_overridden = false;  // total came from the override
  bool avx2 = false;
  bool avx512 = false;
  int cpu_threads = 0;
  std::vector<std::string> gpus;  // none detected today: the engine runs on CPUs only
  std::vector<std::string> npus;
};

// Parses /proc/meminfo text: MemTotal and MemAvailable (kB) as GiB.
Status ParseMeminfo(std::string_view text, double* total_gb, double* available_gb);

// Parses a FOUNDRY_RAM_GB value: a positive finite number of GiB.
StatusOr<double> ParseRamOverride(std::string_view value);

// Detects the running machine. A non-empty `ram_gb_override` (FOUNDRY_RAM_GB, as written)
// replaces its total RAM, for planning another machine; an invalid one is an error.
StatusOr<MachineInfo> DetectMachine(std::string_view ram_gb_override);

}  // namespace foundry
