// Where the service keeps its files, and its settings. Everything lives under the foundry home
// (`home`: FOUNDRY_HOME, else ~/.foundry, found at start-up by src/cli/environment.h):
//   settings.json   {"host","port","cacheDirectoryPath","defaultSecondsForModelTTL", ...}
//   service.pid     "<pid> <port>" of the running daemon
//   logs/service.log
// settings.json is read and written through catalog/settings.h (one reader for the CLI, the
// catalog and the service): unknown keys are kept when it is rewritten.
#pragma once

#include <filesystem>
#include <string>

#include "base/status.h"

namespace foundry {

struct ServiceSettings {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string cache_dir;  // default: <home>/cache/models
  int64_t default_ttl_s = 600;
};

StatusOr<ServiceSettings> LoadServiceSettings(const std::filesystem::path& home);
// Writes port, cacheDirectoryPath and defaultSecondsForModelTTL into settings.json (temporary
// file + rename), keeping its other keys.
Status SaveServiceSettings(const std::filesystem::path& home, const ServiceSettings& settings);
// `service set --show`: the settings as pretty JSON.
std::string ServiceSettingsJson(const ServiceSettings& settings);

StatusOr<std::filesystem::path> ServicePidFile(const std::filesystem::path& home);
StatusOr<std::filesystem::path> ServiceLogFile(const std::filesystem::path& home);

}  // namespace foundry
