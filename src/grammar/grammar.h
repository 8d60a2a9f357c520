// A context-free grammar over bytes, the form the matcher runs (grammar_matcher.h).
//
// Every rule is a list of alternatives; an alternative is a sequence of elements, each either a
// set of bytes (one input byte) or a reference to a rule. Character classes and literals of the
// source grammar (GBNF, gbnf_parser.h) are lowered to UTF-8 byte sequences when the grammar is
// built, so the matcher sees bytes only: a token that ends inside a multi-byte character simply
// leaves the matcher inside that character's byte sequence.
//
// Built grammars are flat (llama.cpp's layout): `elements` holds every rule's alternatives, each
// alternative ends with kAlt (another follows) or kEnd (the rule's last); `rule_start[r]` is the
// first element of rule r. Positions into `elements` are what the matcher's stacks hold.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace foundry {

// 256 bits: which bytes an element accepts.
struct ByteSet {
  std::array<uint64_t, 4> bits{};
  bool Has(uint8_t b) const { return (bits[b >> 6] >> (b & 63)) & 1; }
  void Add(uint8_t b) { bits[b >> 6] |= uint64_t{1} << (b & 63); }
  void AddRange(uint8_t lo, uint8_t hi) {
    for (int b = lo; b <= hi; ++b) Add(static_cast<uint8_t>(b));
  }
  bool operator==(const ByteSet&) const = default;
};

enum class ElementKind : uint8_t {
  kBytes,  // value: index into Grammar::byte_sets
  kRule,   // value: rule id
  kAlt,    // end of an alternative, another follows
  kEnd,    // end of the rule's last alternative
};

struct GrammarElement {
  ElementKind kind;
  uint32_t value;
};

struct Grammar {
  std::vector<GrammarElement> elements;
  std::vector<uint32_t> rule_start;  // per rule id
  std::vector<std::string> rule_names;
  std::vector<ByteSet> byte_sets;
  uint32_t root = 0;
};

// Builds a Grammar rule by rule. Rules may be referenced before they are defined; Build checks
// that every referenced rule was defined, and rejects left recursion (a rule reaching itself
// before any byte is read), which the matcher's stack expansion could not terminate on.
class GrammarBuilder {
 public:
  using Sequence = std::vector<GrammarElement>;

  // The id of the rule with this name, declaring it when new.
  uint32_t RuleId(const std::string& name);
  // A fresh rule named after `base` (base_1, base_2, ...), for repetitions and classes.
  uint32_t NewAuxRule(const std::string& base);
  bool IsDefined(uint32_t rule) const { return defined_[rule]; }
  void Define(uint32_t rule, std::vector<Sequence> alternatives);

  GrammarElement Bytes(const ByteSet& set);  // interned
  static GrammarElement Ref(uint32_t rule) { return {ElementKind::kRule, rule}; }
  // Appends the UTF-8 bytes of `text` as single-byte elements.
  void AppendLiteral(std::string_view text, Sequence* seq);
  // An element matching one code point in any of the inclusive ranges (already merged and
  // without surrogates): one byte set when all are ASCII, else a rule of UTF-8 byte sequences.
  GrammarElement CodePoints(const std::vector<std::pair<uint32_t, uint32_t>>& ranges);
  // `item` repeated between min and max times (max < 0: unbounded) as one element.
  GrammarElement Repeat(const Sequence& item, int64_t min, int64_t max, const std::string& base);

  StatusOr<Grammar> Build(const std::string& root_name);

 private:
  Status CheckLeftRecursion() const;

  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t> ids_;
  std::vector<std::vector<Sequence>> rules_;
  std::vector<bool> defined_;
  std::vector<ByteSet> sets_;
  size_t total_elements_ = 0;  // over all definitions, to refuse grammars that explode
};

}  // namespace foundry
