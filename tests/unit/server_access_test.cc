// Who may reach the service: bind addresses, CORS origins, rate limits.
#include <gtest/gtest.h>

#include "server/bind_address.h"
#include "server/cors.h"
#include "server/rate_limit.h"

namespace foundry {
namespace {

TEST(BindAddress, LoopbackAndExposure) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackAddress("127.3.2.1"));
  EXPECT_TRUE(IsLoopbackAddress("::1"));
  EXPECT_TRUE(IsLoopbackAddress("localhost"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackAddress("192.168.1.5"));
  EXPECT_FALSE(IsLoopbackAddress("::"));
  EXPECT_FALSE(CheckBindAddress("example.com").ok());
  EXPECT_FALSE(CheckBindAddress("").ok());

  std::string warning;
  EXPECT_TRUE(CheckExposure("127.0.0.1", false, false, &warning).ok());
  EXPECT_TRUE(warning.empty());
  const Status refused = CheckExposure("0.0.0.0", false, false, &warning);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("--api-key"), std::string::npos);
  EXPECT_TRUE(CheckExposure("0.0.0.0", true, false, &warning).ok());
  EXPECT_TRUE(warning.empty());
  EXPECT_TRUE(CheckExposure("0.0.0.0", false, true, &warning).ok());
  EXPECT_NE(warning.find("without an API key"), std::string::npos);

  EXPECT_EQ(LocalClientAddress("0.0.0.0"), "127.0.0.1");
  EXPECT_EQ(LocalClientAddress("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(LocalClientAddress("127.0.0.2"), "127.0.0.2");
  EXPECT_EQ(LocalClientAddress("localhost"), "127.0.0.1");
  EXPECT_EQ(LocalClientAddress("10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(LocalClientAddress("::"), "::1");
}

TEST(Cors, NothingButTheServicesOwnPageByDefault) {
  const CorsPolicy none;
  EXPECT_EQ(CheckOrigin(none, "", "127.0.0.1:8000"), OriginVerdict::kNoOrigin);
  EXPECT_EQ(CheckOrigin(none, "http://127.0.0.1:8000", "127.0.0.1:8000"),
            OriginVerdict::kSameOrigin);
  EXPECT_EQ(CheckOrigin(none, "http://localhost:8000", "localhost:8000"),
            OriginVerdict::kSameOrigin);
  EXPECT_EQ(CheckOrigin(none, "https://evil.example", "127.0.0.1:8000"), OriginVerdict::kForbidden);
  EXPECT_EQ(CheckOrigin(none, "http://127.0.0.1:9999", "127.0.0.1:8000"),
            OriginVerdict::kForbidden);
  // DNS rebinding: a foreign name pointed at this machine looks same-origin; without keys it
  // is not trusted.
  EXPECT_EQ(CheckOrigin(none, "http://evil.example:8000", "evil.example:8000"),
            OriginVerdict::kForbidden);
  CorsPolicy keyed;
  keyed.trust_any_host = true;
  EXPECT_EQ(CheckOrigin(keyed, "https://llm.example.com", "llm.example.com"),
            OriginVerdict::kSameOrigin);
}

TEST(Cors, ListedOriginsOnly) {
  CorsPolicy p;
  p.origins = {"https://app.example.com", "http://localhost:3000"};
  EXPECT_EQ(CheckOrigin(p, "https://app.example.com", "h:1"), OriginVerdict::kAllowed);
  EXPECT_EQ(CheckOrigin(p, "HTTPS://APP.EXAMPLE.COM", "h:1"), OriginVerdict::kAllowed);
  EXPECT_EQ(CheckOrigin(p, "https://app.example.com.evil.net", "h:1"), OriginVerdict::kForbidden);
  EXPECT_EQ(CheckOrigin(p, "http://app.example.com", "h:1"), OriginVerdict::kForbidden);
  EXPECT_EQ(AllowOriginValue(p, "http://localhost:3000"), "http://localhost:3000");
  p.origins = {"*"};
  EXPECT_EQ(CheckOrigin(p, "https://any.where", "h:1"), OriginVerdict::kAllowed);
  EXPECT_EQ(AllowOriginValue(p, "https://any.where"), "*");
  EXPECT_TRUE(IsOrigin("https://app.example.com"));
  EXPECT_TRUE(IsOrigin("http://[::1]:8000"));
  EXPECT_FALSE(IsOrigin("https://app.example.com/path"));
  EXPECT_FALSE(IsOrigin("app.example.com"));
  EXPECT_FALSE(IsOrigin("https://"));
}

TEST(RateLimit, BucketPerClientRefillsOverAMinute) {
  using namespace std::chrono_literals;
  RateLimiter off(0);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(off.Take("a"));
  RateLimiter limiter(6);  // one request per 10 s, bursts of 6
  const auto t0 = RateLimiter::Clock::time_point{} + 1h;
  for (int i = 0; i < 6; ++i) EXPECT_FALSE(limiter.Take("a", t0)) << i;
  const std::optional<int> wait = limiter.Take("a", t0);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 10);
  EXPECT_FALSE(limiter.Take("b", t0));  // another client has its own allowance
  EXPECT_TRUE(limiter.Take("a", t0 + 9s));
  EXPECT_FALSE(limiter.Take("a", t0 + 10s));
  EXPECT_TRUE(limiter.Take("a", t0 + 10s));
}

}  // namespace
}  // namespace foundry
