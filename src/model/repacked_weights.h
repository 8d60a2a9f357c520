// Weight matrices copied at load into the layout their kernels read fastest (llama.cpp calls
// these its "extra" buffers): on AVX2 and AVX-512, the K-quant, Q4_0, Q5_0 and Q8_0 matrices
// in groups of 8 interleaved rows (TypeTraits::repack_rows8). The model owns the copies; the file's pages they came from are
// handed back (GgufFile::ReleasePages), so the weights stay resident once, not twice.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <vector>

#include "base/thread_pool.h"
#include "format/gguf_file.h"
#include "kernels/kernels.h"
#include "model/tensor.h"

namespace foundry {

class RepackedWeights {
 public:
  // Repacks *t when the kernels have a repacked layout for its type and its rows allow it (a
  // multiple of 8, nothing else reading them: the caller's promise); *t then points at the
  // copy (Tensor::repacked8). Otherwise *t is left as it is. The pool's threads each repack a
  // share of the row groups (and fault in their pages of the copy).
  void Repack(const Kernels& k, const GgufFile& file, Tensor* t, ThreadPool& pool);

  size_t bytes() const { return bytes_; }

 private:
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::vector<std::unique_ptr<uint8_t, Free>> buffers_;
  size_t bytes_ = 0;
};

}  // namespace foundry
