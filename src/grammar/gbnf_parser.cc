#include "grammar/gbnf_parser.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "grammar/utf8_sequences.h"
#include "tokenizer/unicode.h"

namespace foundry {
namespace {

// Nesting of parentheses beyond this is refused rather than risking the stack.
constexpr int kMaxNesting = 128;

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

class GbnfParser {
 public:
  explicit GbnfParser(std::string_view text) : text_(text) {}

  StatusOr<Grammar> Parse(std::string_view root) {
    SkipSpace(true);
    while (pos_ < text_.size()) {
      FOUNDRY_RETURN_IF_ERROR(ParseRule());
      SkipSpace(true);
    }
    return builder_.Build(std::string(root));
  }

 private:
  Status Error(const std::string& what) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return InvalidArgument("grammar: " + what + " at line " + std::to_string(line) + ", column " +
                           std::to_string(col));
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }

  // Spaces and comments; newlines too when `newlines`.
  void SkipSpace(bool newlines) {
    while (!AtEnd()) {
      const char c = text_[pos_];
      if (c == ' ' || c == '\t' || (newlines && (c == '\n' || c == '\r'))) {
        ++pos_;
      } else if (c == '#') {
        while (!AtEnd() && text_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  std::string ParseName() {
    const size_t start = pos_;
    while (!AtEnd() && IsNameChar(text_[pos_])) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  Status ParseRule() {
    const std::string name = ParseName();
    if (name.empty()) return Error("expected a rule name");
    SkipSpace(false);
    if (text_.substr(pos_, 3) != "::=")
      return Error("expected '::=' after rule name '" + name + "'");
    pos_ += 3;
    SkipSpace(true);
    const uint32_t id = builder_.RuleId(name);
    if (builder_.IsDefined(id)) return Error("rule '" + name + "' is defined twice");
    std::vector<GrammarBuilder::Sequence> alts;
    FOUNDRY_RETURN_IF_ERROR(ParseAlternatives(name, 0, &alts));
    builder_.Define(id, std::move(alts));
    SkipSpace(false);
    if (!AtEnd() && Peek() != '\n' && Peek() != '\r') return Error("unexpected character");
    return OkStatus();
  }

  Status ParseAlternatives(const std::string& rule, int depth,
                           std::vector<GrammarBuilder::Sequence>* alts) {
    if (depth > kMaxNesting) return Error("parentheses nested too deeply");
    while (true) {
      GrammarBuilder::Sequence seq;
      FOUNDRY_RETURN_IF_ERROR(ParseSequence(rule, depth, &seq));
      alts->push_back(std::move(seq));
      if (Peek() != '|') return OkStatus();
      ++pos_;
      SkipSpace(true);
    }
  }

  Status ParseSequence(const std::string& rule, int depth, GrammarBuilder::Sequence* seq) {
    const bool nested = depth > 0;
    // Start of the last element, for postfix operators.
    size_t last_start = seq->size();
    bool has_last = false;
    while (!AtEnd()) {
      const char c = Peek();
      if (c == '"') {
        last_start = seq->size();
        FOUNDRY_RETURN_IF_ERROR(ParseLiteral(seq));
        has_last = last_start < seq->size();
      } else if (c == '[') {
        last_start = seq->size();
        FOUNDRY_RETURN_IF_ERROR(ParseClass(seq));
        has_last = true;
      } else if (c == '.') {
        ++pos_;
        last_start = seq->size();
        seq->push_back(builder_.CodePoints({{0, 0x10FFFF}}));
        has_last = true;
      } else if (c == '(') {
        ++pos_;
        SkipSpace(true);
        std::vector<GrammarBuilder::Sequence> inner;
        FOUNDRY_RETURN_IF_ERROR(ParseAlternatives(rule, depth + 1, &inner));
        if (Peek() != ')') return Error("expected ')'");
        ++pos_;
        last_start = seq->size();
        if (inner.size() == 1) {
          seq->insert(seq->end(), inner[0].begin(), inner[0].end());
        } else {
          const uint32_t group = builder_.NewAuxRule(rule);
          builder_.Define(group, std::move(inner));
          seq->push_back(GrammarBuilder::Ref(group));
        }
        has_last = last_start < seq->size();
      } else if (IsNameChar(c)) {
        const std::string name = ParseName();
        last_start = seq->size();
        seq->push_back(GrammarBuilder::Ref(builder_.RuleId(name)));
        has_last = true;
      } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        if (!has_last) return Error(std::string("'") + c + "' follows nothing it can repeat");
        ++pos_;
        int64_t min = 0, max = -1;
        if (c == '+') min = 1;
        if (c == '?') max = 1;
        if (c == '{') FOUNDRY_RETURN_IF_ERROR(ParseBraces(&min, &max));
        const GrammarBuilder::Sequence item(seq->begin() + static_cast<std::ptrdiff_t>(last_start),
                                            seq->end());
        seq->resize(last_start);
        seq->push_back(builder_.Repeat(item, min, max, rule));
        last_start = seq->size() - 1;
      } else {
        break;
      }
      SkipSpace(nested);
    }
    return OkStatus();
  }

  Status ParseBraces(int64_t* min, int64_t* max) {
    SkipSpace(false);
    auto number = [&](int64_t* out) {
      const size_t start = pos_;
      int64_t v = 0;
      while (!AtEnd() && Peek() >= '0' && Peek() <= '9') {
        v = v * 10 + (Peek() - '0');
        if (v > 100000) return false;
        ++pos_;
      }
      *out = v;
      return pos_ > start;
    };
    const bool has_min = number(min);
    if (!has_min) *min = 0;
    SkipSpace(false);
    if (!has_min && Peek() != ',') return Error("expected a count in {}");
    if (Peek() == '}') {
      if (!has_min) return Error("expected a count in {}");
      *max = *min;
    } else if (Peek() == ',') {
      ++pos_;
      SkipSpace(false);
      if (!number(max)) *max = -1;
    } else {
      return Error("expected ',' or '}' in repetition count");
    }
    SkipSpace(false);
    if (Peek() != '}') return Error("expected '}' after repetition count");
    ++pos_;
    if (*max >= 0 && *max < *min) return Error("repetition maximum is below its minimum");
    if (*min > 4096 || *max > 4096) return Error("repetition count above 4096");
    return OkStatus();
  }

  // One character of a literal or class, with escapes: its code point.
  Status ParseChar(uint32_t* cp) {
    if (AtEnd()) return Error("unexpected end of grammar");
    const unsigned char c = static_cast<unsigned char>(text_[pos_]);
    if (c == '\\') {
      ++pos_;
      if (AtEnd()) return Error("unfinished escape");
      const char e = text_[pos_++];
      int hex = 0;
      switch (e) {
        case 'n':
          *cp = '\n';
          return OkStatus();
        case 'r':
          *cp = '\r';
          return OkStatus();
        case 't':
          *cp = '\t';
          return OkStatus();
        case '\\':
        case '"':
        case '[':
        case ']':
        case '-':
        case '^':
          *cp = static_cast<unsigned char>(e);
          return OkStatus();
        case 'x':
          hex = 2;
          break;
        case 'u':
          hex = 4;
          break;
        case 'U':
          hex = 8;
          break;
        default:
          return Error(std::string("unknown escape '\\") + e + "'");
      }
      uint32_t v = 0;
      for (int i = 0; i < hex; ++i) {
        const char h = Peek();
        int d = (h >= '0' && h <= '9')   ? h - '0'
                : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                         : -1;
        if (d < 0) return Error("expected " + std::to_string(hex) + " hex digits in escape");
        v = v * 16 + static_cast<uint32_t>(d);
        ++pos_;
      }
      if (v > 0x10FFFF) return Error("code point above U+10FFFF");
      *cp = v;
      return OkStatus();
    }
    // A UTF-8 character of the grammar text itself.
    const int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || pos_ + len > text_.size()) return Error("invalid UTF-8 in grammar");
    uint32_t v = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int i = 1; i < len; ++i) {
      const unsigned char k = static_cast<unsigned char>(text_[pos_ + i]);
      if ((k & 0xC0) != 0x80) return Error("invalid UTF-8 in grammar");
      v = (v << 6) | (k & 0x3F);
    }
    pos_ += len;
    *cp = v;
    return OkStatus();
  }

  Status ParseLiteral(GrammarBuilder::Sequence* seq) {
    ++pos_;  // opening quote
    std::string bytes;
    while (true) {
      if (AtEnd() || Peek() == '\n') return Error("unterminated string literal");
      if (Peek() == '"') break;
      uint32_t cp = 0;
      FOUNDRY_RETURN_IF_ERROR(ParseChar(&cp));
      AppendUtf8(cp, &bytes);
    }
    ++pos_;
    builder_.AppendLiteral(bytes, seq);
    return OkStatus();
  }

  Status ParseClass(GrammarBuilder::Sequence* seq) {
    ++pos_;  // [
    bool negate = false;
    if (Peek() == '^') {
      negate = true;
      ++pos_;
    }
    std::vector<std::pair<uint32_t, uint32_t>> ranges;
    while (true) {
      if (AtEnd() || Peek() == '\n') return Error("unterminated character class");
      if (Peek() == ']') break;
      uint32_t lo = 0, hi = 0;
      FOUNDRY_RETURN_IF_ERROR(ParseChar(&lo));
      hi = lo;
      if (Peek() == '-' && pos_ + 1 < text_.size() && text_[pos_ + 1] != ']') {
        ++pos_;
        FOUNDRY_RETURN_IF_ERROR(ParseChar(&hi));
        if (hi < lo) return Error("character range is reversed");
      }
      ranges.push_back({lo, hi});
    }
    ++pos_;
    seq->push_back(builder_.CodePoints(NormalizeCodePointRanges(std::move(ranges), negate)));
    return OkStatus();
  }

  std::string_view text_;
  size_t pos_ = 0;
  GrammarBuilder builder_;
};

}  // namespace

StatusOr<Grammar> ParseGbnf(std::string_view text, std::string_view root) {
  return GbnfParser(text).Parse(root);
}

}  // namespace foundry
