#include "grammar/utf8_sequences.h"

#include <algorithm>

#include "tokenizer/unicode.h"

namespace foundry {
namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;
constexpr uint32_t kSurrogateLo = 0xD800;
constexpr uint32_t kSurrogateHi = 0xDFFF;

int EncodedLength(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

// [lo, hi] with the same encoded length and aligned so that each byte position spans a range.
void AppendAligned(uint32_t lo, uint32_t hi, std::vector<Utf8Sequence>* out) {
  std::string a, b;
  AppendUtf8(lo, &a);
  AppendUtf8(hi, &b);
  Utf8Sequence seq;
  for (size_t i = 0; i < a.size(); ++i) {
    seq.push_back({static_cast<uint8_t>(a[i]), static_cast<uint8_t>(b[i])});
  }
  out->push_back(std::move(seq));
}

void Split(uint32_t lo, uint32_t hi, std::vector<Utf8Sequence>* out) {
  if (lo > hi) return;
  // Different encoded lengths: split at the length boundary.
  for (uint32_t boundary : {0x7Fu, 0x7FFu, 0xFFFFu}) {
    if (lo <= boundary && boundary < hi) {
      Split(lo, boundary, out);
      Split(boundary + 1, hi, out);
      return;
    }
  }
  const int n = EncodedLength(lo);
  // Continuation bytes carry 6 bits each: split until every trailing byte position spans its
  // full range or the leading bytes agree.
  for (int i = 1; i < n; ++i) {
    const uint32_t m = (uint32_t{1} << (6 * i)) - 1;
    if ((lo & ~m) != (hi & ~m)) {
      if ((lo & m) != 0) {
        Split(lo, lo | m, out);
        Split((lo | m) + 1, hi, out);
        return;
      }
      if ((hi & m) != m) {
        Split(lo, (hi & ~m) - 1, out);
        Split(hi & ~m, hi, out);
        return;
      }
    }
  }
  AppendAligned(lo, hi, out);
}

}  // namespace

void AppendUtf8Sequences(uint32_t lo, uint32_t hi, std::vector<Utf8Sequence>* out) {
  hi = std::min(hi, kMaxCodePoint);
  if (lo > hi) return;
  if (lo < kSurrogateLo && hi > kSurrogateHi) {
    Split(lo, kSurrogateLo - 1, out);
    Split(kSurrogateHi + 1, hi, out);
  } else if (lo >= kSurrogateLo && hi <= kSurrogateHi) {
    return;
  } else if (lo >= kSurrogateLo && lo <= kSurrogateHi) {
    Split(kSurrogateHi + 1, hi, out);
  } else if (hi >= kSurrogateLo && hi <= kSurrogateHi) {
    Split(lo, kSurrogateLo - 1, out);
  } else {
    Split(lo, hi, out);
  }
}

std::vector<std::pair<uint32_t, uint32_t>> NormalizeCodePointRanges(
    std::vector<std::pair<uint32_t, uint32_t>> ranges, bool negate) {
  for (auto& r : ranges) {
    r.second = std::min(r.second, kMaxCodePoint);
  }
  std::erase_if(ranges, [](const auto& r) { return r.first > r.second; });
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<uint32_t, uint32_t>> merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().second + 1) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  if (!negate) return merged;
  std::vector<std::pair<uint32_t, uint32_t>> complement;
  uint32_t next = 0;
  for (const auto& r : merged) {
    if (r.first > next) complement.push_back({next, r.first - 1});
    next = r.second + 1;
  }
  if (next <= kMaxCodePoint) complement.push_back({next, kMaxCodePoint});
  return complement;
}

}  // namespace foundry
