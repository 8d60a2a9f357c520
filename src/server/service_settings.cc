#include "server/service_settings.h"

#include <nlohmann/json.hpp>

#include "catalog/settings.h"

namespace foundry {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

}  // namespace

// The settings file is catalog/settings.h's: one reader for both layers.
StatusOr<ServiceSettings> LoadServiceSettings(const fs::path& home) {
  FOUNDRY_ASSIGN_OR_RETURN(json j, ReadSettings(home));
  ServiceSettings s;
  s.cache_dir = (home / "cache" / "models").string();
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
  return s;
}

Status SaveServiceSettings(const fs::path& home, const ServiceSettings& settings) {
  FOUNDRY_ASSIGN_OR_RETURN(json j, ReadSettings(home));
  j["host"] = settings.host;
  j["port"] = settings.port;
  j["cacheDirectoryPath"] = settings.cache_dir;
  j["defaultSecondsForModelTTL"] = settings.default_ttl_s;
  return WriteSettings(home, j);
}
std::string ServiceSettingsJson(const ServiceSettings& s) {
  json j = {{"host", s.host},
            {"port", s.port},
            {"cacheDirectoryPath", s.cache_dir},
            {"defaultSecondsForModelTTL", s.default_ttl_s}};
  return j.dump(2, ' ', false, json::error_handler_t::replace);
}

StatusOr<fs::path> ServicePidFile(const fs::path& home) {
  return FoundryHomeFile(home, "service.pid");
}

StatusOr<fs::path> ServiceLogFile(const fs::path& home) {
  return FoundryHomeFile(home, fs::path("logs") / "service.log");
}

}  // namespace foundry
