// What every request passes before its route (cpp-httplib's pre-routing handler): the CORS
// check and preflight answers, the API key, the draining service's refusal (of all but
// /metrics) and the rate limit, in that order. Only the open routes (the health check and the
// service's page) need no key.
#pragma once

#include <httplib.h>

#include <string>
#include <vector>

#include "server/auth.h"
#include "server/cors.h"
#include "server/rate_limit.h"

namespace foundry {

struct AccessOptions {
  std::vector<ApiKeyDigest> api_keys;  // empty: no key needed
  CorsPolicy cors;
  int rate_limit_per_minute = 0;  // per key (or client address without keys); 0: no limit
};

// GET or HEAD of /health, or of the service's page (/ and its icon): answered without a key.
bool IsOpenRoute(const httplib::Request& req);

class RequestGate {
 public:
  explicit RequestGate(const AccessOptions& options);

  bool requires_keys() const { return !keys_.empty(); }

  // True when the gate answered the request itself (a preflight, a refusal); false when the
  // route should answer it (CORS headers for a listed origin are then already set).
  bool Screen(const httplib::Request& req, httplib::Response& res, bool draining);

 private:
  ApiKeys keys_;
  CorsPolicy cors_;
  RateLimiter limiter_;
};

}  // namespace foundry
