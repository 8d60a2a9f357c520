#include "cli/environment.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

namespace foundry::cli {
namespace {

// The variable's value; "" when unset (set-but-empty counts as unset, as it always has).
std::string Variable(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// $FOUNDRY_HOME, else <home directory>/.foundry; empty when there is no home directory.
std::filesystem::path FoundryHome() {
  if (std::string home = Variable("FOUNDRY_HOME"); !home.empty()) return home;
  std::string user_home = Variable("HOME");
  if (user_home.empty()) {
    const passwd* pw = getpwuid(getuid());
    if (pw == nullptr || pw->pw_dir == nullptr) return {};
    user_home = pw->pw_dir;
  }
  return std::filesystem::path(user_home) / ".foundry";
}

}  // namespace

Environment ReadEnvironment() {
  Environment env;
  env.catalog.home = FoundryHome();
  env.catalog.cache_dir = Variable("FOUNDRY_CACHE_DIR");
  env.catalog.catalog_file = Variable("FOUNDRY_CATALOG");
  env.catalog.ram_gb = Variable("FOUNDRY_RAM_GB");
  if (std::string pypi = Variable("FOUNDRY_PYPI_URL"); !pypi.empty()) {
    env.catalog.pypi_index_url = pypi;
  }
  env.isa = Variable("FOUNDRY_ISA");
  env.map_weights = Variable("FOUNDRY_MMAP") != "0";
  env.repack_weights = Variable("FOUNDRY_REPACK") != "0";
  env.api_key = Variable("FOUNDRY_API_KEY");
  return env;
}

LoadOptions ModelLoadOptions(const Environment& env) {
  LoadOptions load;
  load.isa = env.isa;
  load.map_weights = env.map_weights;
  load.repack_weights = env.repack_weights;
  return load;
}

}  // namespace foundry::cli
