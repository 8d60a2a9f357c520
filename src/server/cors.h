// Which web pages may call the service from a browser (CORS). By default only the service's
// own page (same origin); `foundry service set --origins` adds others. A request that carries
// a foreign Origin is refused outright, not just left without CORS headers: a browser still
// sends "simple" cross-site requests (a form's POST), and the service must not act on them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace foundry {

struct CorsPolicy {
  // Exact origins ("https://app.example.com", "http://localhost:3000"); "*" allows every one.
  std::vector<std::string> origins;
  // Whether a same-origin page is trusted for any Host name. Without API keys, only when the
  // Host is an IP address or localhost: a DNS name could be rebound to this machine by a
  // foreign page, which would then look same-origin.
  bool trust_any_host = false;
};

enum class OriginVerdict {
  kNoOrigin,    // not a browser's cross-origin call: CORS does not apply
  kSameOrigin,  // the service's own page
  kAllowed,     // a listed origin: the answer carries Access-Control-Allow-Origin
  kForbidden,
};

OriginVerdict CheckOrigin(const CorsPolicy& policy, std::string_view origin,
                          std::string_view host_header);

// The value for Access-Control-Allow-Origin ("*" when the policy allows every origin).
std::string AllowOriginValue(const CorsPolicy& policy, std::string_view origin);

// Whether a CLI value is an origin: scheme "http" or "https", a host, an optional port, no
// path ("*" too).
bool IsOrigin(std::string_view origin);

}  // namespace foundry
