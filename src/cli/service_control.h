// What CLI commands other than `service` need from the background service: find it, start it.
// Defined in service_command.cc.
#pragma once

#include <sys/types.h>

#include <optional>

namespace foundry::cli {

struct RunningService {
  pid_t pid = 0;
  int port = 0;
};

// The running service (PID file, live process, /openai/status answers), if any.
std::optional<RunningService> FindRunningService();
// `foundry service start`: prints its line; returns the exit code (0: running now).
int StartService();

}  // namespace foundry::cli
