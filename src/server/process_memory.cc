#include "server/process_memory.h"

#include <unistd.h>

#include <fstream>

namespace foundry {

uint64_t ResidentMemoryBytes() {
  // statm: total program size, then resident pages.
  std::ifstream in("/proc/self/statm");
  uint64_t size_pages = 0;
  uint64_t resident_pages = 0;
  if (!(in >> size_pages >> resident_pages)) return 0;
  const long page = sysconf(_SC_PAGESIZE);
  return page > 0 ? resident_pages * static_cast<uint64_t>(page) : 0;
}

}  // namespace foundry
