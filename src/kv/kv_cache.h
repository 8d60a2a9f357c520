// Key/value cache: for every layer and sequence slot, one f16 row per position.
//
// Layout per layer: k[seq][pos][kv_dim], v[seq][pos][v_dim]. Each sequence (slot) owns its
// own cells, so sequences of a batch join, leave and grow independently. Storing f16
// matches llama.cpp's default cache type (and halves memory).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/status.h"

namespace foundry {

class KvCache {
 public:
  KvCache(int64_t n_layer, int64_t n_seq, int64_t n_ctx, int64_t kv_dim, int64_t v_dim);

  int64_t n_seq() const { return n_seq_; }
  int64_t n_ctx() const { return n_ctx_; }
  int64_t kv_dim() const { return kv_dim_; }
  int64_t v_dim() const { return v_dim_; }

  uint16_t* K(int64_t layer, int64_t seq, int64_t pos) {
    return k_.get() + ((layer * n_seq_ + seq) * n_ctx_ + pos) * kv_dim_;
  }
  uint16_t* V(int64_t layer, int64_t seq, int64_t pos) {
    return v_.get() + ((layer * n_seq_ + seq) * n_ctx_ + pos) * v_dim_;
  }
  const uint16_t* K(int64_t layer, int64_t seq, int64_t pos) const {
    return k_.get() + ((layer * n_seq_ + seq) * n_ctx_ + pos) * kv_dim_;
  }
  const uint16_t* V(int64_t layer, int64_t seq, int64_t pos) const {
    return v_.get() + ((layer * n_seq_ + seq) * n_ctx_ + pos) * v_dim_;
  }

  // Number of positions filled in a sequence (the next position to write).
  int64_t SeqLength(int64_t seq) const { return len_[seq]; }
  // Forget positions >= keep of a sequence (keep = 0 empties it).
  void Truncate(int64_t seq, int64_t keep) {
    if (keep < len_[seq]) len_[seq] = keep;
  }
  void Clear() { std::fill(len_.begin(), len_.end(), 0); }
  // Gives sequence `dst` the cells [from, to) of sequence `src` (which holds them), keeping its
  // own cells before `from`: a prefix computed once serves another sequence. Preconditions:
  // src != dst, from <= SeqLength(dst), to <= SeqLength(src).
  void CopyCells(int64_t src, int64_t dst, int64_t from, int64_t to);

  // Checks that a batch's (seq, pos) pairs can be written: seq in range, pos < n_ctx, and
  // each sequence continues where it left off (positions are contiguous).
  Status CheckBatch(const std::vector<int32_t>& seq_ids,
                    const std::vector<int32_t>& positions) const;
  // Records the positions written by a batch (after CheckBatch).
  void Commit(const std::vector<int32_t>& seq_ids, const std::vector<int32_t>& positions);

  size_t bytes() const { return (k_elems_ + v_elems_) * sizeof(uint16_t); }

 private:
  int64_t n_layer_, n_seq_, n_ctx_, kv_dim_, v_dim_;
  // Left uninitialized on purpose: pages are only touched (and become resident) when a
  // position is written, so a large context costs memory only as it fills.
  size_t k_elems_, v_elems_;
  std::unique_ptr<uint16_t[]> k_, v_;
  std::vector<int64_t> len_;
};

}  // namespace foundry
