// HTML escaping as Jinja's `escape` filter (markupsafe) does it: & < > " ' become entities, so
// the text is safe inside elements and quoted attributes. Used by the chat templates' filter
// and by the HTML reports foundry writes.
#pragma once

#include <string>
#include <string_view>

namespace foundry {

inline std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace foundry
