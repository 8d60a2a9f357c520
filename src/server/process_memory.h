// The service process's own memory, for /metrics.
#pragma once

#include <cstdint>

namespace foundry {

// Resident memory of this process in bytes (from /proc/self/statm); 0 when unknown.
uint64_t ResidentMemoryBytes();

}  // namespace foundry
