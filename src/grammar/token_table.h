// A model's vocabulary as the grammar matcher needs it, built once per model: every token's
// bytes, with the tokens sorted by their bytes and the length each shares with the one before
// (an implicit trie). Walking the tokens in this order, a mask computation checks a prefix that
// many tokens share once and skips every token below a prefix the grammar rejects.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace foundry {

enum class TokenUse : uint8_t {
  kText,             // its bytes are text the grammar must accept
  kEndOfGeneration,  // allowed only where the grammar can end
  kNever,            // control tokens, tokens without bytes: never allowed under a grammar
};

class TokenTable {
 public:
  // pieces[i] is token i's bytes; use[i] how it may be used. Text tokens with no bytes count
  // as kNever (they would let generation run on without progress).
  TokenTable(std::vector<std::string> pieces, std::vector<TokenUse> use);

  int32_t size() const { return static_cast<int32_t>(pieces_.size()); }
  const std::string& piece(int32_t id) const { return pieces_[static_cast<size_t>(id)]; }
  TokenUse use(int32_t id) const { return use_[static_cast<size_t>(id)]; }
  // Text tokens in byte order, and the bytes each shares with its predecessor there.
  const std::vector<int32_t>& sorted() const { return sorted_; }
  const std::vector<uint32_t>& shared_prefix() const { return shared_prefix_; }
  // The bytes of sorted()[i], stored contiguously in that order so the mask walk reads memory
  // sequentially instead of chasing one string per token.
  std::string_view sorted_piece(size_t i) const {
    return std::string_view(sorted_bytes_)
        .substr(sorted_offsets_[i], sorted_offsets_[i + 1] - sorted_offsets_[i]);
  }
  const std::vector<int32_t>& end_tokens() const { return end_tokens_; }

 private:
  std::vector<std::string> pieces_;
  std::vector<TokenUse> use_;
  std::vector<int32_t> sorted_;
  std::vector<uint32_t> shared_prefix_;
  std::string sorted_bytes_;
  std::vector<uint32_t> sorted_offsets_;
  std::vector<int32_t> end_tokens_;
};

}  // namespace foundry
