// Python's str operations over the code points of UTF-8 text, as chat templates use them.
// Case mapping covers ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic (the simple 1:1
// maps); other scripts pass through unchanged.
#pragma once

#include <cstdint>
#include <string>

namespace foundry::jinja {

// Python's str.isspace() for one code point.
bool PySpace(uint32_t c);
bool IsAsciiAlpha(char c);

// str.strip/lstrip/rstrip; chars == nullptr strips whitespace.
std::string Strip(const std::string& s, const std::string* chars, bool left, bool right);

std::string ToUpper(const std::string& s);
std::string ToLower(const std::string& s);
std::string Capitalize(const std::string& s);
// Python str.title(): a cased letter after an uncased character is upper-cased, others lowered.
std::string PyTitle(const std::string& s);
// jinja2's title filter: words begin after runs of [-\s({[<].
std::string JinjaTitle(const std::string& s);

// str.replace(from, to, count); count < 0 replaces every occurrence.
std::string Replace(const std::string& s, const std::string& from, const std::string& to,
                    int64_t count);

}  // namespace foundry::jinja
