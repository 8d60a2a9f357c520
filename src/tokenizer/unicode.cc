#include "tokenizer/unicode.h"

#include <array>

#include "tokenizer/unicode_tables.h"

namespace foundry {
namespace {

uint16_t FlagsForCategory(UnicodeCategory c) {
  switch (c) {
    case UnicodeCategory::kLu:
      return kCpLetter | kCpUpper;
    case UnicodeCategory::kLl:
      return kCpLetter | kCpLower;
    case UnicodeCategory::kLt:
      return kCpLetter | kCpTitle;
    case UnicodeCategory::kLm:
      return kCpLetter | kCpModifier;
    case UnicodeCategory::kLo:
      return kCpLetter | kCpOtherLetter;
    case UnicodeCategory::kMn:
    case UnicodeCategory::kMc:
    case UnicodeCategory::kMe:
      return kCpMark;
    case UnicodeCategory::kNd:
    case UnicodeCategory::kNl:
    case UnicodeCategory::kNo:
      return kCpNumber;
    case UnicodeCategory::kPc:
    case UnicodeCategory::kPd:
    case UnicodeCategory::kPs:
    case UnicodeCategory::kPe:
    case UnicodeCategory::kPi:
    case UnicodeCategory::kPf:
    case UnicodeCategory::kPo:
      return kCpPunct;
    case UnicodeCategory::kSm:
    case UnicodeCategory::kSc:
    case UnicodeCategory::kSk:
    case UnicodeCategory::kSo:
      return kCpSymbol;
    default:
      return 0;
  }
}

std::array<uint16_t, 128> BuildAsciiFlags() {
  std::array<uint16_t, 128> t{};
  for (uint32_t cp = 0; cp < 128; ++cp) {
    t[cp] =
        FlagsForCategory(GetUnicodeCategory(cp)) | (IsUnicodeWhitespace(cp) ? kCpWhitespace : 0);
  }
  return t;
}

}  // namespace

UnicodeCategory GetUnicodeCategory(uint32_t cp) {
  if (cp > 0x10FFFF) return UnicodeCategory::kCn;
  // Last run whose first code point is <= cp.
  int lo = 0;
  int hi = kUnicodeCategoryRunCount - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (kUnicodeCategoryRuns[mid].first <= cp) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return static_cast<UnicodeCategory>(kUnicodeCategoryRuns[lo].category);
}

bool IsUnicodeWhitespace(uint32_t cp) {
  // The White_Space property (what \s matches in Oniguruma, Rust regex and llama.cpp).
  switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

uint16_t GetCodepointFlags(uint32_t cp) {
  static const std::array<uint16_t, 128> kAscii = BuildAsciiFlags();  // immutable after init
  if (cp < 128) return kAscii[cp];
  return FlagsForCategory(GetUnicodeCategory(cp)) | (IsUnicodeWhitespace(cp) ? kCpWhitespace : 0);
}

size_t DecodeUtf8(std::string_view s, size_t pos, uint32_t* cp) {
  const auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t c0 = b(pos);
  const size_t left = s.size() - pos;
  const auto cont = [&](size_t i) { return i < left && (b(pos + i) & 0xC0) == 0x80; };
  if (c0 < 0x80) {
    *cp = c0;
    return 1;
  }
  if (c0 >= 0xC2 && c0 <= 0xDF && cont(1)) {
    *cp = (uint32_t{c0 & 0x1Fu} << 6) | (b(pos + 1) & 0x3F);
    return 2;
  }
  if (c0 >= 0xE0 && c0 <= 0xEF && cont(1) && cont(2)) {
    const uint32_t v =
        (uint32_t{c0 & 0x0Fu} << 12) | (uint32_t{b(pos + 1) & 0x3Fu} << 6) | (b(pos + 2) & 0x3F);
    if (v >= 0x800 && (v < 0xD800 || v > 0xDFFF)) {
      *cp = v;
      return 3;
    }
  }
  if (c0 >= 0xF0 && c0 <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    const uint32_t v = (uint32_t{c0 & 0x07u} << 18) | (uint32_t{b(pos + 1) & 0x3Fu} << 12) |
                       (uint32_t{b(pos + 2) & 0x3Fu} << 6) | (b(pos + 3) & 0x3F);
    if (v >= 0x10000 && v <= 0x10FFFF) {
      *cp = v;
      return 4;
    }
  }
  *cp = kInvalidByteBase + c0;
  return 1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace foundry
