#include "server/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>

namespace foundry {

ApiKeyDigest DigestApiKey(std::string_view key) {
  ApiKeyDigest out{};
  unsigned int len = 0;
  // EVP_Digest with SHA-256 cannot fail for in-memory input short of memory exhaustion.
  FOUNDRY_CHECK(EVP_Digest(key.data(), key.size(), out.data(), &len, EVP_sha256(), nullptr) == 1 &&
                len == out.size());
  return out;
}

std::string DigestHex(const ApiKeyDigest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (uint8_t b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

StatusOr<ApiKeyDigest> ParseDigestHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  ApiKeyDigest out{};
  if (hex.size() != 64) {
    return InvalidArgument("an API key digest is 64 hex digits; \"" + std::string(hex) +
                           "\" is not (fix apiKeySha256 in settings.json)");
  }
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return InvalidArgument("an API key digest is 64 hex digits; \"" + std::string(hex) +
                             "\" is not (fix apiKeySha256 in settings.json)");
    }
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return out;
}

bool DigestsEqual(const ApiKeyDigest& a, const ApiKeyDigest& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

StatusOr<std::string> RandomApiKey() {
  ApiKeyDigest bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return Internal("cannot draw a random API key (OpenSSL's RAND_bytes failed)");
  }
  return DigestHex(bytes);
}

std::optional<std::string_view> BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) {
      return std::nullopt;
    }
  }
  std::string_view rest = authorization.substr(kScheme.size());
  if (rest.front() != ' ') return std::nullopt;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  if (rest.empty()) return std::nullopt;
  return rest;
}

std::optional<size_t> ApiKeys::Match(std::string_view presented) const {
  const ApiKeyDigest digest = DigestApiKey(presented);
  std::optional<size_t> found;
  for (size_t i = 0; i < digests_.size(); ++i) {
    if (DigestsEqual(digest, digests_[i]) && !found) found = i;
  }
  return found;
}

ApiError MissingApiKey() {
  ApiError e;
  e.http = 401;
  e.message =
      "You didn't provide an API key. You need to provide your API key in an Authorization "
      "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
  return e;
}

ApiError InvalidApiKey() {
  ApiError e;
  e.http = 401;
  e.message = "Incorrect API key provided.";
  e.code = "invalid_api_key";
  return e;
}

}  // namespace foundry
