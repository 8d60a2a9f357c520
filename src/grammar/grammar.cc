#include "grammar/grammar.h"

#include <algorithm>

#include "grammar/utf8_sequences.h"

namespace foundry {
namespace {

// Repetition counts above this would build grammars of millions of elements.
constexpr int64_t kMaxRepetition = 4096;
// Nested repetitions multiply; a grammar past this many elements is refused.
constexpr size_t kMaxElements = size_t{1} << 21;

}  // namespace

uint32_t GrammarBuilder::RuleId(const std::string& name) {
  const auto it = ids_.find(name);
  if (it != ids_.end()) return it->second;
  ids_.emplace(name, static_cast<uint32_t>(names_.size()));
  names_.push_back(name);
  rules_.emplace_back();
  defined_.push_back(false);
  return static_cast<uint32_t>(names_.size() - 1);
}

uint32_t GrammarBuilder::NewAuxRule(const std::string& base) {
  // '#' cannot occur in a GBNF rule name, so aux names never collide with the source's.
  names_.push_back(base + "#" + std::to_string(names_.size()));
  rules_.emplace_back();
  defined_.push_back(false);
  return static_cast<uint32_t>(names_.size() - 1);
}

void GrammarBuilder::Define(uint32_t rule, std::vector<Sequence> alternatives) {
  for (const Sequence& alt : alternatives) total_elements_ += alt.size() + 1;
  rules_[rule] = std::move(alternatives);
  defined_[rule] = true;
}

GrammarElement GrammarBuilder::Bytes(const ByteSet& set) {
  for (size_t i = 0; i < sets_.size(); ++i) {
    if (sets_[i] == set) return {ElementKind::kBytes, static_cast<uint32_t>(i)};
  }
  sets_.push_back(set);
  return {ElementKind::kBytes, static_cast<uint32_t>(sets_.size() - 1)};
}

void GrammarBuilder::AppendLiteral(std::string_view text, Sequence* seq) {
  for (char c : text) {
    ByteSet s;
    s.Add(static_cast<uint8_t>(c));
    seq->push_back(Bytes(s));
  }
}

GrammarElement GrammarBuilder::CodePoints(
    const std::vector<std::pair<uint32_t, uint32_t>>& ranges) {
  std::vector<Utf8Sequence> seqs;
  for (const auto& [lo, hi] : ranges) AppendUtf8Sequences(lo, hi, &seqs);
  // All one-byte sequences share one byte set; longer ones become alternatives of a rule.
  ByteSet single;
  bool any_single = false;
  std::vector<Sequence> alts;
  for (const Utf8Sequence& s : seqs) {
    if (s.size() == 1) {
      single.AddRange(s[0].lo, s[0].hi);
      any_single = true;
      continue;
    }
    Sequence alt;
    for (const ByteRange& r : s) {
      ByteSet b;
      b.AddRange(r.lo, r.hi);
      alt.push_back(Bytes(b));
    }
    alts.push_back(std::move(alt));
  }
  if (alts.empty()) return Bytes(single);  // ASCII only (or empty: matches nothing)
  if (any_single) alts.insert(alts.begin(), Sequence{Bytes(single)});
  const uint32_t rule = NewAuxRule("char");
  Define(rule, std::move(alts));
  return Ref(rule);
}

GrammarElement GrammarBuilder::Repeat(const Sequence& item, int64_t min, int64_t max,
                                      const std::string& base) {
  min = std::min(min, kMaxRepetition);
  if (max >= 0) max = std::min(std::max(max, min), kMaxRepetition);
  Sequence seq;
  const size_t copies = static_cast<size_t>(std::max<int64_t>(min, max)) + 1;
  if (total_elements_ > kMaxElements || item.size() * copies > kMaxElements) {
    total_elements_ = kMaxElements + 1;  // Build reports it
    const uint32_t rule = NewAuxRule(base);
    Define(rule, {});
    return Ref(rule);
  }
  for (int64_t i = 0; i < min; ++i) seq.insert(seq.end(), item.begin(), item.end());
  if (max < 0) {
    // tail ::= item tail | ε   (right recursion: the matcher never loops on it)
    const uint32_t tail = NewAuxRule(base);
    Sequence again = item;
    again.push_back(Ref(tail));
    Define(tail, {std::move(again), Sequence{}});
    seq.push_back(Ref(tail));
  } else if (max > min) {
    // opt_k ::= item opt_(k-1) | ε, nested max - min times.
    uint32_t inner = 0;
    bool has_inner = false;
    for (int64_t k = 0; k < max - min; ++k) {
      const uint32_t opt = NewAuxRule(base);
      Sequence more = item;
      if (has_inner) more.push_back(Ref(inner));
      Define(opt, {std::move(more), Sequence{}});
      inner = opt;
      has_inner = true;
    }
    seq.push_back(Ref(inner));
  }
  const uint32_t rule = NewAuxRule(base);
  Define(rule, {std::move(seq)});
  return Ref(rule);
}

Status GrammarBuilder::CheckLeftRecursion() const {
  const size_t n = rules_.size();
  // Rules that can match the empty string (fixed point).
  std::vector<bool> nullable(n, false);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < n; ++r) {
      if (nullable[r]) continue;
      for (const Sequence& alt : rules_[r]) {
        const bool all = std::all_of(alt.begin(), alt.end(), [&](const GrammarElement& e) {
          return e.kind == ElementKind::kRule && nullable[e.value];
        });
        if (all) {
          nullable[r] = changed = true;
          break;
        }
      }
    }
  }
  // first[r]: rules r can enter before reading a byte.
  std::vector<std::vector<uint32_t>> first(n);
  for (size_t r = 0; r < n; ++r) {
    for (const Sequence& alt : rules_[r]) {
      for (const GrammarElement& e : alt) {
        if (e.kind != ElementKind::kRule) break;
        first[r].push_back(e.value);
        if (!nullable[e.value]) break;
      }
    }
  }
  // A cycle in `first` is left recursion: depth-first search with colours.
  std::vector<uint8_t> colour(n, 0);  // 0 new, 1 on the path, 2 done
  std::vector<std::pair<uint32_t, size_t>> path;
  for (uint32_t start = 0; start < n; ++start) {
    if (colour[start]) continue;
    path.push_back({start, 0});
    colour[start] = 1;
    while (!path.empty()) {
      auto& [r, next] = path.back();
      if (next == first[r].size()) {
        colour[r] = 2;
        path.pop_back();
        continue;
      }
      const uint32_t s = first[r][next++];
      if (colour[s] == 1) {
        return InvalidArgument("grammar rule '" + names_[s] +
                               "' is left-recursive (it can reach itself before reading a "
                               "character); rewrite it with right recursion or a repetition");
      }
      if (colour[s] == 0) {
        colour[s] = 1;
        path.push_back({s, 0});
      }
    }
  }
  return OkStatus();
}

StatusOr<Grammar> GrammarBuilder::Build(const std::string& root_name) {
  const auto root_it = ids_.find(root_name);
  if (root_it == ids_.end() || !defined_[root_it->second])
    return InvalidArgument("grammar has no rule named '" + root_name + "'");
  for (size_t i = 0; i < names_.size(); ++i) {
    if (!defined_[i])
      return InvalidArgument("grammar rule '" + names_[i] + "' is used but not defined");
  }
  if (total_elements_ > kMaxElements) {
    return InvalidArgument("grammar is too large (over " + std::to_string(kMaxElements) +
                           " elements once repetitions are expanded)");
  }
  FOUNDRY_RETURN_IF_ERROR(CheckLeftRecursion());
  Grammar g;
  g.rule_names = names_;
  g.byte_sets = sets_;
  g.root = root_it->second;
  for (const auto& alts : rules_) {
    g.rule_start.push_back(static_cast<uint32_t>(g.elements.size()));
    if (alts.empty()) {  // a rule with no alternative matches nothing
      g.elements.push_back({ElementKind::kBytes, Bytes(ByteSet{}).value});
      g.elements.push_back({ElementKind::kEnd, 0});
      continue;
    }
    for (size_t a = 0; a < alts.size(); ++a) {
      g.elements.insert(g.elements.end(), alts[a].begin(), alts[a].end());
      g.elements.push_back({a + 1 < alts.size() ? ElementKind::kAlt : ElementKind::kEnd, 0});
    }
  }
  g.byte_sets = sets_;  // Bytes() above may have added the empty set
  return g;
}

}  // namespace foundry
