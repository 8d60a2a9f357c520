// Streams one tensor into a GgufWriter: its rows are produced as floats, quantized to the
// target type in parallel and appended chunk by chunk, so memory holds a chunk (about 16 MiB
// of floats), never the tensor.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "base/status.h"
#include "base/tensor_type.h"
#include "base/thread_pool.h"
#include "format/gguf_writer.h"

namespace foundry::convert {

// Writes row `row` (ne[0] floats) of the source into `dst`; called from several threads.
using FloatRowSource = std::function<void(uint64_t row, float* dst)>;

// `ne`: GGUF order. `on_chunk(bytes)` after each appended chunk. `type` must have a reference
// quantizer (FindRefTypeTraits).
Status StreamQuantizedTensor(const std::vector<uint64_t>& ne, QuantType type,
                             const FloatRowSource& source, GgufWriter* w, ThreadPool& pool,
                             const std::function<void(uint64_t)>& on_chunk);

// Bytes of a tensor of shape `ne` and type `type`.
uint64_t TensorBytes(const std::vector<uint64_t>& ne, QuantType type);

}  // namespace foundry::convert
