// The chat page's files as built into the binary (web/embed.cmake) and their lookup.
#include <gtest/gtest.h>

#include <fstream>
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
  int refs = 0;
  // Every src="web/..." and href="web/..." attribute.
  for (const std::string attr : {"src=\"web/", "href=\"web/"}) {
    for (size_t at = html.find(attr); at != std::string::npos; at = html.find(attr, at + 1)) {
      const size_t begin = at + attr.size() - 4;  // at "web/"
      const size_t end = html.find('"', begin);
      ASSERT_NE(end, std::string::npos);
      std::string path = "/";
      path.append(html, begin, end - begin);
      EXPECT_NE(FindWebAsset(path), nullptr) << path;
      ++refs;
    }
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
