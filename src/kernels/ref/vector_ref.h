// Scalar vector kernels (the VectorKernels of Isa::kScalar): ggml's generic C numerics.
#pragma once

#include "kernels/kernels.h"

namespace foundry::ref {

const VectorKernels& ScalarVectorKernels();
// Attention kernels composed of the scalar f16 dot product and axpy, one cell at a time.
const AttentionKernels& ScalarAttentionKernels();

}  // namespace foundry::ref
