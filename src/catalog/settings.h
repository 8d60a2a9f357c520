// foundry's settings file, shared by the CLI and the service (src/server/service_settings.h):
// <foundry home>/settings.json, the foundry home being $FOUNDRY_HOME if set, else ~/.foundry. JSON
// keys follow Foundry Local's `service set --show`: host, port, cacheDirectoryPath,
// defaultSecondsForModelTTL. Unknown keys are kept when the file is rewritten.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"

namespace foundry {

// $FOUNDRY_HOME, else $HOME/.foundry (the user database's home when HOME is unset).
StatusOr<std::filesystem::path> FoundryHomeDirectory();
StatusOr<std::filesystem::path> SettingsPath();

// The settings object; {} when the file does not exist. A file that is not a JSON object
// is an error naming the file.
StatusOr<nlohmann::json> ReadSettings();
// Writes the whole object (temporary file + rename), creating ~/.foundry if needed.
Status WriteSettings(const nlohmann::json& settings);

}  // namespace foundry
