#include "catalog/settings.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <system_error>

namespace foundry {

StatusOr<std::filesystem::path> FoundryHomeFile(const std::filesystem::path& home,
                                                const std::filesystem::path& name) {
  if (home.empty()) {
    return NotFound("cannot find the home directory: HOME is not set; set FOUNDRY_HOME");
  }
  return home / name;
}

StatusOr<std::filesystem::path> SettingsPath(const std::filesystem::path& home) {
  return FoundryHomeFile(home, "settings.json");
}

StatusOr<nlohmann::json> ReadSettings(const std::filesystem::path& home) {
  FOUNDRY_ASSIGN_OR_RETURN(std::filesystem::path path, SettingsPath(home));
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

Status WriteSettings(const std::filesystem::path& home, const nlohmann::json& settings) {
  FOUNDRY_ASSIGN_OR_RETURN(std::filesystem::path path, SettingsPath(home));
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
