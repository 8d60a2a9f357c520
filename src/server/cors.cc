#include "server/cors.h"

#include <algorithm>
#include <cctype>

#include "server/bind_address.h"

namespace foundry {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "host:port", "[v6]:port" or "host" -> host.
std::string HostName(std::string_view host_header) {
  if (!host_header.empty() && host_header.front() == '[') {
    const size_t close = host_header.find(']');
    return std::string(host_header.substr(
        1, close == std::string_view::npos ? host_header.size() - 1 : close - 1));
  }
  return std::string(host_header.substr(0, host_header.find(':')));
}

bool IsAddressOrLocalhost(const std::string& host) { return CheckBindAddress(host).ok(); }

}  // namespace

OriginVerdict CheckOrigin(const CorsPolicy& policy, std::string_view origin,
                          std::string_view host_header) {
  if (origin.empty()) return OriginVerdict::kNoOrigin;
  const std::string o = Lower(origin);
  const std::string host = Lower(host_header);
  if (!host.empty() && (o == "http://" + host || o == "https://" + host) &&
      (policy.trust_any_host || IsAddressOrLocalhost(HostName(host)))) {
    return OriginVerdict::kSameOrigin;
  }
  for (const std::string& allowed : policy.origins) {
    if (allowed == "*" || Lower(allowed) == o) return OriginVerdict::kAllowed;
  }
  return OriginVerdict::kForbidden;
}

std::string AllowOriginValue(const CorsPolicy& policy, std::string_view origin) {
  const bool any =
      std::find(policy.origins.begin(), policy.origins.end(), "*") != policy.origins.end();
  return any ? "*" : std::string(origin);
}

bool IsOrigin(std::string_view origin) {
  if (origin == "*") return true;
  std::string_view rest;
  if (origin.substr(0, 7) == "http://") {
    rest = origin.substr(7);
  } else if (origin.substr(0, 8) == "https://") {
    rest = origin.substr(8);
  } else {
    return false;
  }
  if (rest.empty()) return false;
  return std::all_of(rest.begin(), rest.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
           c == '[' || c == ']';
  });
}

}  // namespace foundry
