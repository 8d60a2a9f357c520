// A batch of tokens from one or more sequences, processed in one forward pass.
#pragma once

#include <cstdint>
#include <vector>

namespace foundry {

struct Batch {
  std::vector<int32_t> tokens;
  std::vector<int32_t> positions;  // position of each token within its sequence
  std::vector<int32_t> seq_ids;    // KV-cache sequence (slot) of each token
  std::vector<uint8_t> logits;     // 1: return logits for this token

  size_t size() const { return tokens.size(); }
  void Clear() {
    tokens.clear();
    positions.clear();
    seq_ids.clear();
    logits.clear();
  }
  void Add(int32_t token, int32_t pos, int32_t seq, bool want_logits) {
    tokens.push_back(token);
    positions.push_back(pos);
    seq_ids.push_back(seq);
    logits.push_back(want_logits ? 1 : 0);
  }
  int NumLogits() const {
    int n = 0;
    for (uint8_t l : logits) n += l;
    return n;
  }
};

}  // namespace foundry
