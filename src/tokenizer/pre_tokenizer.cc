#include "tokenizer/pre_tokenizer.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "tokenizer/unicode.h"

namespace foundry {
namespace {

// The text as code points with their class flags. off[i] is the byte offset of code point i;
// off[n] is the text size.
struct CodepointText {
  std::vector<uint32_t> cp;
  std::vector<uint16_t> fl;
  std::vector<uint32_t> off;
  std::vector<uint32_t> ws_end;  // end of the whitespace run starting at i (i if none)
};

void Decode(std::string_view text, CodepointText* t) {
  t->cp.clear();
  t->fl.clear();
  t->off.clear();
  t->cp.reserve(text.size());
  t->fl.reserve(text.size());
  t->off.reserve(text.size() + 1);
  for (size_t pos = 0; pos < text.size();) {
    uint32_t cp = 0;
    const size_t len = DecodeUtf8(text, pos, &cp);
    t->cp.push_back(cp);
    t->fl.push_back(GetCodepointFlags(cp));
    t->off.push_back(static_cast<uint32_t>(pos));
    pos += len;
  }
  t->off.push_back(static_cast<uint32_t>(text.size()));
  const size_t n = t->cp.size();
  t->ws_end.assign(n, 0);
  for (size_t i = n; i-- > 0;) {
    const bool ws = (t->fl[i] & kCpWhitespace) != 0;
    t->ws_end[i] = static_cast<uint32_t>(ws ? (i + 1 < n ? t->ws_end[i + 1] : n) : i);
  }
}

// A matcher for one regex: returns the end of the match that starts at `pos` within the
// segment [.., end), or `pos` when the regex does not match there (no regex here matches the
// empty string).
using Rule = size_t (*)(const CodepointText& t, size_t end, size_t pos);

constexpr uint16_t kL = kCpLetter;
constexpr uint16_t kN = kCpNumber;
constexpr uint16_t kWs = kCpWhitespace;

inline bool Has(const CodepointText& t, size_t i, uint16_t mask) { return (t.fl[i] & mask) != 0; }
// [^\s\p{L}\p{N}]
inline bool IsOther(const CodepointText& t, size_t i) { return (t.fl[i] & (kL | kN | kWs)) == 0; }
inline bool IsCrLf(uint32_t c) { return c == '\r' || c == '\n'; }

template <typename Pred>
size_t RunWhile(size_t i, size_t end, Pred pred) {
  while (i < end && pred(i)) ++i;
  return i;
}
size_t RunFlags(const CodepointText& t, size_t i, size_t end, uint16_t mask) {
  return RunWhile(i, end, [&](size_t k) { return Has(t, k, mask); });
}

// 's|'t|'re|'ve|'m|'ll|'d, optionally ASCII case-insensitive. Returns pos when absent.
size_t Contraction(const CodepointText& t, size_t end, size_t pos, bool fold) {
  if (pos + 1 >= end || t.cp[pos] != '\'') return pos;
  auto lower = [&](size_t i) {
    const uint32_t c = t.cp[i];
    return (fold && c >= 'A' && c <= 'Z') ? c + 32 : c;
  };
  const uint32_t c1 = lower(pos + 1);
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return pos + 2;
  if (pos + 2 >= end) return pos;
  const uint32_t c2 = lower(pos + 2);
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
    return pos + 3;
  }
  return pos;
}

// \s*[\r\n]+|\s+(?!\S)|\s+ at a whitespace position; `crlf_first` enables the first branch.
size_t WhitespaceTail(const CodepointText& t, size_t end, size_t pos, bool crlf_first) {
  const size_t k = RunFlags(t, pos, end, kWs);
  if (crlf_first) {
    // \s* backtracks to the last \r or \n of the run; [\r\n]+ then takes just that one.
    for (size_t p = k; p > pos; --p) {
      if (IsCrLf(t.cp[p - 1])) return p;
    }
  }
  if (k == end) return k;         // \s+(?!\S) at the end of the segment
  if (k - 1 > pos) return k - 1;  // leave the last space to prefix the next word
  return k;                       // \s+
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
size_t Gpt2Rule(const CodepointText& t, size_t end, size_t pos) {
  if (size_t e = Contraction(t, end, pos, /*fold=*/false); e > pos) return e;
  const size_t j = pos + (t.cp[pos] == ' ' ? 1 : 0);
  if (j < end) {
    if (Has(t, j, kL)) return RunFlags(t, j, end, kL);
    if (Has(t, j, kN)) return RunFlags(t, j, end, kN);
    if (IsOther(t, j)) return RunWhile(j, end, [&](size_t k) { return IsOther(t, k); });
  }
  if (Has(t, pos, kWs)) return WhitespaceTail(t, end, pos, /*crlf_first=*/false);
  return pos;
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,N}|
//  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+        (Llama 3: N=3, Qwen2: N=1)
template <size_t kMaxDigits>
size_t Llama3Rule(const CodepointText& t, size_t end, size_t pos) {
  if (size_t e = Contraction(t, end, pos, /*fold=*/true); e > pos) return e;
  const uint32_t c = t.cp[pos];
  if (!IsCrLf(c) && !Has(t, pos, kL | kN) && pos + 1 < end && Has(t, pos + 1, kL)) {
    return RunFlags(t, pos + 1, end, kL);
  }
  if (Has(t, pos, kL)) return RunFlags(t, pos, end, kL);
  if (Has(t, pos, kN)) {
    const size_t e = RunFlags(t, pos, end, kN);
    return e - pos > kMaxDigits ? pos + kMaxDigits : e;
  }
  const size_t j = pos + (c == ' ' ? 1 : 0);
  if (j < end && IsOther(t, j)) {
    const size_t k = RunWhile(j, end, [&](size_t i) { return IsOther(t, i); });
    return RunWhile(k, end, [&](size_t i) { return IsCrLf(t.cp[i]); });
  }
  if (Has(t, pos, kWs)) return WhitespaceTail(t, end, pos, /*crlf_first=*/true);
  return pos;
}

// GPT-4o / o200k:
// [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|...)?|
// [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|...)?|
// \p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
size_t Gpt4oRule(const CodepointText& t, size_t end, size_t pos) {
  constexpr uint16_t kUpperish = kCpUpper | kCpTitle | kCpModifier | kCpOtherLetter | kCpMark;
  constexpr uint16_t kLowerish = kCpLower | kCpModifier | kCpOtherLetter | kCpMark;
  const auto with_contraction = [&](size_t e) {
    const size_t c = Contraction(t, end, e, /*fold=*/true);
    return c > e ? c : e;
  };
  // U* W+ starting at a; returns a when it does not match.
  const auto upper_star_lower_plus = [&](size_t a) -> size_t {
    const size_t r = RunFlags(t, a, end, kUpperish);
    if (r < end && Has(t, r, kLowerish)) return RunFlags(t, r, end, kLowerish);
    for (size_t p = r; p > a; --p) {  // U* gives back characters until one is also in W
      if (Has(t, p - 1, kLowerish)) return p;
    }
    return a;
  };
  // U+ W* starting at a; returns a when it does not match.
  const auto upper_plus_lower_star = [&](size_t a) -> size_t {
    const size_t r = RunFlags(t, a, end, kUpperish);
    if (r == a) return a;
    return RunFlags(t, r, end, kLowerish);
  };
  const uint32_t c = t.cp[pos];
  const bool prefix = !IsCrLf(c) && !Has(t, pos, kL | kN);
  for (auto branch : {+0, +1}) {
    if (prefix && pos + 1 < end) {
      const size_t e =
          branch == 0 ? upper_star_lower_plus(pos + 1) : upper_plus_lower_star(pos + 1);
      if (e > pos + 1) return with_contraction(e);
    }
    const size_t e = branch == 0 ? upper_star_lower_plus(pos) : upper_plus_lower_star(pos);
    if (e > pos) return with_contraction(e);
  }
  if (Has(t, pos, kN)) {
    const size_t e = RunFlags(t, pos, end, kN);
    return e - pos > 3 ? pos + 3 : e;
  }
  const size_t j = pos + (c == ' ' ? 1 : 0);
  if (j < end && IsOther(t, j)) {
    const size_t k = RunWhile(j, end, [&](size_t i) { return IsOther(t, i); });
    return RunWhile(k, end, [&](size_t i) { return IsCrLf(t.cp[i]) || t.cp[i] == '/'; });
  }
  if (Has(t, pos, kWs)) return WhitespaceTail(t, end, pos, /*crlf_first=*/true);
  return pos;
}

// \p{N}
size_t DigitRule(const CodepointText& t, size_t, size_t pos) {
  return Has(t, pos, kN) ? pos + 1 : pos;
}
// \p{N}+
size_t DigitsRule(const CodepointText& t, size_t end, size_t pos) {
  return RunFlags(t, pos, end, kN);
}
// [0-9][0-9][0-9]
size_t ThreeAsciiDigitsRule(const CodepointText& t, size_t end, size_t pos) {
  const auto d = [&](size_t i) { return i < end && t.cp[i] >= '0' && t.cp[i] <= '9'; };
  return d(pos) && d(pos + 1) && d(pos + 2) ? pos + 3 : pos;
}
// [\p{P}\$\+<=>\^~\|`]+ (falcon) and [\p{P}\$\+<=>\^~\|]+ (default)
template <bool kBacktick>
size_t PunctRunRule(const CodepointText& t, size_t end, size_t pos) {
  return RunWhile(pos, end, [&](size_t i) {
    const uint32_t c = t.cp[i];
    return Has(t, i, kCpPunct) || c == '$' || c == '+' || c == '<' || c == '=' || c == '>' ||
           c == '^' || c == '~' || c == '|' || (kBacktick && c == '`');
  });
}
// [\r\n]
size_t CrLfRule(const CodepointText& t, size_t, size_t pos) {
  return IsCrLf(t.cp[pos]) ? pos + 1 : pos;
}
// \s?X+
template <typename Pred>
size_t OptWhitespaceRun(const CodepointText& t, size_t end, size_t pos, Pred in_class) {
  if (Has(t, pos, kWs) && pos + 1 < end && in_class(pos + 1)) {
    return RunWhile(pos + 1, end, in_class);
  }
  return RunWhile(pos, end, in_class);
}
// \s?\p{L}+ and \s?\p{P}+ (deepseek-coder)
size_t WsLettersRule(const CodepointText& t, size_t end, size_t pos) {
  return OptWhitespaceRun(t, end, pos, [&](size_t i) { return Has(t, i, kL); });
}
size_t WsPunctRule(const CodepointText& t, size_t end, size_t pos) {
  return OptWhitespaceRun(t, end, pos, [&](size_t i) { return Has(t, i, kCpPunct); });
}
// [一-龥ࠀ-一가-퟿]+
size_t CjkRule(const CodepointText& t, size_t end, size_t pos) {
  return RunWhile(pos, end, [&](size_t i) {
    const uint32_t c = t.cp[i];
    return (c >= 0x4E00 && c <= 0x9FA5) || (c >= 0x0800 && c <= 0x4E00) ||
           (c >= 0xAC00 && c <= 0xD7FF);
  });
}

bool InRanges(uint32_t c, const uint32_t (*ranges)[2], size_t n) {
  size_t lo = 0, hi = n;  // first range whose end >= c
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (ranges[mid][1] < c) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo < n && ranges[lo][0] <= c;
}

// The letter class of deepseek-llm's second regex, sorted.
constexpr uint32_t kDeepseekLetters[][2] = {
    {0x41, 0x5A},       {0x61, 0x7A},       {0xB5, 0xB5},       {0xC0, 0xD6},
    {0xD8, 0xF6},       {0xF8, 0x1BA},      {0x1BC, 0x1BF},     {0x1C4, 0x293},
    {0x295, 0x2AF},     {0x370, 0x373},     {0x376, 0x377},     {0x37B, 0x37D},
    {0x37F, 0x37F},     {0x386, 0x386},     {0x388, 0x38A},     {0x38C, 0x38C},
    {0x38E, 0x3A1},     {0x3A3, 0x3F5},     {0x3F7, 0x481},     {0x48A, 0x52F},
    {0x531, 0x556},     {0x10A0, 0x10C5},   {0x13A0, 0x13F5},   {0x13F8, 0x13FD},
    {0x1C90, 0x1CBA},   {0x1CBD, 0x1CBF},   {0x1D00, 0x1D2B},   {0x1D6B, 0x1D77},
    {0x1D79, 0x1D9A},   {0x1E00, 0x1F15},   {0x1F18, 0x1F1D},   {0x1F20, 0x1F45},
    {0x1F48, 0x1F4D},   {0x1F50, 0x1F57},   {0x1F59, 0x1F59},   {0x1F5B, 0x1F5B},
    {0x1F5D, 0x1F5D},   {0x1F5F, 0x1F7D},   {0x1F80, 0x1FB4},   {0x1FB6, 0x1FBC},
    {0x1FBE, 0x1FBE},   {0x1FC2, 0x1FC4},   {0x1FC6, 0x1FCC},   {0x1FD0, 0x1FD3},
    {0x1FD6, 0x1FDB},   {0x1FE0, 0x1FEC},   {0x1FF2, 0x1FF4},   {0x1FF6, 0x1FFC},
    {0x2102, 0x2102},   {0x2107, 0x2107},   {0x210A, 0x2113},   {0x2115, 0x2115},
    {0x2119, 0x211D},   {0x2124, 0x2124},   {0x2126, 0x2126},   {0x2128, 0x2128},
    {0x212A, 0x212D},   {0x212F, 0x2134},   {0x2139, 0x2139},   {0x213C, 0x213F},
    {0x2145, 0x2149},   {0x214E, 0x214E},   {0x2183, 0x2184},   {0x2C00, 0x2C7B},
    {0x2C7E, 0x2CE4},   {0x2CEB, 0x2CEE},   {0x2CF2, 0x2CF3},   {0xA640, 0xA66D},
    {0xA680, 0xA69B},   {0xA722, 0xA76F},   {0xA771, 0xA787},   {0xA78B, 0xA78E},
    {0xAB70, 0xABBF},   {0xFB00, 0xFB06},   {0xFB13, 0xFB17},   {0xFF21, 0xFF3A},
    {0xFF41, 0xFF5A},   {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};
// [!-/:-~！-／：-～‘-‟　-。], sorted.
constexpr uint32_t kDeepseekPunct[][2] = {
    {0x21, 0x2F},     {0x3A, 0x7E},     {0x2018, 0x201F},
    {0x3000, 0x3002}, {0xFF01, 0xFF0F}, {0xFF1A, 0xFF5E},
};

size_t DeepseekLettersRule(const CodepointText& t, size_t end, size_t pos) {
  return OptWhitespaceRun(t, end, pos, [&](size_t i) {
    return InRanges(t.cp[i], kDeepseekLetters, std::size(kDeepseekLetters));
  });
}
size_t DeepseekPunctRule(const CodepointText& t, size_t end, size_t pos) {
  return OptWhitespaceRun(t, end, pos, [&](size_t i) {
    return InRanges(t.cp[i], kDeepseekPunct, std::size(kDeepseekPunct));
  });
}
// \s+$ (O(1) per position, so long runs of spaces stay linear)
size_t TrailingWhitespaceRule(const CodepointText& t, size_t end, size_t pos) {
  const size_t k = std::min<size_t>(t.ws_end[pos], end);
  return k > pos && k == end ? k : pos;
}

struct RuleList {
  const Rule* rules;
  size_t count;
};

RuleList RulesFor(PreTokenizerKind kind) {
  static constexpr Rule kGpt2[] = {Gpt2Rule};
  static constexpr Rule kStarcoder[] = {DigitRule, Gpt2Rule};
  static constexpr Rule kLlama3[] = {Llama3Rule<3>};
  static constexpr Rule kQwen2[] = {Llama3Rule<1>};
  static constexpr Rule kGpt4o[] = {Gpt4oRule};
  static constexpr Rule kFalcon[] = {PunctRunRule<true>, Gpt2Rule, ThreeAsciiDigitsRule};
  static constexpr Rule kDeepseekCoder[] = {CrLfRule, WsLettersRule, WsPunctRule, CjkRule,
                                            DigitRule};
  static constexpr Rule kDeepseekLlm[] = {CrLfRule,          DeepseekLettersRule,
                                          DeepseekPunctRule, TrailingWhitespaceRule,
                                          CjkRule,           DigitsRule};
  static constexpr Rule kDefault[] = {PunctRunRule<false>, Gpt2Rule, DigitsRule,
                                      ThreeAsciiDigitsRule};
  switch (kind) {
    case PreTokenizerKind::kGpt2:
      return {kGpt2, std::size(kGpt2)};
    case PreTokenizerKind::kStarcoder:
      return {kStarcoder, std::size(kStarcoder)};
    case PreTokenizerKind::kLlama3:
      return {kLlama3, std::size(kLlama3)};
    case PreTokenizerKind::kQwen2:
      return {kQwen2, std::size(kQwen2)};
    case PreTokenizerKind::kGpt4o:
      return {kGpt4o, std::size(kGpt4o)};
    case PreTokenizerKind::kFalcon:
      return {kFalcon, std::size(kFalcon)};
    case PreTokenizerKind::kDeepseekCoder:
      return {kDeepseekCoder, std::size(kDeepseekCoder)};
    case PreTokenizerKind::kDeepseekLlm:
      return {kDeepseekLlm, std::size(kDeepseekLlm)};
    case PreTokenizerKind::kDefault:
      break;
  }
  return {kDefault, std::size(kDefault)};
}

}  // namespace

PreTokenizerConfig LookupPreTokenizer(std::string_view name) {
  PreTokenizerConfig c;
  c.known = true;
  const auto is = [&](std::initializer_list<std::string_view> names) {
    for (std::string_view n : names) {
      if (name == n) return true;
    }
    return false;
  };
  if (is({"default"})) {
    c.kind = PreTokenizerKind::kDefault;
  } else if (is({"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0",
                 "lfm2"})) {
    c.kind = PreTokenizerKind::kLlama3;
    c.ignore_merges = true;
    c.add_bos = true;
  } else if (is({"dbrx", "smaug-bpe"})) {
    c.kind = PreTokenizerKind::kLlama3;
  } else if (is({"deepseek-llm"})) {
    c.kind = PreTokenizerKind::kDeepseekLlm;
    c.clean_spaces = false;
  } else if (is({"deepseek-coder"})) {
    c.kind = PreTokenizerKind::kDeepseekCoder;
    c.clean_spaces = false;
  } else if (is({"falcon"})) {
    c.kind = PreTokenizerKind::kFalcon;
  } else if (is({"gpt2", "gpt-2", "mpt", "olmo", "jais", "phi-2", "jina-es", "jina-de", "gigachat",
                 "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum", "exaone4", "trillion"})) {
    c.kind = PreTokenizerKind::kGpt2;
    if (name == "trillion") c.clean_spaces = false;
  } else if (is({"starcoder", "refact", "codeshell", "minerva-7b", "exaone"})) {
    c.kind = PreTokenizerKind::kStarcoder;
  } else if (is({"smollm", "command-r"})) {
    c.kind = PreTokenizerKind::kStarcoder;
    c.clean_spaces = false;
  } else if (is({"qwen2", "deepseek-r1-qwen", "kormo", "hunyuan"})) {
    c.kind = PreTokenizerKind::kQwen2;
    c.clean_spaces = false;
  } else if (is({"stablelm2", "megrez"})) {
    c.kind = PreTokenizerKind::kQwen2;
  } else if (is({"gpt-4o", "llama4", "minimax-m2"})) {
    c.kind = PreTokenizerKind::kGpt4o;
    c.clean_spaces = false;
  } else {
    c.kind = PreTokenizerKind::kDefault;
    c.known = name.empty();  // absent: llama.cpp's default, silently
  }
  return c;
}

void PreTokenizer::Split(std::string_view text, std::vector<std::string_view>* words) const {
  if (text.empty()) return;
  CodepointText t;
  Decode(text, &t);
  // Segments as code point ranges. Each regex splits every segment further into its matches
  // and the text between them (Hugging Face "Isolated" behaviour, as in llama.cpp).
  std::vector<std::pair<size_t, size_t>> segs = {{0, t.cp.size()}};
  std::vector<std::pair<size_t, size_t>> next;
  const RuleList rules = RulesFor(kind_);
  for (size_t r = 0; r < rules.count; ++r) {
    const Rule rule = rules.rules[r];
    next.clear();
    for (const auto& [begin, end] : segs) {
      size_t gap = begin;
      for (size_t pos = begin; pos < end;) {
        const size_t e = rule(t, end, pos);
        if (e > pos) {
          if (gap < pos) next.emplace_back(gap, pos);
          next.emplace_back(pos, e);
          pos = gap = e;
        } else {
          ++pos;
        }
      }
      if (gap < end) next.emplace_back(gap, end);
    }
    segs.swap(next);
  }
  for (const auto& [begin, end] : segs) {
    words->push_back(text.substr(t.off[begin], t.off[end] - t.off[begin]));
  }
}

}  // namespace foundry
