// Installs a catalog variant into the cache with a progress bar on stderr: what
// `foundry model download` and `foundry model run` show while a model downloads.
#pragma once

#include <filesystem>

#include "base/status.h"
#include "catalog/cache.h"
#include "catalog/catalog.h"
#include "catalog/install.h"

namespace foundry::cli {

// `home`: the foundry home (digests of sources that publish none are recorded there).
StatusOr<InstallResult> InstallWithProgress(const ModelCache& cache, const ModelVariant& v,
                                            const std::filesystem::path& home);

}  // namespace foundry::cli
