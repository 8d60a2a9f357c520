// Streaming detokenization: token pieces are byte strings that may split a UTF-8 character
// (byte-level BPE splits emoji and CJK across tokens). Utf8StreamDecoder buffers the
// incomplete tail and hands out only complete characters.
//
// Invalid input never passes through: each maximal ill-formed subsequence (Unicode's
// "substitution of maximal subparts" practice) becomes one U+FFFD, so the output is always
// valid UTF-8. Flush() turns an incomplete tail into one U+FFFD.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace foundry {

class Tokenizer;

class Utf8StreamDecoder {
 public:
  // Appends `bytes` and returns the complete characters now available.
  std::string Push(std::string_view bytes);
  // Push(tokenizer.TokenToPiece(id, render_special)).
  std::string PushToken(const Tokenizer& tokenizer, int32_t id, bool render_special = false);
  // Ends the stream: returns what is left (an incomplete character becomes U+FFFD).
  std::string Flush();

  bool has_pending() const { return !pending_.empty(); }
  void Reset() { pending_.clear(); }

 private:
  std::string pending_;  // a proper prefix of a valid UTF-8 sequence, at most 3 bytes
};

}  // namespace foundry
