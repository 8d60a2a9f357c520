#include "model/repacked_weights.h"

#include <new>

namespace foundry {

void RepackedWeights::Repack(const Kernels& k, const GgufFile& file, Tensor* t) {
  const TypeTraits* tt = k.Find(t->type);
  const int64_t rows = t->rows();
  if (t->repacked8 || tt == nullptr || tt->repack_rows8 == nullptr || rows % 8 != 0) return;
  const size_t bytes = static_cast<size_t>(rows) * t->row_bytes;
  if (bytes == 0) return;
  constexpr size_t kAlign = 64;  // whole cache lines
  void* p = std::aligned_alloc(kAlign, (bytes + kAlign - 1) / kAlign * kAlign);
  if (p == nullptr) throw std::bad_alloc();
  std::unique_ptr<uint8_t, Free> copy(static_cast<uint8_t*>(p));
  tt->repack_rows8(t->ne[0], t->data, t->row_bytes, rows, copy.get());
  file.ReleasePages(t->data, bytes);
  t->data = copy.get();
  t->repacked8 = true;
  buffers_.push_back(std::move(copy));
  bytes_ += bytes;
}

}  // namespace foundry
