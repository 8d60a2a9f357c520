#include "chat/jinja_lexer.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "chat/jinja_value.h"

namespace foundry::jinja {

std::string Where(int line, int col) {
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || IsDigit(c); }

class Lexer {
 public:
  explicit Lexer(std::string src) : src_(std::move(src)) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i) {
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  StatusOr<std::vector<Token>> Run() {
    size_t pos = 0;
    bool line_starting = true;
    int strip_next = 0;  // 1: drop one leading newline (trim_blocks), 2: drop all whitespace
    const size_t n = src_.size();
    while (pos <= n) {
      size_t p = FindTagStart(pos);
      std::string text = src_.substr(pos, p - pos);
      if (strip_next == 2) {
        size_t k = 0;
        while (k < text.size() && IsSpace(text[k])) ++k;
        text.erase(0, k);
      } else if (strip_next == 1 && !text.empty() && text[0] == '\n') {
        text.erase(0, 1);
      }
      strip_next = 0;
      if (p >= n) {
        Emit(TokenKind::kText, std::move(text), pos);
        break;
      }
      const char kind = src_[p + 1];
      const char marker = p + 2 < n ? src_[p + 2] : '\0';
      if (marker == '-') {
        size_t k = text.size();
        while (k > 0 && IsSpace(text[k - 1])) --k;
        text.resize(k);
      } else if (marker != '+' && kind != '{') {
        const size_t nl = text.rfind('\n');
        const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        if (l_pos > 0 || line_starting) {
          bool all_ws = true;
          for (size_t k = l_pos; k < text.size(); ++k) {
            if (!IsSpace(text[k])) all_ws = false;
          }
          if (all_ws) text.resize(l_pos);
        }
      }
      Emit(TokenKind::kText, std::move(text), pos);
      size_t q = p + 2;
      if (marker == '-' || marker == '+') ++q;
      if (kind == '#') {
        // Comment: up to the first "#}".
        const size_t e = src_.find("#}", q);
        if (e == std::string::npos) return Error(p, "unterminated comment");
        const bool minus = e > q && src_[e - 1] == '-';
        const bool plus = e > q && src_[e - 1] == '+';
        pos = e + 2;
        strip_next = minus ? 2 : (plus ? 0 : 1);
      } else if (kind == '%' && IsRawStart(q)) {
        FOUNDRY_ASSIGN_OR_RETURN(pos, LexRaw(p, q, strip_next));
      } else {
        const bool var = kind == '{';
        Emit(var ? TokenKind::kVarBegin : TokenKind::kBlockBegin, "", p);
        FOUNDRY_ASSIGN_OR_RETURN(size_t end, LexTag(q, var, p, strip_next));
        pos = end;
      }
      line_starting = pos > 0 && src_[pos - 1] == '\n';
      if (strip_next == 2) {
        // jinja2's "-%}\s*" consumes the whitespace; the next line starts if it ended a line.
        size_t k = pos;
        while (k < n && IsSpace(src_[k])) ++k;
        line_starting = k > pos ? src_[k - 1] == '\n' : line_starting;
        pos = k;
        strip_next = 0;
      } else if (strip_next == 1) {
        if (pos < n && src_[pos] == '\n') {
          ++pos;
          line_starting = true;
        }
        strip_next = 0;
      }
    }
    Emit(TokenKind::kEof, "", n);
    return std::move(tokens_);
  }

 private:
  size_t FindTagStart(size_t from) const {
    size_t p = from;
    while (true) {
      p = src_.find('{', p);
      if (p == std::string::npos || p + 1 >= src_.size()) return src_.size();
      const char c = src_[p + 1];
      if (c == '{' || c == '%' || c == '#') return p;
      ++p;
    }
  }

  void Position(size_t off, int& line, int& col) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), off);
    const size_t idx = static_cast<size_t>(it - line_starts_.begin()) - 1;
    line = static_cast<int>(idx) + 1;
    col = static_cast<int>(off - line_starts_[idx]) + 1;
  }

  Status Error(size_t off, const std::string& what) const {
    int line, col;
    Position(off, line, col);
    return InvalidArgument("chat template syntax error at " + Where(line, col) + ": " + what);
  }

  void Emit(TokenKind kind, std::string text, size_t off) {
    if (kind == TokenKind::kText && text.empty()) return;
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    Position(std::min(off, src_.size()), t.line, t.col);
    tokens_.push_back(std::move(t));
  }

  // "{% raw %}" (q: just after "{%" and its marker).
  bool IsRawStart(size_t q) const {
    size_t k = q;
    while (k < src_.size() && IsSpace(src_[k])) ++k;
    if (src_.compare(k, 3, "raw") != 0) return false;
    k += 3;
    if (k < src_.size() && IsNameChar(src_[k])) return false;
    while (k < src_.size() && IsSpace(src_[k])) ++k;
    if (k < src_.size() && (src_[k] == '-' || src_[k] == '+')) ++k;
    return src_.compare(k, 2, "%}") == 0;
  }

  StatusOr<size_t> LexRaw(size_t p, size_t q, int& strip_next) {
    size_t k = src_.find("%}", q);
    const bool open_minus = src_[k - 1] == '-';
    size_t body = k + 2;
    // Find "{%[-+]? endraw [-+]?%}".
    size_t s = body;
    while (true) {
      s = src_.find("{%", s);
      if (s == std::string::npos) return Error(p, "missing endraw for raw block");
      size_t t = s + 2;
      const bool close_minus = t < src_.size() && src_[t] == '-';
      if (t < src_.size() && (src_[t] == '-' || src_[t] == '+')) ++t;
      while (t < src_.size() && IsSpace(src_[t])) ++t;
      if (src_.compare(t, 6, "endraw") == 0) {
        t += 6;
        while (t < src_.size() && IsSpace(src_[t])) ++t;
        bool end_minus = false, end_plus = false;
        if (t < src_.size() && src_[t] == '-') end_minus = true;
        if (t < src_.size() && src_[t] == '+') end_plus = true;
        if (end_minus || end_plus) ++t;
        if (src_.compare(t, 2, "%}") == 0) {
          std::string text = src_.substr(body, s - body);
          if (open_minus) {
            size_t a = 0;
            while (a < text.size() && IsSpace(text[a])) ++a;
            text.erase(0, a);
          } else if (!text.empty() && text[0] == '\n') {
            text.erase(0, 1);
          }
          if (close_minus) {
            size_t b = text.size();
            while (b > 0 && IsSpace(text[b - 1])) --b;
            text.resize(b);
          } else {
            const size_t nl = text.rfind('\n');
            const size_t l_pos = nl == std::string::npos ? text.size() : nl + 1;
            bool all_ws = nl != std::string::npos;
            for (size_t a = l_pos; a < text.size(); ++a) {
              if (!IsSpace(text[a])) all_ws = false;
            }
            if (all_ws) text.resize(l_pos);
          }
          Emit(TokenKind::kText, std::move(text), body);
          strip_next = end_minus ? 2 : (end_plus ? 0 : 1);
          return t + 2;
        }
      }
      s += 2;
    }
  }

  // Tokens of one tag starting at q; returns the offset after its end delimiter.
  StatusOr<size_t> LexTag(size_t q, bool var, size_t tag_start, int& strip_next) {
    const size_t n = src_.size();
    std::vector<char> stack;
    size_t i = q;
    const char close = var ? '}' : '%';
    while (true) {
      while (i < n && IsSpace(src_[i])) ++i;
      if (i >= n)
        return Error(tag_start, var ? "unexpected end of template, expected '}}'"
                                    : "unexpected end of template, expected '%}'");
      if (stack.empty()) {
        // End delimiter, optionally with a whitespace marker.
        size_t k = i;
        int marker = 0;
        if (src_[k] == '-' || (src_[k] == '+' && !var)) {
          marker = src_[k] == '-' ? 2 : 3;
          ++k;
        }
        if (k + 1 < n && src_[k] == close && src_[k + 1] == '}') {
          Emit(var ? TokenKind::kVarEnd : TokenKind::kBlockEnd, "", i);
          if (marker == 2) {
            strip_next = 2;
          } else if (marker == 3 || var) {
            strip_next = 0;
          } else {
            strip_next = 1;
          }
          return k + 2;
        }
      }
      const char c = src_[i];
      const size_t start = i;
      if (IsNameStart(c)) {
        while (i < n && IsNameChar(src_[i])) ++i;
        Emit(TokenKind::kName, src_.substr(start, i - start), start);
        continue;
      }
      if (IsDigit(c)) {
        FOUNDRY_RETURN_IF_ERROR(LexNumber(i));
        continue;
      }
      if (c == '\'' || c == '"') {
        FOUNDRY_RETURN_IF_ERROR(LexString(i));
        continue;
      }
      static const char* const kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*",
                                         "/",  "%",  "~",  "<",  ">",  "=",  ".", ",", ":",
                                         "|",  "(",  ")",  "[",  "]",  "{",  "}"};
      std::string op;
      for (const char* o : kOps) {
        if (src_.compare(i, std::char_traits<char>::length(o), o) == 0) {
          op = o;
          break;
        }
      }
      if (op.empty()) {
        return Error(
            i, std::string("unexpected character '") +
                   (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f
                        ? std::string(1, c)
                        : "\\x" + Hex(static_cast<unsigned char>(c))) +
                   "'");
      }
      if (op == "(" || op == "[" || op == "{") {
        if (stack.size() >= 256) return Error(i, "brackets nested too deeply");
        stack.push_back(op[0]);
      } else if (op == ")" || op == "]" || op == "}") {
        const char want = op == ")" ? '(' : (op == "]" ? '[' : '{');
        if (stack.empty() || stack.back() != want) return Error(i, "unexpected '" + op + "'");
        stack.pop_back();
      }
      i += op.size();
      Emit(TokenKind::kOp, op, start);
    }
  }

  static std::string Hex(unsigned v) {
    const char* d = "0123456789abcdef";
    return std::string{d[v >> 4], d[v & 15]};
  }

  Status LexNumber(size_t& i) {
    const size_t start = i;
    const size_t n = src_.size();
    auto digits = [&] {
      while (i < n && (IsDigit(src_[i]) || (src_[i] == '_' && i + 1 < n && IsDigit(src_[i + 1]))))
        ++i;
    };
    digits();
    bool is_float = false;
    const bool after_dot =
        !tokens_.empty() && tokens_.back().kind == TokenKind::kOp && tokens_.back().text == ".";
    if (!after_dot && i + 1 < n && src_[i] == '.' && IsDigit(src_[i + 1])) {
      is_float = true;
      ++i;
      digits();
    }
    if (!after_dot && i < n && (src_[i] == 'e' || src_[i] == 'E')) {
      size_t k = i + 1;
      if (k < n && (src_[k] == '+' || src_[k] == '-')) ++k;
      if (k < n && IsDigit(src_[k])) {
        is_float = true;
        i = k;
        digits();
      }
    }
    std::string text;
    for (size_t k = start; k < i; ++k) {
      if (src_[k] != '_') text += src_[k];
    }
    Token t;
    Position(start, t.line, t.col);
    t.text = text;
    if (is_float) {
      t.kind = TokenKind::kFloat;
      t.float_value = std::strtod(text.c_str(), nullptr);
    } else {
      t.kind = TokenKind::kInt;
      errno = 0;
      t.int_value = std::strtoll(text.c_str(), nullptr, 10);
      if (errno == ERANGE) return Error(start, "integer literal too large");
    }
    tokens_.push_back(std::move(t));
    return OkStatus();
  }

  Status LexString(size_t& i) {
    const size_t start = i;
    const char q = src_[i++];
    const size_t n = src_.size();
    std::string out;
    while (true) {
      if (i >= n) return Error(start, "unterminated string");
      char c = src_[i];
      if (c == q) {
        ++i;
        break;
      }
      if (c != '\\') {
        out += c;
        ++i;
        continue;
      }
      if (i + 1 >= n) return Error(start, "unterminated string");
      c = src_[i + 1];
      i += 2;
      switch (c) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case '\\':
          out += '\\';
          break;
        case '\'':
          out += '\'';
          break;
        case '"':
          out += '"';
          break;
        case 'a':
          out += '\a';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'v':
          out += '\v';
          break;
        case '\n':
          break;
        case 'x':
        case 'u':
        case 'U': {
          const int len = c == 'x' ? 2 : (c == 'u' ? 4 : 8);
          uint32_t cp = 0;
          for (int k = 0; k < len; ++k) {
            if (i >= n || !std::isxdigit(static_cast<unsigned char>(src_[i]))) {
              return Error(i, "truncated \\" + std::string(1, c) + " escape");
            }
            const char h = src_[i++];
            cp = cp * 16 +
                 static_cast<uint32_t>(IsDigit(h) ? h - '0' : (std::tolower(h) - 'a' + 10));
          }
          if (cp > 0x10FFFF) return Error(i, "illegal Unicode character");
          out += EncodeUtf8({cp}, 0, 1);
          break;
        }
        default:
          if (c >= '0' && c <= '7') {
            uint32_t cp = static_cast<uint32_t>(c - '0');
            for (int k = 0; k < 2 && i < n && src_[i] >= '0' && src_[i] <= '7'; ++k) {
              cp = cp * 8 + static_cast<uint32_t>(src_[i++] - '0');
            }
            out += EncodeUtf8({cp}, 0, 1);
          } else {
            out += '\\';
            out += c;
          }
      }
    }
    Token t;
    t.kind = TokenKind::kString;
    t.text = std::move(out);
    Position(start, t.line, t.col);
    tokens_.push_back(std::move(t));
    return OkStatus();
  }

  std::string src_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
};

}  // namespace

StatusOr<std::vector<Token>> Lex(std::string_view source) {
  // jinja2 normalizes newlines and drops a single trailing newline (keep_trailing_newline=False).
  std::string src;
  src.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      src += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      src += source[i];
    }
  }
  if (!src.empty() && src.back() == '\n') src.pop_back();
  return Lexer(std::move(src)).Run();
}

}  // namespace foundry::jinja
