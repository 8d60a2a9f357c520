// Reading one member out of a zip archive (a Python wheel): the central directory (with zip64
// records), stored and deflated entries, CRC-32 and size checks. Enough for the wheels PyPI
// serves; encrypted entries and other compression methods are refused with a clear error.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "base/status.h"

namespace foundry {

// Appends the uncompressed bytes of member `name` of the zip archive `zip` to `out` and returns
// their count. Errors: NotFound when the archive has no such member, CorruptFile for a damaged
// archive (bad records, CRC or size mismatch), Unimplemented for methods other than stored (0)
// and deflated (8), IoError when `out` cannot be written.
StatusOr<int64_t> ExtractZipMember(const std::filesystem::path& zip, const std::string& name,
                                   std::FILE* out);

}  // namespace foundry
