// The free-space check of `foundry model compile`, before a byte is written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "base/status.h"

namespace foundry::convert {

// Room for the model plus a margin (the file system's own bookkeeping, other writers).
inline Status CheckDiskSpace(const std::filesystem::path& dir, uint64_t needed,
                             uint64_t available) {
  constexpr uint64_t kMargin = uint64_t{64} << 20;
  if (available >= needed + kMargin) return OkStatus();
  const auto mb = [](uint64_t b) { return std::to_string((b + (1 << 20) - 1) >> 20) + " MB"; };
  return IoError("not enough disk space in " + dir.string() + ": the model needs about " +
                 mb(needed + kMargin) + ", " + mb(available) + " free");
}

}  // namespace foundry::convert
