#include "server/bind_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace foundry {
namespace {

bool ParseIpv4(const std::string& host, in_addr* out) {
  return inet_pton(AF_INET, host.c_str(), out) == 1;
}

bool ParseIpv6(const std::string& host, in6_addr* out) {
  return inet_pton(AF_INET6, host.c_str(), out) == 1;
}

}  // namespace

Status CheckBindAddress(const std::string& host) {
  in_addr v4;
  in6_addr v6;
  if (host == "localhost" || ParseIpv4(host, &v4) || ParseIpv6(host, &v6)) return OkStatus();
  return InvalidArgument("\"" + host +
                         "\" is not an address to listen on: give an IPv4 or IPv6 address "
                         "(127.0.0.1 for this machine only, 0.0.0.0 for every interface)");
}

bool IsLoopbackAddress(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4;
  if (ParseIpv4(host, &v4)) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  if (ParseIpv6(host, &v6)) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

Status CheckExposure(const std::string& host, bool has_api_keys, bool allow_unauthenticated,
                     std::string* warning) {
  FOUNDRY_RETURN_IF_ERROR(CheckBindAddress(host));
  if (IsLoopbackAddress(host) || has_api_keys) return OkStatus();
  if (allow_unauthenticated) {
    if (warning != nullptr) {
      *warning = "warning: listening on " + host +
                 " without an API key: anyone who can reach this machine can use the service "
                 "(set a key with: foundry service set --api-key KEY)";
    }
    return OkStatus();
  }
  return InvalidArgument("refusing to listen on " + host +
                         " without an API key: anyone who can reach this machine could use the "
                         "service. Set a key with: foundry service set --api-key KEY (or "
                         "FOUNDRY_API_KEY), or accept an open service with "
                         "--allow-unauthenticated");
}

std::string LocalClientAddress(const std::string& host) {
  in6_addr v6;
  if (ParseIpv6(host, &v6)) {
    return IN6_IS_ADDR_UNSPECIFIED(&v6) ? "::1" : host;
  }
  if (host == "0.0.0.0" || host == "localhost") return "127.0.0.1";
  return host;
}

}  // namespace foundry
