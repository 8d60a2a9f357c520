// Per-ISA kernel overrides for x86-64, each in its own translation unit compiled with that
// ISA's flags (src/CMakeLists.txt). Only kernels.cc calls these, and only after CPUID says
// the ISA is available. Each returns the type's overrides (a null function: none, use the
// lower ISA's), or nullptr when it has no kernels for the type.
//
// These translation units must not define (or instantiate) any inline function or template
// that baseline code also uses: the linker may keep either copy of such a function, and the
// AVX copy would then run on CPUs without AVX. So they include only intrinsics, the block
// structs and this header, and keep all their helpers in an unnamed namespace.
#pragma once

#include "kernels/kernels.h"

namespace foundry::x86 {

const TypeTraits* Avx2TypeTraits(QuantType type);
const TypeTraits* Avx512TypeTraits(QuantType type);
const VectorKernels& Avx2VectorKernels();
const AttentionKernels& Avx2AttentionKernels();  // avx2_attention.cc

}  // namespace foundry::x86
