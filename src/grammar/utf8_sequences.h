// Code point ranges as UTF-8 byte-range sequences, so that a character class over code points
// becomes byte sets the matcher can test one input byte at a time.
//
// [U+0000, U+10FFFF] minus the surrogates splits into sequences such as [00-7F],
// [C2-DF][80-BF], [E0][A0-BF][80-BF], ...; every code point of a range is matched by exactly one
// sequence and nothing else is (no overlong forms, no surrogates).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace foundry {

struct ByteRange {
  uint8_t lo;
  uint8_t hi;
};
using Utf8Sequence = std::vector<ByteRange>;  // 1 to 4 ranges, one per byte

// Appends the sequences matching the code points [lo, hi] (surrogates are skipped).
void AppendUtf8Sequences(uint32_t lo, uint32_t hi, std::vector<Utf8Sequence>* out);

// Sorted, merged ranges; the complement within [0, 0x10FFFF] when `negate`.
std::vector<std::pair<uint32_t, uint32_t>> NormalizeCodePointRanges(
    std::vector<std::pair<uint32_t, uint32_t>> ranges, bool negate);

}  // namespace foundry
