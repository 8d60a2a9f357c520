// The chat page: `GET /` answers web/index.html and `GET /web/<file>` the page's other files,
// all built into the binary (web_assets.h), so the page works with no network. The page talks
// to the service's own routes with relative URLs, so any host and port work.
#pragma once

#include <httplib.h>

#include <string_view>

#include "server/web_assets.h"

namespace foundry {

// The file served at `path` ("/" is /web/index.html), or null.
const WebAsset* FindWebAsset(std::string_view path);

// Registers `GET /` and `GET /web/<file>` on `http`.
void AddWebRoutes(httplib::Server& http);

}  // namespace foundry
