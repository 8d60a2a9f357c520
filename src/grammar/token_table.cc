#include "grammar/token_table.h"

#include <algorithm>

namespace foundry {

TokenTable::TokenTable(std::vector<std::string> pieces, std::vector<TokenUse> use)
    : pieces_(std::move(pieces)), use_(std::move(use)) {
  use_.resize(pieces_.size(), TokenUse::kNever);
  for (size_t i = 0; i < pieces_.size(); ++i) {
    const int32_t id = static_cast<int32_t>(i);
    if (use_[i] == TokenUse::kText && pieces_[i].empty()) use_[i] = TokenUse::kNever;
    if (use_[i] == TokenUse::kText) sorted_.push_back(id);
    if (use_[i] == TokenUse::kEndOfGeneration) end_tokens_.push_back(id);
  }
  std::sort(sorted_.begin(), sorted_.end(), [&](int32_t a, int32_t b) {
    return pieces_[static_cast<size_t>(a)] < pieces_[static_cast<size_t>(b)];
  });
  sorted_offsets_.push_back(0);
  for (int32_t id : sorted_) {
    sorted_bytes_ += pieces_[static_cast<size_t>(id)];
    sorted_offsets_.push_back(static_cast<uint32_t>(sorted_bytes_.size()));
  }
  shared_prefix_.resize(sorted_.size(), 0);
  for (size_t i = 1; i < sorted_.size(); ++i) {
    const std::string& a = pieces_[static_cast<size_t>(sorted_[i - 1])];
    const std::string& b = pieces_[static_cast<size_t>(sorted_[i])];
    const size_t n = std::min(a.size(), b.size());
    uint32_t k = 0;
    while (k < n && a[k] == b[k]) ++k;
    shared_prefix_[i] = k;
  }
}

}  // namespace foundry
