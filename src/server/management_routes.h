// Foundry Local's model management routes (/foundry/list, /openai/models, /openai/download,
// /openai/load, /openai/unload, /openai/unloadall, /openai/loadedmodels, /openai/status) and
// the OpenAI model list (/v1/models), over the ModelManager and the catalog.
#pragma once

#include <httplib.h>

#include "server/http_server.h"
#include "server/model_manager.h"

namespace foundry {

// Registers the routes on `http`; `options` and `models` must outlive it.
void AddManagementRoutes(httplib::Server& http, const ServerOptions& options, ModelManager& models);

}  // namespace foundry
