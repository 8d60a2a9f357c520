#include "server/service_settings.h"

#include <nlohmann/json.hpp>

#include "catalog/settings.h"

namespace foundry {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::vector<std::string> StringList(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const json& v : *it) {
    if (v.is_string() && !v.get<std::string>().empty()) out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

// The settings file is catalog/settings.h's: one reader for both layers.
StatusOr<ServiceSettings> LoadServiceSettings(const fs::path& home) {
  FOUNDRY_ASSIGN_OR_RETURN(json j, ReadSettings(home));
  ServiceSettings s;
  s.cache_dir = (home / "cache" / "models").string();
  if (auto it = j.find("host");
      it != j.end() && it->is_string() && !it->get<std::string>().empty()) {
    s.host = it->get<std::string>();
  }
  if (auto it = j.find("port"); it != j.end() && it->is_number_integer()) {
    const int64_t p = it->get<int64_t>();
    if (p >= 1 && p <= 65535) s.port = static_cast<int>(p);
  }
  if (auto it = j.find("cacheDirectoryPath");
      it != j.end() && it->is_string() && !it->get<std::string>().empty()) {
    s.cache_dir = it->get<std::string>();
  }
  if (auto it = j.find("defaultSecondsForModelTTL"); it != j.end() && it->is_number_integer()) {
    const int64_t t = it->get<int64_t>();
    if (t >= 0 && t <= INT64_MAX / 1000) s.default_ttl_s = t;
  }
  s.api_key_sha256 = StringList(j, "apiKeySha256");
  if (auto it = j.find("allowUnauthenticated"); it != j.end() && it->is_boolean()) {
    s.allow_unauthenticated = it->get<bool>();
  }
  s.cors_origins = StringList(j, "corsOrigins");
  if (auto it = j.find("rateLimitPerMinute"); it != j.end() && it->is_number_integer()) {
    const int64_t r = it->get<int64_t>();
    if (r >= 0 && r <= 1000000) s.rate_limit_per_minute = static_cast<int>(r);
  }
  if (auto it = j.find("requestLogMaxMiB"); it != j.end() && it->is_number_integer()) {
    const int64_t m = it->get<int64_t>();
    if (m >= 0 && m <= 1 << 20) s.request_log_max_mib = static_cast<int>(m);
  }
  return s;
}

Status SaveServiceSettings(const fs::path& home, const ServiceSettings& settings) {
  FOUNDRY_ASSIGN_OR_RETURN(json j, ReadSettings(home));
  j["host"] = settings.host;
  j["port"] = settings.port;
  j["cacheDirectoryPath"] = settings.cache_dir;
  j["defaultSecondsForModelTTL"] = settings.default_ttl_s;
  j["apiKeySha256"] = settings.api_key_sha256;
  j["allowUnauthenticated"] = settings.allow_unauthenticated;
  j["corsOrigins"] = settings.cors_origins;
  j["rateLimitPerMinute"] = settings.rate_limit_per_minute;
  j["requestLogMaxMiB"] = settings.request_log_max_mib;
  return WriteSettings(home, j);
}

std::string ServiceSettingsJson(const ServiceSettings& s) {
  json j = {{"host", s.host},
            {"port", s.port},
            {"cacheDirectoryPath", s.cache_dir},
            {"defaultSecondsForModelTTL", s.default_ttl_s},
            {"apiKeys", s.api_key_sha256.size()},
            {"allowUnauthenticated", s.allow_unauthenticated},
            {"corsOrigins", s.cors_origins},
            {"rateLimitPerMinute", s.rate_limit_per_minute},
            {"requestLogMaxMiB", s.request_log_max_mib}};
  return j.dump(2, ' ', false, json::error_handler_t::replace);
}

StatusOr<fs::path> ServicePidFile(const fs::path& home) {
  return FoundryHomeFile(home, "service.pid");
}

StatusOr<fs::path> ServiceLogFile(const fs::path& home) {
  return FoundryHomeFile(home, fs::path("logs") / "service.log");
}

StatusOr<fs::path> ServiceRequestLogFile(const fs::path& home) {
  return FoundryHomeFile(home, fs::path("logs") / "requests.jsonl");
}

}  // namespace foundry
