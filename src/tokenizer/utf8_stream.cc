#include "tokenizer/utf8_stream.h"

#include "tokenizer/tokenizer.h"

namespace foundry {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Expected length of a sequence starting with `b` and the allowed range of its second byte;
// 0 when `b` cannot start a sequence.
int SequenceLength(uint8_t b, uint8_t* lo, uint8_t* hi) {
  *lo = 0x80;
  *hi = 0xBF;
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) {
    if (b == 0xE0) *lo = 0xA0;  // no overlong forms
    if (b == 0xED) *hi = 0x9F;  // no surrogates
    return 3;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    if (b == 0xF0) *lo = 0x90;
    if (b == 0xF4) *hi = 0x8F;  // <= U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

std::string Utf8StreamDecoder::Push(std::string_view bytes) {
  std::string buf = pending_;
  buf.append(bytes);
  pending_.clear();
  std::string out;
  out.reserve(buf.size());
  size_t i = 0;
  while (i < buf.size()) {
    uint8_t lo = 0, hi = 0;
    const int len = SequenceLength(static_cast<uint8_t>(buf[i]), &lo, &hi);
    if (len == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    // Count the bytes that continue this sequence validly.
    int k = 1;
    while (k < len && i + k < buf.size()) {
      const uint8_t c = static_cast<uint8_t>(buf[i + k]);
      const uint8_t l = k == 1 ? lo : 0x80;
      const uint8_t h = k == 1 ? hi : 0xBF;
      if (c < l || c > h) break;
      ++k;
    }
    if (k == len) {
      out.append(buf, i, len);
      i += len;
    } else if (i + k == buf.size()) {
      pending_.assign(buf, i, k);  // a valid prefix: wait for more bytes
      break;
    } else {
      out += kReplacement;  // maximal ill-formed subpart
      i += k;
    }
  }
  return out;
}

std::string Utf8StreamDecoder::PushToken(const Tokenizer& tokenizer, int32_t id,
                                         bool render_special) {
  return Push(tokenizer.PieceView(id, render_special));
}

std::string Utf8StreamDecoder::Flush() {
  if (pending_.empty()) return {};
  pending_.clear();
  return std::string(kReplacement);
}

}  // namespace foundry
