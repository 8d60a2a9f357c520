// Foundry Local's management request parsers (server/api/foundry_request.h).
#include <gtest/gtest.h>

#include "server/api/foundry_request.h"

namespace foundry {
namespace {

TEST(FoundryRequest, LoadQuery) {
  LoadQuery q;
  ASSERT_FALSE(ParseLoadQuery(std::nullopt, std::nullopt, &q));
  EXPECT_EQ(q.ttl_s, -1);
  EXPECT_FALSE(q.unload_when_idle.has_value());
  LoadQuery keep;
  ASSERT_FALSE(ParseLoadQuery("300", "false", &keep));
  EXPECT_EQ(keep.ttl_s, 300);
  EXPECT_EQ(keep.unload_when_idle, false);
  for (const char* yes : {"true", "True", "1"}) {
    LoadQuery u;
    ASSERT_FALSE(ParseLoadQuery(std::nullopt, yes, &u));
    EXPECT_EQ(u.unload_when_idle, true);
  }
  for (const char* bad : {"x", "", "-1", "5s", "99999999999999999999"}) {
    LoadQuery b;
    auto e = ParseLoadQuery(bad, std::nullopt, &b);
    ASSERT_TRUE(e.has_value()) << bad;
    EXPECT_EQ(e->param, "ttl");
  }
  LoadQuery b;
  EXPECT_EQ(ParseLoadQuery(std::nullopt, "maybe", &b)->param, "unload");
  int64_t n_ctx = -1;
  ASSERT_FALSE(ParseLoadContext(std::nullopt, &n_ctx));
  EXPECT_EQ(n_ctx, 0);
  ASSERT_FALSE(ParseLoadContext("32768", &n_ctx));
  EXPECT_EQ(n_ctx, 32768);
  for (const char* bad : {"", "0", "-5", "1e4", "4096x", "2000000"}) {
    auto e = ParseLoadContext(std::string(bad), &n_ctx);
    ASSERT_TRUE(e.has_value()) << bad;
    EXPECT_EQ(e->param, "ctx");
  }
}

TEST(FoundryRequest, UnloadQuery) {
  EXPECT_FALSE(CheckUnloadQuery(std::nullopt));
  EXPECT_FALSE(CheckUnloadQuery("true"));
  EXPECT_FALSE(CheckUnloadQuery("False"));
  EXPECT_EQ(CheckUnloadQuery("maybe")->param, "force");
}

TEST(FoundryRequest, Download) {
  std::string name;
  ASSERT_FALSE(ParseDownloadRequest(R"({"model":{"Name":"smollm2-135m","Uri":"x"}})", &name));
  EXPECT_EQ(name, "smollm2-135m");
  std::string plain;
  ASSERT_FALSE(ParseDownloadRequest(R"({"model":"tiny"})", &plain));
  EXPECT_EQ(plain, "tiny");
  for (const char* bad : {R"({"x":1})", R"({"model":{"Name":3}})", R"({"model":""})", "[]"}) {
    std::string n;
    auto e = ParseDownloadRequest(bad, &n);
    ASSERT_TRUE(e.has_value()) << bad;
    EXPECT_EQ(e->http, 400);
  }
}

}  // namespace
}  // namespace foundry
