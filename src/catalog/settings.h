// foundry's settings file, shared by the CLI and the service (src/server/service_settings.h):
// <foundry home>/settings.json. The caller passes the foundry home (FOUNDRY_HOME, else ~/.foundry,
// found once at start-up: src/cli/environment.h). JSON
// keys follow Foundry Local's `service set --show`: host, port, cacheDirectoryPath,
// defaultSecondsForModelTTL. Unknown keys are kept when the file is rewritten.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"

namespace foundry {

// A file in the foundry home: `home` / `name`. NotFound when `home` is empty (start-up found
// neither FOUNDRY_HOME nor a home directory).
StatusOr<std::filesystem::path> FoundryHomeFile(const std::filesystem::path& home,
                                                const std::filesystem::path& name);
StatusOr<std::filesystem::path> SettingsPath(const std::filesystem::path& home);

// The settings object; {} when the file does not exist. A file that is not a JSON object
// is an error naming the file.
StatusOr<nlohmann::json> ReadSettings(const std::filesystem::path& home);
// Writes the whole object (temporary file + rename), creating the home if needed.
Status WriteSettings(const std::filesystem::path& home, const nlohmann::json& settings);

}  // namespace foundry
