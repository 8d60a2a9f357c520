#include "kv/kv_cache.h"

#include <algorithm>
#include <string>

namespace foundry {

KvCache::KvCache(int64_t n_layer, int64_t n_seq, int64_t n_ctx, int64_t kv_dim, int64_t v_dim)
    : n_layer_(n_layer),
      n_seq_(n_seq),
      n_ctx_(n_ctx),
      kv_dim_(kv_dim),
      v_dim_(v_dim),
      k_elems_(static_cast<size_t>(n_layer * n_seq * n_ctx * kv_dim)),
      v_elems_(static_cast<size_t>(n_layer * n_seq * n_ctx * v_dim)),
      k_(new uint16_t[k_elems_]),
      v_(new uint16_t[v_elems_]),
      len_(static_cast<size_t>(n_seq), 0) {}

Status KvCache::CheckBatch(const std::vector<int32_t>& seq_ids,
                           const std::vector<int32_t>& positions) const {
  if (seq_ids.size() != positions.size()) return InvalidArgument("batch fields differ in length");
  std::vector<int64_t> next(len_);
  for (size_t i = 0; i < seq_ids.size(); ++i) {
    const int64_t s = seq_ids[i], p = positions[i];
    if (s < 0 || s >= n_seq_) {
      return InvalidArgument("sequence id " + std::to_string(s) + " is out of range");
    }
    if (p >= n_ctx_) {
      return OutOfRange("the context is full: position " + std::to_string(p) +
                        " does not fit in a context of " + std::to_string(n_ctx_) + " tokens");
    }
    if (p != next[s]) {
      return InvalidArgument("sequence " + std::to_string(s) + " expects position " +
                             std::to_string(next[s]) + ", got " + std::to_string(p));
    }
    next[s] = p + 1;
  }
  return OkStatus();
}

void KvCache::Commit(const std::vector<int32_t>& seq_ids, const std::vector<int32_t>& positions) {
  for (size_t i = 0; i < seq_ids.size(); ++i) {
    len_[seq_ids[i]] = std::max<int64_t>(len_[seq_ids[i]], positions[i] + 1);
  }
}

void KvCache::CopyCells(int64_t src, int64_t dst, int64_t from, int64_t to) {
  FOUNDRY_CHECK(src != dst && from <= to && from <= len_[dst] && to <= len_[src]);
  for (int64_t layer = 0; layer < n_layer_; ++layer) {
    std::copy(K(layer, src, from), K(layer, src, to), K(layer, dst, from));
    std::copy(V(layer, src, from), V(layer, src, to), V(layer, dst, from));
  }
  len_[dst] = to;
}

}  // namespace foundry
