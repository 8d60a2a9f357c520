// Tokenizer for the chat-template language. Applies jinja2's whitespace rules as Hugging Face
// configures them (trim_blocks=True, lstrip_blocks=True, `-`/`+` markers, one trailing newline
// dropped) so the parser only sees the text that is really emitted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace foundry::jinja {

enum class TokenKind : uint8_t {
  kText,
  kVarBegin,
  kVarEnd,
  kBlockBegin,
  kBlockEnd,
  kName,
  kString,
  kInt,
  kFloat,
  kOp,
  kEof,
};

struct Token {
  TokenKind kind;
  std::string text;  // text, name, string value, operator
  int64_t int_value = 0;
  double float_value = 0;
  int line = 1;
  int col = 1;
};

StatusOr<std::vector<Token>> Lex(std::string_view source);

// "line L, column C" for messages.
std::string Where(int line, int col);

}  // namespace foundry::jinja
