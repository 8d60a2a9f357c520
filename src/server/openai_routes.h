// The OpenAI routes (/v1/chat/completions, /v1/completions, /v1/embeddings and the token
// count): request bodies through the pure parsers in server/api, generation through the model's
// Scheduler, answers through the pure builders, streamed as server-sent events. A client that
// goes away cancels its generation.
#pragma once

#include <httplib.h>

#include <mutex>

#include "server/generation_registry.h"
#include "server/http_server.h"
#include "server/model_manager.h"
#include "server/request_tracker.h"

namespace foundry {

class OpenAiRoutes {
 public:
  // `options`, `models` and `tracker` must outlive the routes.
  OpenAiRoutes(const ServerOptions& options, ModelManager& models, RequestTracker& tracker)
      : options_(options), models_(models), tracker_(tracker) {}
  // Registers the routes on `http`; this object must outlive it.
  void AddTo(httplib::Server& http);
  // Cancels every generation in progress (a draining service past its deadline).
  void CancelAll() { generations_.CancelAll(); }

 private:
  void HandleGeneration(const httplib::Request& req, httplib::Response& res, bool chat);
  void HandleTokenCount(const httplib::Request& req, httplib::Response& res);
  void HandleEmbeddings(const httplib::Request& req, httplib::Response& res);

  const ServerOptions& options_;
  ModelManager& models_;
  RequestTracker& tracker_;  // each request's model and tokens, for metrics and the log
  // Embeddings run one request at a time, beside (not inside) the generation schedulers.
  std::mutex embed_mu_;
  GenerationRegistry generations_;
};

}  // namespace foundry
