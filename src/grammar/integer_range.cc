#include "grammar/integer_range.h"

#include <algorithm>
#include <vector>

namespace foundry {
namespace {

std::string Join(const std::vector<std::string>& alts) {
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) {
    if (i) out += " | ";
    out += alts[i];
  }
  return out + ")";
}

std::string AnyDigits(size_t n) {
  if (n == 0) return "";
  return n == 1 ? " [0-9]" : " [0-9]{" + std::to_string(n) + "}";
}

bool All(const std::string& s, size_t from, char c) {
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(from), s.end(),
                     [c](char x) { return x == c; });
}

// A quoted digit.
std::string Digit(char d) {
  std::string out = "\"";
  out += d;
  out += '"';
  return out;
}

std::string DigitClass(char lo, char hi) {
  if (lo == hi) return Digit(lo);
  return std::string("[") + lo + "-" + hi + "]";
}

// Digit strings of equal length, a <= b: every string between them (as numbers).
std::string SameLength(const std::string& a, const std::string& b) {
  if (a.empty()) return "\"\"";
  if (a == b) return "\"" + a + "\"";
  const size_t rest = a.size() - 1;
  if (a[0] == b[0]) {
    return Digit(a[0]) + " " + SameLength(a.substr(1), b.substr(1));
  }
  if (All(a, 1, '0') && All(b, 1, '9')) return DigitClass(a[0], b[0]) + AnyDigits(rest);
  std::vector<std::string> alts;
  char low = a[0];
  if (!All(a, 1, '0')) {
    alts.push_back(Digit(a[0]) + " " + SameLength(a.substr(1), std::string(rest, '9')));
    ++low;
  }
  char high = b[0];
  std::string top;
  if (!All(b, 1, '9')) {
    top = Digit(b[0]) + " " + SameLength(std::string(rest, '0'), b.substr(1));
    --high;
  }
  if (low <= high) alts.push_back(DigitClass(low, high) + AnyDigits(rest));
  if (!top.empty()) alts.push_back(top);
  return Join(alts);
}

// 0 <= lo <= hi.
std::string NonNegative(int64_t lo, int64_t hi) {
  std::vector<std::string> alts;
  const size_t lo_len = std::to_string(lo).size(), hi_len = std::to_string(hi).size();
  int64_t pow = 1;
  for (size_t i = 1; i < lo_len; ++i) pow *= 10;
  for (size_t len = lo_len; len <= hi_len; ++len, pow *= 10) {
    const int64_t a = std::max(lo, len == 1 ? 0 : pow);
    const int64_t b = std::min(hi, pow * 10 - 1);
    if (a <= b) alts.push_back(SameLength(std::to_string(a), std::to_string(b)));
  }
  return Join(alts);
}

}  // namespace

std::string IntegerRangeGbnf(int64_t lo, int64_t hi) {
  lo = std::clamp(lo, -kMaxGrammarInteger, kMaxGrammarInteger);
  hi = std::clamp(hi, -kMaxGrammarInteger, kMaxGrammarInteger);
  std::vector<std::string> alts;
  if (lo < 0) alts.push_back("\"-\" " + NonNegative(hi < 0 ? -hi : 1, -lo));
  if (hi >= 0) alts.push_back(NonNegative(std::max<int64_t>(lo, 0), hi));
  return Join(alts);
}

}  // namespace foundry
