// Test helper: whether a grammar matches a whole text, byte by byte through the matcher's
// stacks (no vocabulary involved).
#pragma once

#include <string_view>

#include "grammar/grammar.h"
#include "grammar/grammar_stacks.h"

namespace foundry {

inline bool GrammarMatchesText(const Grammar& g, std::string_view text) {
  GrammarStacks stacks(g);
  StackArena arena;
  StackSet cur, next;
  stacks.Start(&arena, &cur);
  for (char c : text) {
    stacks.Advance(&arena, cur, static_cast<uint8_t>(c), &next);
    if (next.empty()) return false;
    std::swap(cur, next);
  }
  return GrammarStacks::CanEnd(cur);
}

}  // namespace foundry
