#include "model/repacked_weights.h"

#include <algorithm>
#include <new>

namespace foundry {

void RepackedWeights::Repack(const Kernels& k, const GgufFile& file, Tensor* t,
                             ThreadPool& pool) {
  const TypeTraits* tt = k.Find(t->type);
  const int64_t rows = t->rows();
  if (t->repacked8 || tt == nullptr || tt->repack_rows8 == nullptr || rows % 8 != 0) return;
  const size_t bytes = static_cast<size_t>(rows) * t->row_bytes;
  if (bytes == 0) return;
  constexpr size_t kAlign = 64;  // whole cache lines
  void* p = std::aligned_alloc(kAlign, (bytes + kAlign - 1) / kAlign * kAlign);
  if (p == nullptr) throw std::bad_alloc();
  std::unique_ptr<uint8_t, Free> copy(static_cast<uint8_t*>(p));
  // Groups of 8 rows are independent, and a repacked group keeps its rows' offset. The file's
  // pages go a few MiB at a time as they are copied, so a large matrix (an output head)
  // is never resident twice; the last call takes the pages that two steps straddle.
  constexpr int64_t kGroupsPerStep = 256;
  const auto* src = static_cast<const uint8_t*>(t->data);
  const size_t group_bytes = 8 * t->row_bytes;
  pool.ParallelFor(rows / 8, 16, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; g += kGroupsPerStep) {
      const int64_t n_groups = std::min(kGroupsPerStep, g1 - g);
      const size_t offset = static_cast<size_t>(g) * group_bytes;
      tt->repack_rows8(t->ne[0], src + offset, t->row_bytes, n_groups * 8, copy.get() + offset);
      file.ReleasePages(src + offset, static_cast<size_t>(n_groups) * group_bytes);
    }
  });
  file.ReleasePages(t->data, bytes);
  t->data = copy.get();
  t->repacked8 = true;
  buffers_.push_back(std::move(copy));
  bytes_ += bytes;
}

}  // namespace foundry
