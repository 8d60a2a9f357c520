// RoPE frequency factors stored as tensors: Llama 3.1's `rope_freqs` and Phi-3's LongRoPE
// `rope_factors_long` / `rope_factors_short`. Each is n_rot / 2 F32 divisors of theta.
#pragma once

#include <string>

#include "base/status.h"
#include "format/gguf_file.h"
#include "model/tensor.h"

namespace foundry {

// Binds the optional vector `name` of n_rot / 2 factors (left empty when the file has none)
// and checks that every factor is a positive finite number.
Status BindRopeFactors(const GgufFile& g, const std::string& name, int64_t n_rot, Tensor* t);

}  // namespace foundry
