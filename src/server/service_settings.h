// Where the service keeps its files, and its settings. Everything lives under the foundry home
// (`home`: FOUNDRY_HOME, else ~/.foundry, found at start-up by src/cli/environment.h):
//   settings.json   {"host","port","cacheDirectoryPath","defaultSecondsForModelTTL",
//                    "apiKeySha256","allowUnauthenticated","corsOrigins","rateLimitPerMinute",
//                    "requestLogMaxMiB"}
//   service.pid     "<pid> <port> <host>" of the running daemon
//   service.key     the running daemon's own API key for this user's CLI (mode 0600; only
//                   while API keys are required)
//   logs/service.log
//   logs/requests.jsonl  one JSON line per request, rotated to .1 .. .3 by size
// settings.json is read and written through catalog/settings.h (one reader for the CLI, the
// catalog and the service): unknown keys are kept when it is rewritten.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/status.h"

namespace foundry {

struct ServiceSettings {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string cache_dir;  // default: <home>/cache/models
  int64_t default_ttl_s = 600;
  // Hex SHA-256 of each accepted API key (the keys themselves are never stored).
  std::vector<std::string> api_key_sha256;
  // Listen on a non-loopback host without API keys (refused otherwise).
  bool allow_unauthenticated = false;
  // Web origins ("https://app.example.com") whose pages may call the service; the service's
  // own page is always allowed.
  std::vector<std::string> cors_origins;
  int rate_limit_per_minute = 0;  // requests per API key (or client address); 0: no limit
  int request_log_max_mib = 16;   // logs/requests.jsonl is rotated past this size; 0: no log
};

StatusOr<ServiceSettings> LoadServiceSettings(const std::filesystem::path& home);
// Writes every field into settings.json (temporary file + rename), keeping its other keys.
Status SaveServiceSettings(const std::filesystem::path& home, const ServiceSettings& settings);
// `service set --show`: the settings as pretty JSON (the number of API keys, not their hashes).
std::string ServiceSettingsJson(const ServiceSettings& settings);

StatusOr<std::filesystem::path> ServicePidFile(const std::filesystem::path& home);
StatusOr<std::filesystem::path> ServiceLogFile(const std::filesystem::path& home);
StatusOr<std::filesystem::path> ServiceRequestLogFile(const std::filesystem::path& home);

}  // namespace foundry
