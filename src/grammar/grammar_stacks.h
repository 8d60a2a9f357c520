// The pushdown side of grammar matching: stacks of grammar positions, llama.cpp's scheme
// (llama-grammar.cpp: advance_stack / accept) with shared, immutable stack nodes.
//
// A stack is a linked list of nodes in a StackArena: the top node's position is a byte-set
// element (what the next byte must match); each node below holds where to continue once the
// rule above it ends. A matcher state is a set of such stacks (the grammar may be ambiguous);
// the empty stack kAccepted means the whole grammar has matched. Nodes are appended, never
// changed, so a state stays valid while the arena grows, and stacks share their tails.
#pragma once

#include <cstdint>
#include <vector>

#include "grammar/grammar.h"

namespace foundry {

class StackArena {
 public:
  static constexpr int32_t kAccepted = -1;  // the empty stack
  struct Node {
    uint32_t pos;    // a position in Grammar::elements
    int32_t parent;  // the node below, or kAccepted
  };

  int32_t Push(uint32_t pos, int32_t parent) {
    nodes_.push_back({pos, parent});
    return static_cast<int32_t>(nodes_.size() - 1);
  }
  const Node& operator[](int32_t i) const { return nodes_[static_cast<size_t>(i)]; }
  size_t size() const { return nodes_.size(); }
  void Truncate(size_t n) { nodes_.resize(n); }
  void Clear() { nodes_.clear(); }
  // Whether two stacks hold the same positions (not necessarily the same nodes).
  bool Same(int32_t a, int32_t b) const;

 private:
  std::vector<Node> nodes_;
};

using StackSet = std::vector<int32_t>;  // distinct stacks (node ids or kAccepted)

class GrammarStacks {
 public:
  explicit GrammarStacks(const Grammar& grammar) : g_(&grammar) {}

  // The stacks before any input: the root rule's alternatives.
  void Start(StackArena* arena, StackSet* out) const;
  // The stacks after reading `byte` from `in` (appended to out, which must not alias in).
  void Advance(StackArena* arena, const StackSet& in, uint8_t byte, StackSet* out) const;
  bool Accepts(const StackSet& set, uint8_t byte, const StackArena& arena) const;
  static bool CanEnd(const StackSet& set);
  // Copies the stacks of `set` from `from` into `to` (sharing tails), rewriting `set`.
  static void CopyTo(const StackArena& from, StackArena* to, StackSet* set);

 private:
  // Pushes the stacks reached from position `pos` over `parent` until each top is a byte set.
  void Expand(StackArena* arena, uint32_t pos, int32_t parent, StackSet* out) const;
  static void AddUnique(StackArena* arena, uint32_t pos, int32_t parent, StackSet* out);

  const Grammar* g_;
};

}  // namespace foundry
