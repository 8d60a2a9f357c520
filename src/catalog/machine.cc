#include "catalog/machine.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace foundry {
namespace {

// The value in kB of "Key:   N kB" in meminfo text, or -1.
double MeminfoKb(std::string_view text, std::string_view key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      std::string rest(line.substr(key.size() + 1));
      char* end = nullptr;
      const double v = std::strtod(rest.c_str(), &end);
      if (end == rest.c_str() || !std::isfinite(v) || v < 0) return -1;
      return v;
    }
  }
  return -1;
}

}  // namespace

Status ParseMeminfo(std::string_view text, double* total_gb, double* available_gb) {
  const double total = MeminfoKb(text, "MemTotal");
  if (total <= 0) return CorruptFile("/proc/meminfo has no valid MemTotal line");
  double avail = MeminfoKb(text, "MemAvailable");
  if (avail < 0) {  // kernels before 3.14: approximate with free + cached
    const double free_kb = MeminfoKb(text, "MemFree");
    const double cached = MeminfoKb(text, "Cached");
    avail = (free_kb > 0 ? free_kb : 0) + (cached > 0 ? cached : 0);
  }
  constexpr double kKbPerGib = 1024.0 * 1024.0;
  *total_gb = total / kKbPerGib;
  *available_gb = std::min(avail, total) / kKbPerGib;
  return OkStatus();
}

StatusOr<double> ParseRamOverride(std::string_view value) {
  std::string s(value);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v <= 0 || v > 1e6) {
    return InvalidArgument("FOUNDRY_RAM_GB must be a positive number of GB, not \"" + s + "\"");
  }
  return v;
}

StatusOr<MachineInfo> DetectMachine(std::string_view ram_gb_override) {
  MachineInfo m;
  std::ifstream in("/proc/meminfo");
  if (in) {
    std::ostringstream ss;
    ss << in.rdbuf();
    FOUNDRY_RETURN_IF_ERROR(ParseMeminfo(ss.str(), &m.total_ram_gb, &m.available_ram_gb));
  }
  if (!ram_gb_override.empty()) {
    FOUNDRY_ASSIGN_OR_RETURN(double ram, ParseRamOverride(ram_gb_override));
    m.total_ram_gb = ram;
    m.ram_overridden = true;
    // Planning another machine: assume most of its RAM is free.
    m.available_ram_gb = ram;
  }
  if (m.total_ram_gb <= 0) return NotFound("cannot determine the machine's RAM (no /proc/meminfo)");
#if defined(__x86_64__)
  __builtin_cpu_init();
  m.avx2 = __builtin_cpu_supports("avx2");
  m.avx512 = __builtin_cpu_supports("avx512f");
#endif
  m.cpu_threads = static_cast<int>(std::thread::hardware_concurrency());
  return m;
}

}  // namespace foundry
