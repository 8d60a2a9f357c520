// What the catalog layer takes from its caller instead of reading the process environment.
// The CLI fills it once at start-up from FOUNDRY_HOME (HOME), FOUNDRY_CACHE_DIR, FOUNDRY_CATALOG
// FOUNDRY_RAM_GB and FOUNDRY_PYPI_URL (src/cli/environment.h) and passes it down.
#pragma once

#include <filesystem>
#include <string>

namespace foundry {

struct CatalogOptions {
  // The foundry home (settings.json, digests.json, the service's files); empty when none was
  // found, which the functions that need it report as an error.
  std::filesystem::path home;
  // Not empty: the model cache, whatever the settings file says.
  std::filesystem::path cache_dir;
  // Not empty: a catalog file that replaces the built-in catalog.
  std::filesystem::path catalog_file;
  // Not empty: the machine's total RAM in GB as the user wrote it (DetectMachine checks it).
  std::string ram_gb;
  // The PyPI JSON API that "pypi" catalog sources are looked up in (FOUNDRY_PYPI_URL).
  std::string pypi_index_url = "https://pypi.org/pypi";
};

}  // namespace foundry
