#include "grammar/grammar_matcher.h"

#include <algorithm>

namespace foundry {

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar,
                               std::shared_ptr<const TokenTable> tokens)
    : grammar_(std::move(grammar)), tokens_(std::move(tokens)), stacks_(*grammar_) {
  stacks_.Start(&arena_, &state_);
}

bool GrammarMatcher::Walk(const std::string& bytes, StackSet* out) {
  walk_a_ = state_;
  for (char c : bytes) {
    stacks_.Advance(&arena_, walk_a_, static_cast<uint8_t>(c), &walk_b_);
    if (walk_b_.empty()) return false;
    std::swap(walk_a_, walk_b_);
  }
  *out = walk_a_;
  return true;
}

bool GrammarMatcher::IsAllowed(int32_t token) {
  if (token < 0 || token >= tokens_->size()) return false;
  switch (tokens_->use(token)) {
    case TokenUse::kNever:
      return false;
    case TokenUse::kEndOfGeneration:
      return CanEnd();
    case TokenUse::kText:
      break;
  }
  const size_t mark = arena_.size();
  StackSet out;
  const bool ok = Walk(tokens_->piece(token), &out);
  arena_.Truncate(mark);
  return ok;
}

bool GrammarMatcher::Accept(int32_t token) {
  if (token < 0 || token >= tokens_->size()) return false;
  if (tokens_->use(token) == TokenUse::kEndOfGeneration) return CanEnd();
  if (tokens_->use(token) == TokenUse::kNever) return false;
  return AcceptText(tokens_->piece(token));
}

bool GrammarMatcher::AcceptText(const std::string& bytes) {
  const size_t mark = arena_.size();
  StackSet next;
  if (!Walk(bytes, &next)) {
    arena_.Truncate(mark);
    return false;
  }
  // Keep only the nodes the new state uses, so the arena does not grow with the output.
  StackArena compact;
  GrammarStacks::CopyTo(arena_, &compact, &next);
  arena_ = std::move(compact);
  state_ = std::move(next);
  return true;
}

void GrammarMatcher::FillMask(std::vector<uint8_t>* allowed) {
  allowed->assign(static_cast<size_t>(tokens_->size()), 0);
  if (CanEnd()) {
    for (int32_t id : tokens_->end_tokens()) (*allowed)[static_cast<size_t>(id)] = 1;
  }
  const std::vector<int32_t>& sorted = tokens_->sorted();
  const std::vector<uint32_t>& shared = tokens_->shared_prefix();
  if (levels_.empty()) levels_.resize(1);
  levels_[0] = state_;
  marks_.assign(1, arena_.size());
  size_t valid = 0;  // levels_[0..valid] hold the states after that many bytes of the prefix
  size_t i = 0;
  while (i < sorted.size()) {
    const std::string_view piece = tokens_->sorted_piece(i);
    size_t d = std::min<size_t>(shared[i], valid);
    bool ok = true;
    while (d < piece.size()) {
      if (levels_.size() < d + 2) levels_.resize(d + 2);
      if (marks_.size() < d + 2) marks_.resize(d + 2);
      arena_.Truncate(marks_[d]);
      stacks_.Advance(&arena_, levels_[d], static_cast<uint8_t>(piece[d]), &levels_[d + 1]);
      if (levels_[d + 1].empty()) {
        ok = false;
        break;
      }
      marks_[d + 1] = arena_.size();
      ++d;
    }
    valid = d;
    ++i;
    if (ok) {
      (*allowed)[static_cast<size_t>(sorted[i - 1])] = 1;
    } else {
      // Every following token that shares the rejected byte is rejected too.
      while (i < sorted.size() && shared[i] > d) ++i;
    }
  }
  arena_.Truncate(marks_[0]);
}

}  // namespace foundry
