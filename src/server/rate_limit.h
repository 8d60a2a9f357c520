// Per-client request rate limits: a token bucket per client (an API key, or the client's
// address when the service has no keys) holding up to one minute's allowance, refilled
// continuously. Clients at their limit get 429 with Retry-After.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace foundry {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // requests_per_minute 0: no limit.
  explicit RateLimiter(int requests_per_minute) : per_minute_(requests_per_minute) {}

  // Takes one request from `client`'s allowance; nullopt when allowed, else the whole seconds
  // until the next request will be.
  std::optional<int> Take(const std::string& client, Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
  };

  const int per_minute_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace foundry
