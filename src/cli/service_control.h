// What CLI commands other than `service` need from the background service: find it, start it.
// Defined in service_command.cc.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace foundry::cli {

struct RunningService {
  pid_t pid = 0;
  int port = 0;
  std::string address = "127.0.0.1";  // where this machine reaches it
  std::string api_key;                // the daemon's own key for this user's CLI ("": none)
};

// A client for the running service that sends its key.
std::unique_ptr<httplib::Client> ServiceClient(const RunningService& service);

// The running service (<home>/service.pid, live process, /openai/status answers), if any.
std::optional<RunningService> FindRunningService(const std::filesystem::path& home);
// `foundry service start`: prints its line; returns the exit code (0: running now).
int StartService(const std::filesystem::path& home);

}  // namespace foundry::cli
