#include "chat/jinja_text.h"

#include <algorithm>
#include <cstdint>

#include "chat/jinja_value.h"

namespace foundry::jinja {

namespace {

// Case mapping: ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic (the simple 1:1 maps);
// other scripts pass through unchanged.
uint32_t UpperCp(uint32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c < 0x80) return c;
  if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 32;
  if (c == 0xFF) return 0x178;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 &&
      c != 0x17F) {
    const bool odd_lower = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (odd_lower ? (c % 2 == 0) : (c % 2 == 1)) return c - 1;
    return c;
  }
  if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}
uint32_t LowerCp(uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0x80) return c;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;
  if (c == 0x178) return 0xFF;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 &&
      c != 0x17F) {
    const bool odd_lower = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (odd_lower ? (c % 2 == 1) : (c % 2 == 0)) return c + 1;
    return c;
  }
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}
bool IsCased(uint32_t c) { return UpperCp(c) != c || LowerCp(c) != c; }

template <typename F>
std::string MapCps(const std::string& s, F f) {
  std::vector<uint32_t> cps = DecodeUtf8(s);
  for (size_t i = 0; i < cps.size(); ++i) cps[i] = f(i, cps);
  return EncodeUtf8(cps, 0, cps.size());
}

}  // namespace

bool PySpace(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

// strip/lstrip/rstrip; chars == nullptr: whitespace.
std::string Strip(const std::string& s, const std::string* chars, bool left, bool right) {
  const std::vector<uint32_t> cps = DecodeUtf8(s);
  std::vector<uint32_t> set;
  if (chars != nullptr) set = DecodeUtf8(*chars);
  auto strip = [&](uint32_t c) {
    return chars == nullptr ? PySpace(c) : std::find(set.begin(), set.end(), c) != set.end();
  };
  size_t b = 0, e = cps.size();
  if (left) {
    while (b < e && strip(cps[b])) ++b;
  }
  if (right) {
    while (e > b && strip(cps[e - 1])) --e;
  }
  return EncodeUtf8(cps, b, e);
}

bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string ToUpper(const std::string& s) {
  return MapCps(s, [](size_t i, const std::vector<uint32_t>& c) { return UpperCp(c[i]); });
}
std::string ToLower(const std::string& s) {
  return MapCps(s, [](size_t i, const std::vector<uint32_t>& c) { return LowerCp(c[i]); });
}
std::string Capitalize(const std::string& s) {
  return MapCps(s, [](size_t i, const std::vector<uint32_t>& c) {
    return i == 0 ? UpperCp(c[i]) : LowerCp(c[i]);
  });
}
// Python str.title(): a cased letter after an uncased character is upper-cased, others lowered.
std::string PyTitle(const std::string& s) {
  std::vector<uint32_t> cps = DecodeUtf8(s);
  bool prev_cased = false;
  for (uint32_t& c : cps) {
    const bool cased = IsCased(c);
    if (cased) c = prev_cased ? LowerCp(c) : UpperCp(c);
    prev_cased = cased;
  }
  return EncodeUtf8(cps, 0, cps.size());
}
// jinja2's title filter: words begin after runs of [-\s({[<].
std::string JinjaTitle(const std::string& s) {
  std::vector<uint32_t> cps = DecodeUtf8(s);
  bool word_start = true;
  for (uint32_t& c : cps) {
    const bool sep = c == '-' || PySpace(c) || c == '(' || c == '{' || c == '[' || c == '<';
    if (sep) {
      word_start = true;
    } else {
      c = word_start ? UpperCp(c) : LowerCp(c);
      word_start = false;
    }
  }
  return EncodeUtf8(cps, 0, cps.size());
}

std::string Replace(const std::string& s, const std::string& from, const std::string& to,
                    int64_t count) {
  if (count < 0) count = INT64_MAX;
  std::string out;
  if (from.empty()) {
    // Python inserts `to` around every code point.
    const std::vector<uint32_t> cps = DecodeUtf8(s);
    int64_t done = 0;
    for (size_t i = 0; i <= cps.size(); ++i) {
      if (done < count) {
        out += to;
        ++done;
      }
      if (i < cps.size()) out += EncodeUtf8(cps, i, i + 1);
    }
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (done < count) {
    const size_t f = s.find(from, pos);
    if (f == std::string::npos) break;
    out.append(s, pos, f - pos);
    out += to;
    pos = f + from.size();
    ++done;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

}  // namespace foundry::jinja
