#include "server/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace foundry {

std::optional<int> RateLimiter::Take(const std::string& client, Clock::time_point now) {
  if (per_minute_ <= 0) return std::nullopt;
  const double capacity = per_minute_;
  const double per_second = capacity / 60.0;
  std::lock_guard<std::mutex> lock(mu_);
  // Full buckets carry no state: forget them so that many one-off clients cost no memory.
  if (buckets_.size() > 4096) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      const double elapsed = std::chrono::duration<double>(now - it->second.updated).count();
      it =
          it->second.tokens + elapsed * per_second >= capacity ? buckets_.erase(it) : std::next(it);
    }
  }
  auto [it, fresh] = buckets_.try_emplace(client, Bucket{capacity, now});
  Bucket& b = it->second;
  if (!fresh) {
    const double elapsed = std::chrono::duration<double>(now - b.updated).count();
    b.tokens = std::min(capacity, b.tokens + std::max(0.0, elapsed) * per_second);
    b.updated = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  return std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / per_second)));
}

}  // namespace foundry
