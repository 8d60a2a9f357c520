#include "grammar/grammar_stacks.h"

#include <unordered_map>

namespace foundry {

bool StackArena::Same(int32_t a, int32_t b) const {
  while (a != b) {
    if (a < 0 || b < 0) return false;
    const Node& x = (*this)[a];
    const Node& y = (*this)[b];
    if (x.pos != y.pos) return false;
    a = x.parent;
    b = y.parent;
  }
  return true;
}

void GrammarStacks::AddUnique(StackArena* arena, uint32_t pos, int32_t parent, StackSet* out) {
  for (int32_t s : *out) {
    if (s != StackArena::kAccepted && (*arena)[s].pos == pos &&
        arena->Same((*arena)[s].parent, parent)) {
      return;
    }
  }
  out->push_back(arena->Push(pos, parent));
}

void GrammarStacks::Expand(StackArena* arena, uint32_t pos, int32_t parent, StackSet* out) const {
  const std::vector<GrammarElement>& el = g_->elements;
  while (true) {
    const GrammarElement e = el[pos];
    switch (e.kind) {
      case ElementKind::kAlt:
      case ElementKind::kEnd: {  // this sequence is done: continue below it
        if (parent == StackArena::kAccepted) {
          for (int32_t s : *out) {
            if (s == StackArena::kAccepted) return;
          }
          out->push_back(StackArena::kAccepted);
          return;
        }
        const StackArena::Node n = (*arena)[parent];
        pos = n.pos;
        parent = n.parent;
        continue;
      }
      case ElementKind::kBytes:
        AddUnique(arena, pos, parent, out);
        return;
      case ElementKind::kRule: {
        const ElementKind after = el[pos + 1].kind;
        // A reference at the end of its sequence continues directly below (no node).
        const int32_t cont = (after == ElementKind::kAlt || after == ElementKind::kEnd)
                                 ? parent
                                 : arena->Push(pos + 1, parent);
        uint32_t alt = g_->rule_start[e.value];
        while (true) {
          Expand(arena, alt, cont, out);
          while (el[alt].kind != ElementKind::kAlt && el[alt].kind != ElementKind::kEnd) ++alt;
          if (el[alt].kind == ElementKind::kEnd) break;
          ++alt;
        }
        return;
      }
    }
  }
}

void GrammarStacks::Start(StackArena* arena, StackSet* out) const {
  out->clear();
  GrammarElement root{ElementKind::kRule, g_->root};
  // Expand a reference to the root as if it stood alone in a sequence.
  uint32_t alt = g_->rule_start[root.value];
  const std::vector<GrammarElement>& el = g_->elements;
  while (true) {
    Expand(arena, alt, StackArena::kAccepted, out);
    while (el[alt].kind != ElementKind::kAlt && el[alt].kind != ElementKind::kEnd) ++alt;
    if (el[alt].kind == ElementKind::kEnd) break;
    ++alt;
  }
}

bool GrammarStacks::Accepts(const StackSet& set, uint8_t byte, const StackArena& arena) const {
  for (int32_t s : set) {
    if (s == StackArena::kAccepted) continue;
    if (g_->byte_sets[g_->elements[arena[s].pos].value].Has(byte)) return true;
  }
  return false;
}

void GrammarStacks::Advance(StackArena* arena, const StackSet& in, uint8_t byte,
                            StackSet* out) const {
  out->clear();
  for (int32_t s : in) {
    if (s == StackArena::kAccepted) continue;
    const StackArena::Node n = (*arena)[s];
    if (!g_->byte_sets[g_->elements[n.pos].value].Has(byte)) continue;
    Expand(arena, n.pos + 1, n.parent, out);
  }
}

bool GrammarStacks::CanEnd(const StackSet& set) {
  for (int32_t s : set) {
    if (s == StackArena::kAccepted) return true;
  }
  return false;
}

void GrammarStacks::CopyTo(const StackArena& from, StackArena* to, StackSet* set) {
  std::unordered_map<int32_t, int32_t> copied;
  copied[StackArena::kAccepted] = StackArena::kAccepted;
  std::vector<int32_t> chain;
  for (int32_t& s : *set) {
    chain.clear();
    int32_t n = s;
    while (!copied.count(n)) {
      chain.push_back(n);
      n = from[n].parent;
    }
    for (size_t i = chain.size(); i-- > 0;) {
      copied[chain[i]] = to->Push(from[chain[i]].pos, copied[from[chain[i]].parent]);
    }
    s = copied[s];
  }
}

}  // namespace foundry
