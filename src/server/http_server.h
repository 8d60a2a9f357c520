// The foundry service's HTTP server: the transport (listening socket, connection limits,
// access log, answers for unknown routes and failures) under the OpenAI routes
// (openai_routes.h) and Foundry Local's management routes (management_routes.h). JSON lives
// only in src/server (request parsing and answers: server/api); below it requests are native
// GenerationRequests.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "base/status.h"
#include "server/connection_guard.h"
#include "server/model_manager.h"
#include "server/request_gate.h"
#include "server/request_log.h"
#include "server/service_models.h"

namespace foundry {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;
  size_t max_body_bytes = size_t{8} << 20;  // larger bodies: 413
  ConnectionLimits limits;                  // threads, connections, timeouts, header bytes
  AccessOptions access;                     // API keys, CORS origins, rate limit
  // Model names may not reach files outside the cache (`..`, absolute paths, links): set for a
  // service that is exposed or has API keys. A loopback service without keys also loads the
  // local user's GGUF files by absolute path.
  bool confine_models = false;
  std::string cache_dir;  // reported by /openai/status
  ModelManagerOptions models;
  // The catalog and cache behind model names, /foundry/list, /openai/models and downloads.
  // Null: models are named by absolute paths only and those routes list nothing.
  std::shared_ptr<const ServiceModels> catalog;
  RequestLogOptions request_log;  // one JSON line per request (no path: none)
};

// Whether host:port is taken: something accepts connections there, or a socket that does not
// share ports holds it. TIME_WAIT leftovers of a stopped service do not count (the server binds
// with SO_REUSEADDR and SO_REUSEPORT).
bool PortInUse(const std::string& host, int port);

class HttpServer {
 public:
  HttpServer(ServerOptions options, ModelResolver resolver = nullptr);
  ~HttpServer();

  // Binds the listening socket; a port in use is an IoError that says so.
  Status Bind();
  // Serves until Stop() (from any thread). Bind first.
  Status Run();
  void Stop();
  // A graceful stop (SIGTERM): /health answers 503 and every new request 503 (a load balancer
  // retries it elsewhere) while the generations in progress finish; those still running at
  // `deadline` are cancelled (their streams end with an error event); then Stop(). Returns
  // whether everything finished in time.
  bool Drain(std::chrono::milliseconds deadline);
  bool draining() const;
  int port() const { return options_.port; }

 private:
  struct Impl;
  ServerOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace foundry
