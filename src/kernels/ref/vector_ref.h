// Scalar vector kernels (the VectorKernels of Isa::kScalar): ggml's generic C numerics.
#pragma once

#include "kernels/kernels.h"

namespace foundry::ref {

const VectorKernels& ScalarVectorKernels();

}  // namespace foundry::ref
