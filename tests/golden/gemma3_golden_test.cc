// Gemma 3 270M Q4_K_M (real weights, gemma3 architecture, SentencePiece tokenizer) against
// llama.cpp: exact on the AVX2 path, whose Q4_K/Q6_K kernels follow the orders of llama.cpp's
// repacked and tiled K-quant matmuls (TypeTraits::gemm_rows8, gemm_tokens8); elsewhere with
// the wider, shift-invariant tolerances measured for this model (see Tolerance in
// golden_util.h).
#include "golden_util.h"

TEST(Gemma3Golden, MatchesLlamaCpp) {
  foundry::golden::Tolerance tol;
  tol.shift_invariant = true;
  tol.abs = 1.5;
  tol.tie_margin = 1.0;
  tol.exact_on_avx2 = true;
  foundry::golden::CheckGoldenFile("gemma-3-270m-Q4_K_M.json", tol);
}
