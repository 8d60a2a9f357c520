// Where the service listens, and whether it may listen there: a loopback address is reachable
// from this machine only; any other address exposes the service to the network, which needs an
// API key (or an explicit --allow-unauthenticated).
#pragma once

#include <string>

#include "base/status.h"

namespace foundry {

// An IPv4 or IPv6 literal ("127.0.0.1", "0.0.0.0", "::1", "::") or "localhost"; anything else is
// InvalidArgument naming the value.
Status CheckBindAddress(const std::string& host);

// 127.0.0.0/8, ::1 or "localhost".
bool IsLoopbackAddress(const std::string& host);

// Whether the service may listen on `host`: always on loopback; elsewhere only with API keys,
// or when the user accepted an open service (`allow_unauthenticated`, then `*warning` says
// so). The refusal names --api-key.
Status CheckExposure(const std::string& host, bool has_api_keys, bool allow_unauthenticated,
                     std::string* warning);

// The address a client on this machine uses to reach a service bound to `host`: the loopback
// address for a wildcard bind and "localhost", else `host` itself.
std::string LocalClientAddress(const std::string& host);

}  // namespace foundry
