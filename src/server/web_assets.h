// The chat page's files (web/*), built into the binary by web/embed.cmake.
#pragma once

#include <span>
#include <string_view>

namespace foundry {

struct WebAsset {
  std::string_view path;          // URL path: "/web/<file name>"
  std::string_view content_type;  // from the file's extension
  std::string_view body;
};

// Every file of the page, sorted by path (generated web_assets.cc).
std::span<const WebAsset> WebAssets();

}  // namespace foundry
