// The chat page's files as built into the binary (web/embed.cmake) and their lookup.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "server/web_routes.h"

namespace foundry {
namespace {

std::string ReadSource(const std::string& name) {
  std::ifstream in(std::string(FOUNDRY_SOURCE_DIR) + "/web/" + name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(WebRoutes, RootIsTheIndexPage) {
  const WebAsset* index = FindWebAsset("/");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->path, "/web/index.html");
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index, FindWebAsset("/web/index.html"));
}

TEST(WebRoutes, EmbeddedBytesAreTheSourceFiles) {
  for (const char* name : {"index.html", "app.js", "markdown.js", "style.css", "favicon.svg"}) {
    const WebAsset* a = FindWebAsset(std::string("/web/") + name);
    ASSERT_NE(a, nullptr) << name;
    EXPECT_EQ(a->body, ReadSource(name)) << name;
  }
  EXPECT_EQ(FindWebAsset("/web/app.js")->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(FindWebAsset("/web/style.css")->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(FindWebAsset("/web/favicon.svg")->content_type, "image/svg+xml");
}

TEST(WebRoutes, EveryFileThePageNamesIsBuiltIn) {
  const std::string html(FindWebAsset("/")->body);
  const std::regex ref(R"re((?:src|href)="(web/[^"]+)")re");
  int refs = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), ref); it != std::sregex_iterator();
       ++it) {
    std::string path = "/";
    path.append((*it)[1].first, (*it)[1].second);
    EXPECT_NE(FindWebAsset(path), nullptr) << path;
    ++refs;
  }
  EXPECT_EQ(refs, 4);  // the icon, the style sheet and two scripts
  // Nothing from another origin: the page works offline.
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
}

TEST(WebRoutes, UnknownPathsAreNotFound) {
  EXPECT_EQ(FindWebAsset("/web/nope.js"), nullptr);
  EXPECT_EQ(FindWebAsset("/web/"), nullptr);
  EXPECT_EQ(FindWebAsset("/index.html"), nullptr);
  EXPECT_EQ(FindWebAsset(""), nullptr);
}

}  // namespace
}  // namespace foundry
