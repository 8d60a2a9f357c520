#include "server/web_routes.h"

#include <optional>  // http_reply.h uses it

#include "server/http_reply.h"

namespace foundry {
namespace {

// The page loads only its own files and talks only to this service: no inline script, no
// other origin, no framing.
constexpr char kContentSecurityPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

void ReplyAsset(const WebAsset& asset, httplib::Response& res) {
  res.status = 200;
  // Revalidated on each load, so a new foundry binary's page replaces the old one at once.
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Content-Security-Policy", kContentSecurityPolicy);
  res.set_content(std::string(asset.body), std::string(asset.content_type));
}

}  // namespace

const WebAsset* FindWebAsset(std::string_view path) {
  if (path == "/") path = "/web/index.html";
  for (const WebAsset& a : WebAssets()) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

void AddWebRoutes(httplib::Server& http) {
  auto serve = [](const httplib::Request& req, httplib::Response& res) {
    const WebAsset* asset = FindWebAsset(req.path);
    if (asset == nullptr) {
      ApiError e;
      e.http = 404;
      e.message = "no such file: " + req.path;
      return ReplyError(res, e);
    }
    ReplyAsset(*asset, res);
  };
  http.Get("/", serve);
  http.Get(R"(/web/[A-Za-z0-9_.\-]+)", serve);
}

}  // namespace foundry
