// What CLI commands other than `service` need from the background service: find it, start it.
// Defined in service_command.cc.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>

namespace foundry::cli {

struct RunningService {
  pid_t pid = 0;
  int port = 0;
};

// The running service (<home>/service.pid, live process, /openai/status answers), if any.
std::optional<RunningService> FindRunningService(const std::filesystem::path& home);
// `foundry service start`: prints its line; returns the exit code (0: running now).
int StartService(const std::filesystem::path& home);

}  // namespace foundry::cli
