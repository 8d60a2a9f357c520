// Per-ISA kernel overrides for x86-64, each in its own translation unit compiled with that
// ISA's flags (src/CMakeLists.txt). Only kernels.cc calls these, and only after CPUID says
// the ISA is available. Each returns the type's overrides (a null function: none, use the
// lower ISA's), or nullptr when it has no kernels for the type.
//
// The files of an ISA are named by its prefix (avx2_*.cc, avx512*.cc): src/CMakeLists.txt gives
// every such file its ISA's flags. They must not define (or instantiate) any inline function
// or template that baseline code also uses: the linker may keep either copy of such a
// function, and the AVX copy would then run on CPUs without AVX. So they include only
// intrinsics, the block structs, the x86 headers of this folder (whose helpers live in an
// unnamed namespace: avx2_helpers.h, avx2_gemm_driver.h, avx512_helpers.h) and this header, keep
// their own helpers in an unnamed namespace, and share kernels between files only as plain
// functions (avx2_kernels.h).
#pragma once

#include "kernels/kernels.h"

namespace foundry::x86 {

const TypeTraits* Avx2TypeTraits(QuantType type);    // avx2_type_traits.cc
const TypeTraits* Avx512TypeTraits(QuantType type);  // avx512_type_traits.cc
const VectorKernels& Avx2VectorKernels();            // avx2_vector.cc
const AttentionKernels& Avx2AttentionKernels();      // avx2_attention.cc

}  // namespace foundry::x86
