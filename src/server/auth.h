// API keys: the service stores and compares only SHA-256 digests of keys (OpenSSL), so neither
// the settings file nor the time a comparison takes tells anything about a key. A request
// authenticates with `Authorization: Bearer KEY`, as OpenAI's API and its clients do.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/api/error.h"

namespace foundry {

using ApiKeyDigest = std::array<uint8_t, 32>;

ApiKeyDigest DigestApiKey(std::string_view key);
std::string DigestHex(const ApiKeyDigest& digest);
// 64 hex digits; InvalidArgument otherwise.
StatusOr<ApiKeyDigest> ParseDigestHex(std::string_view hex);

// Equality of two digests in time independent of where they differ (CRYPTO_memcmp).
bool DigestsEqual(const ApiKeyDigest& a, const ApiKeyDigest& b);

// A fresh random key (32 bytes from OpenSSL's RAND_bytes, as hex), e.g. the daemon's own key
// for the local CLI.
StatusOr<std::string> RandomApiKey();

// The token of an `Authorization: Bearer TOKEN` header value; nullopt for any other scheme.
std::optional<std::string_view> BearerToken(std::string_view authorization);

class ApiKeys {
 public:
  ApiKeys() = default;
  explicit ApiKeys(std::vector<ApiKeyDigest> digests) : digests_(std::move(digests)) {}

  bool empty() const { return digests_.empty(); }
  // Which stored key `presented` is (its index, e.g. for per-key limits), or nullopt. Every
  // stored digest is compared, each in constant time, so the time taken depends only on the
  // number of keys.
  std::optional<size_t> Match(std::string_view presented) const;

 private:
  std::vector<ApiKeyDigest> digests_;
};

// OpenAI's 401 answers: no key given, or a wrong one (never echoed back).
ApiError MissingApiKey();
ApiError InvalidApiKey();

}  // namespace foundry
