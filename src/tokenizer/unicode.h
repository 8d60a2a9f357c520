// Unicode helpers for the tokenizers: UTF-8 decoding/encoding, general categories and the
// character classes the pre-tokenizer regexes use (\p{L}, \p{N}, \p{P}, \s, ...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace foundry {

// Order matches tools/gen_unicode_tables.py.
enum class UnicodeCategory : uint8_t {
  kCn,
  kLu,
  kLl,
  kLt,
  kLm,
  kLo,
  kMn,
  kMc,
  kMe,
  kNd,
  kNl,
  kNo,
  kPc,
  kPd,
  kPs,
  kPe,
  kPi,
  kPf,
  kPo,
  kSm,
  kSc,
  kSk,
  kSo,
  kZs,
  kZl,
  kZp,
  kCc,
  kCf,
  kCs,
  kCo,
};

// Character-class bits for one code point.
enum CodepointFlag : uint16_t {
  kCpLetter = 1 << 0,        // \p{L}
  kCpNumber = 1 << 1,        // \p{N}
  kCpPunct = 1 << 2,         // \p{P}
  kCpMark = 1 << 3,          // \p{M}
  kCpSymbol = 1 << 4,        // \p{S}
  kCpWhitespace = 1 << 5,    // \s (the Unicode White_Space property)
  kCpUpper = 1 << 6,         // \p{Lu}
  kCpLower = 1 << 7,         // \p{Ll}
  kCpTitle = 1 << 8,         // \p{Lt}
  kCpModifier = 1 << 9,      // \p{Lm}
  kCpOtherLetter = 1 << 10,  // \p{Lo}
};

// Code points above U+10FFFF stand for bytes that are not valid UTF-8 (see DecodeUtf8).
inline constexpr uint32_t kInvalidByteBase = 0x110000;

UnicodeCategory GetUnicodeCategory(uint32_t cp);
bool IsUnicodeWhitespace(uint32_t cp);
uint16_t GetCodepointFlags(uint32_t cp);

// Decodes one code point at `pos` (pos < s.size()). Returns its length in bytes (>= 1).
// A byte that does not start a valid, shortest-form sequence decodes alone, as
// kInvalidByteBase + byte, so that no input byte is ever lost.
size_t DecodeUtf8(std::string_view s, size_t pos, uint32_t* cp);

// Appends the UTF-8 encoding of a valid code point (U+0000..U+10FFFF, no surrogates).
void AppendUtf8(uint32_t cp, std::string* out);

}  // namespace foundry
