#include "convert/tensor_stream.h"

#include <algorithm>

#include "kernels/kernels.h"

namespace foundry::convert {

uint64_t TensorBytes(const std::vector<uint64_t>& ne, QuantType type) {
  const auto info = FindQuantTypeInfo(static_cast<uint32_t>(type));
  uint64_t rows = 1;
  for (size_t d = 1; d < ne.size(); ++d) rows *= ne[d];
  return RowBytes(*info, ne[0]) * rows;
}

Status StreamQuantizedTensor(const std::vector<uint64_t>& ne, QuantType type,
                             const FloatRowSource& source, GgufWriter* w, ThreadPool& pool,
                             const std::function<void(uint64_t)>& on_chunk) {
  const TypeTraits* traits = FindRefTypeTraits(type);
  FOUNDRY_CHECK(traits != nullptr && traits->quantize_row != nullptr);
  const auto info = FindQuantTypeInfo(static_cast<uint32_t>(type));
  const uint64_t ncols = ne[0];
  uint64_t rows = 1;
  for (size_t d = 1; d < ne.size(); ++d) rows *= ne[d];
  const size_t row_bytes = RowBytes(*info, ncols);
  // Chunks of about 4M floats (16 MiB) bound the memory whatever the tensor's size.
  const uint64_t chunk_rows = std::max<uint64_t>(1, (uint64_t{4} << 20) / ncols);
  std::vector<float> rows_f(std::min(rows, chunk_rows) * ncols);
  std::vector<uint8_t> rows_q(std::min(rows, chunk_rows) * row_bytes);
  for (uint64_t first = 0; first < rows; first += chunk_rows) {
    const uint64_t n = std::min(chunk_rows, rows - first);
    pool.ParallelFor(static_cast<int64_t>(n), 16, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        float* f = rows_f.data() + i * ncols;
        source(first + static_cast<uint64_t>(i), f);
        traits->quantize_row(f, rows_q.data() + i * row_bytes, static_cast<int64_t>(ncols));
      }
    });
    FOUNDRY_RETURN_IF_ERROR(w->Append(rows_q.data(), n * row_bytes));
    if (on_chunk) on_chunk(n * row_bytes);
  }
  return OkStatus();
}

}  // namespace foundry::convert
