// Which tokens a grammar allows next, and the state after each accepted token: the per-token
// hook of constrained decoding (SequenceGenerator applies it to the logits before sampling).
//
// The state is a set of grammar stacks (grammar_stacks.h) over bytes. A token is allowed when
// all of its bytes can be read from the state (it may end inside a UTF-8 character or span
// several grammar elements); an end-of-generation token only when the grammar can end there.
// The full mask walks the vocabulary in byte order (token_table.h) so that a prefix shared by
// many tokens is advanced once; callers that can, check the sampled token first (IsAllowed)
// and compute the mask only when it is rejected.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "grammar/grammar.h"
#include "grammar/grammar_stacks.h"
#include "grammar/token_table.h"

namespace foundry {

class GrammarMatcher {
 public:
  GrammarMatcher(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenTable> tokens);

  // Whether the grammar has matched completely here (end-of-generation tokens allowed).
  bool CanEnd() const { return GrammarStacks::CanEnd(state_); }
  // Whether nothing but the end can follow.
  bool MustEnd() const { return state_.size() == 1 && CanEnd(); }

  bool IsAllowed(int32_t token);
  // Advances over the token's bytes; false (state unchanged) when it is not allowed.
  // An allowed end-of-generation token leaves the state as it is.
  bool Accept(int32_t token);
  // Advances over text the output already holds (a forced opening the caller wrote, or text
  // generated before a lazy grammar applied); false (state unchanged) when it does not match.
  bool AcceptText(const std::string& bytes);
  // allowed->at(id) = 1 for every allowed token, 0 otherwise (sized to the vocabulary).
  void FillMask(std::vector<uint8_t>* allowed);

  const TokenTable& tokens() const { return *tokens_; }

 private:
  // Reads bytes from state_ into *out using the arena above its current end; false as soon as
  // no stack survives. The caller truncates the arena afterwards.
  bool Walk(const std::string& bytes, StackSet* out);

  std::shared_ptr<const Grammar> grammar_;
  std::shared_ptr<const TokenTable> tokens_;
  GrammarStacks stacks_;
  StackArena arena_;
  StackSet state_;
  // Scratch reused across calls.
  StackSet walk_a_, walk_b_;
  std::vector<StackSet> levels_;
  std::vector<size_t> marks_;
};

}  // namespace foundry
