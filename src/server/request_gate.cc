#include "server/request_gate.h"

#include "server/http_reply.h"

namespace foundry {
namespace {

void Refuse(httplib::Response& res, const ApiError& e) {
  ReplyError(res, e);
  // The request's body (if any) is left unread: the connection cannot carry another request.
  res.set_header("Connection", "close");
}

ApiError ForbiddenOrigin() {
  ApiError e;
  e.http = 403;
  e.message =
      "this origin may not call the service; allow it with: foundry service set --origins ORIGIN";
  e.code = "origin_not_allowed";
  return e;
}

ApiError RateLimited(int retry_after_s) {
  ApiError e;
  e.http = 429;
  e.type = "requests";
  e.code = "rate_limit_exceeded";
  e.message =
      "Rate limit reached for this API key; retry in " + std::to_string(retry_after_s) + " s.";
  return e;
}

ApiError Draining() {
  ApiError e = ServerError("the service is shutting down; retry on another replica");
  e.http = 503;
  e.code = "server_shutting_down";
  return e;
}

void AddCorsHeaders(httplib::Response& res, const CorsPolicy& cors, const std::string& origin) {
  res.set_header("Access-Control-Allow-Origin", AllowOriginValue(cors, origin));
  res.set_header("Access-Control-Expose-Headers", "Retry-After");
  res.set_header("Vary", "Origin");
}

}  // namespace

bool IsOpenRoute(const httplib::Request& req) {
  if (req.method != "GET" && req.method != "HEAD") return false;
  // The chat page and its files (web_routes.h): the page asks for the key itself.
  return req.path == "/health" || req.path == "/" || req.path == "/favicon.ico" ||
         req.path.rfind("/web/", 0) == 0;
}

RequestGate::RequestGate(const AccessOptions& options)
    : keys_(options.api_keys), cors_(options.cors), limiter_(options.rate_limit_per_minute) {
  // With keys, a page must hold a key to do anything: DNS rebinding gains nothing.
  cors_.trust_any_host = cors_.trust_any_host || !keys_.empty();
}

bool RequestGate::Screen(const httplib::Request& req, httplib::Response& res, bool draining) {
  const std::string origin = req.get_header_value("Origin");
  const OriginVerdict verdict = CheckOrigin(cors_, origin, req.get_header_value("Host"));
  if (verdict == OriginVerdict::kForbidden) {
    Refuse(res, ForbiddenOrigin());
    return true;
  }
  if (verdict == OriginVerdict::kAllowed) AddCorsHeaders(res, cors_, origin);
  if (req.method == "OPTIONS") {  // a preflight: it never carries the key
    res.status = 204;
    res.set_header("Allow", "GET, POST, OPTIONS");
    if (verdict != OriginVerdict::kNoOrigin) {
      res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      const std::string asked = req.get_header_value("Access-Control-Request-Headers");
      res.set_header("Access-Control-Allow-Headers",
                     asked.empty() ? std::string("Authorization, Content-Type") : asked);
      res.set_header("Access-Control-Max-Age", "600");
    }
    return true;
  }
  if (IsOpenRoute(req)) return false;

  std::string client = req.remote_addr;
  if (!keys_.empty()) {
    const std::string authorization = req.get_header_value("Authorization");
    const std::optional<std::string_view> token = BearerToken(authorization);
    if (!token) {
      Refuse(res, MissingApiKey());
      res.set_header("WWW-Authenticate", "Bearer");
      return true;
    }
    const std::optional<size_t> key = keys_.Match(*token);
    if (!key) {
      Refuse(res, InvalidApiKey());
      res.set_header("WWW-Authenticate", "Bearer");
      return true;
    }
    client = "key " + std::to_string(*key);
  }
  // /metrics stays open to its scraper while draining: it shows the drain.
  if (draining && req.path != "/metrics") {
    Refuse(res, Draining());
    return true;
  }
  if (const std::optional<int> wait = limiter_.Take(client)) {
    ReplyError(res, RateLimited(*wait));
    res.set_header("Retry-After", std::to_string(*wait));
    return true;
  }
  return false;
}

}  // namespace foundry
