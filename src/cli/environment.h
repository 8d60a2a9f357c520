// Every FOUNDRY_* setting of the process environment, read once in main() and passed down as
// options: no library under src/ reads the environment. The service daemon is this same binary
// (`foundry service run`, which `service start` execs), so its start-up reads them the same way.
#pragma once

#include <string>

#include "catalog/catalog_options.h"
#include "foundry/engine.h"

namespace foundry::cli {

struct Environment {
  // FOUNDRY_HOME (else $HOME/.foundry, else the user database's home + /.foundry),
  // FOUNDRY_CACHE_DIR, FOUNDRY_CATALOG, FOUNDRY_RAM_GB and FOUNDRY_PYPI_URL; empty fields: not
  // set.
  CatalogOptions catalog;
  // FOUNDRY_ISA: "" (the fastest verified ISA of this CPU), or scalar, avx2, avx512; checked
  // where the kernels are chosen.
  std::string isa;
  // Model files are mapped (no copy: the page cache serves them, start-up does not zero and fill
  // huge pages); FOUNDRY_MMAP=0 copies a file of at most a quarter of RAM into huge pages.
  bool map_weights = true;
  // FOUNDRY_REPACK=0 keeps every matrix in the file's layout (LoadOptions::repack_weights).
  bool repack_weights = true;
  // FOUNDRY_API_KEY: one more API key the service accepts (besides `service set --api-key`).
  std::string api_key;
};

Environment ReadEnvironment();

// How every command and the service load a model file under this environment.
LoadOptions ModelLoadOptions(const Environment& env);

}  // namespace foundry::cli
