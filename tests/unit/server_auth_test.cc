// API keys: SHA-256 digests, the Bearer header, matching in constant time, OpenAI's 401s.
#include <gtest/gtest.h>

#include "server/auth.h"

namespace foundry {
namespace {

TEST(ApiKeys, DigestIsSha256) {
  // sha256("abc") from FIPS 180-2.
  EXPECT_EQ(DigestHex(DigestApiKey("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto parsed = ParseDigestHex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(DigestsEqual(*parsed, DigestApiKey("abc")));
  EXPECT_FALSE(ParseDigestHex("abc").ok());
  EXPECT_FALSE(ParseDigestHex(std::string(64, 'g')).ok());
}

TEST(ApiKeys, MatchesOnlyStoredKeysAndNamesWhichOne) {
  const ApiKeys keys({DigestApiKey("first-key-0123456789"), DigestApiKey("second-key-0123456789")});
  EXPECT_EQ(keys.Match("first-key-0123456789"), std::optional<size_t>(0));
  EXPECT_EQ(keys.Match("second-key-0123456789"), std::optional<size_t>(1));
  EXPECT_FALSE(keys.Match("first-key-012345678"));  // a prefix
  EXPECT_FALSE(keys.Match("first-key-01234567890"));
  EXPECT_FALSE(keys.Match(""));
  EXPECT_TRUE(ApiKeys().empty());
  EXPECT_FALSE(ApiKeys().Match("anything"));
}

// The comparison runs on fixed-size digests with CRYPTO_memcmp: the same answer wherever the
// digests differ (first byte, last byte), so the position of a difference cannot show in time.
TEST(ApiKeys, DigestComparisonLooksAtEveryByte) {
  const ApiKeyDigest base = DigestApiKey("k");
  for (size_t i : {size_t{0}, size_t{15}, size_t{31}}) {
    ApiKeyDigest other = base;
    other[i] ^= 1;
    EXPECT_FALSE(DigestsEqual(base, other)) << i;
  }
  EXPECT_TRUE(DigestsEqual(base, DigestApiKey("k")));
}

TEST(ApiKeys, BearerTokenParsing) {
  EXPECT_EQ(BearerToken("Bearer abc"), std::optional<std::string_view>("abc"));
  EXPECT_EQ(BearerToken("bearer   abc  "), std::optional<std::string_view>("abc"));
  EXPECT_FALSE(BearerToken("Basic abc"));
  EXPECT_FALSE(BearerToken("Bearer"));
  EXPECT_FALSE(BearerToken("Bearer "));
  EXPECT_FALSE(BearerToken("Bearerabc"));
  EXPECT_FALSE(BearerToken(""));
}

TEST(ApiKeys, RandomKeysDiffer) {
  auto a = RandomApiKey();
  auto b = RandomApiKey();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 64u);
  EXPECT_NE(*a, *b);
}

TEST(ApiKeys, UnauthorizedAnswersAreOpenAiShaped) {
  const ApiError missing = MissingApiKey();
  EXPECT_EQ(missing.http, 401);
  EXPECT_EQ(missing.type, "invalid_request_error");
  const ApiError wrong = InvalidApiKey();
  EXPECT_EQ(wrong.http, 401);
  EXPECT_EQ(wrong.code, "invalid_api_key");
  EXPECT_NE(ErrorBody(wrong).find("\"code\":\"invalid_api_key\""), std::string::npos);
}

}  // namespace
}  // namespace foundry
