#include "server/service_settings.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace foundry {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

StatusOr<json> ReadJsonFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return json::object();
  std::ostringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return CorruptFile("settings file \"" + path.string() +
                       "\" is not a JSON object; fix or delete it");
  }
  return j;
}

}  // namespace

StatusOr<fs::path> ServiceHome() {
  if (const char* h = std::getenv("FOUNDRY_HOME"); h != nullptr && *h != '\0') return fs::path(h);
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0')
    return NotFound("cannot find the home directory: HOME is not set");
  return fs::path(home) / ".foundry";
}

StatusOr<ServiceSettings> LoadServiceSettings() {
  FOUNDRY_ASSIGN_OR_RETURN(fs::path home, ServiceHome());
  FOUNDRY_ASSIGN_OR_RETURN(json j, ReadJsonFile(home / "settings.json"));
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

Status SaveServiceSettings(const ServiceSettings& settings) {
  FOUNDRY_ASSIGN_OR_RETURN(fs::path home, ServiceHome());
  const fs::path path = home / "settings.json";
  FOUNDRY_ASSIGN_OR_RETURN(json j, ReadJsonFile(path));
  j["host"] = settings.host;
  j["port"] = settings.port;
  j["cacheDirectoryPath"] = settings.cache_dir;
  j["defaultSecondsForModelTTL"] = settings.default_ttl_s;
  std::error_code ec;
  fs::create_directories(home, ec);
  if (ec) return IoError("cannot create \"" + home.string() + "\": " + ec.message());
  const fs::path tmp = path.string() + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    out.flush();
    if (!out) return IoError("cannot write \"" + tmp.string() + "\"");
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return IoError("cannot write \"" + path.string() + "\"");
  }
  return OkStatus();
}

std::string ServiceSettingsJson(const ServiceSettings& s) {
  json j = {{"host", s.host},
            {"port", s.port},
            {"cacheDirectoryPath", s.cache_dir},
            {"defaultSecondsForModelTTL", s.default_ttl_s}};
  return j.dump(2, ' ', false, json::error_handler_t::replace);
}

StatusOr<fs::path> ServicePidFile() {
  FOUNDRY_ASSIGN_OR_RETURN(fs::path home, ServiceHome());
  return home / "service.pid";
}

StatusOr<fs::path> ServiceLogFile() {
  FOUNDRY_ASSIGN_OR_RETURN(fs::path home, ServiceHome());
  return home / "logs" / "service.log";
}

}  // namespace foundry
