#include "catalog/settings.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

namespace foundry {

StatusOr<std::filesystem::path> FoundryHomeDirectory() {
  if (const char* h = std::getenv("FOUNDRY_HOME"); h != nullptr && *h != '\0') {
    return std::filesystem::path(h);
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    const passwd* pw = getpwuid(getuid());
    if (pw == nullptr || pw->pw_dir == nullptr) {
      return NotFound("cannot find the home directory: HOME is not set");
    }
    home = pw->pw_dir;
  }
  return std::filesystem::path(home) / ".foundry";
}

StatusOr<std::filesystem::path> SettingsPath() {
  FOUNDRY_ASSIGN_OR_RETURN(std::filesystem::path home, FoundryHomeDirectory());
  return home / "settings.json";
}

StatusOr<nlohmann::json> ReadSettings() {
  FOUNDRY_ASSIGN_OR_RETURN(std::filesystem::path path, SettingsPath());
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return nlohmann::json::object();
    return IoError("cannot read settings file \"" + path.string() + "\"");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return CorruptFile("settings file \"" + path.string() +
                       "\" is not a JSON object; fix or delete it");
  }
  return j;
}

Status WriteSettings(const nlohmann::json& settings) {
  FOUNDRY_ASSIGN_OR_RETURN(std::filesystem::path path, SettingsPath());
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) {
    return IoError("cannot create \"" + path.parent_path().string() + "\": " + ec.message());
  }
  const std::filesystem::path tmp = path.string() + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << settings.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    out.flush();
    if (!out) return IoError("cannot write settings file \"" + tmp.string() + "\"");
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return IoError("cannot write settings file \"" + path.string() + "\"");
  }
  return OkStatus();
}

}  // namespace foundry
