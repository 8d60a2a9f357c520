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
  // The 706-token prompt past the sliding window is natural text: at most of its positions
  // the reference's two best tokens are within tie_margin of each other, so off AVX2 only 417
  // of the file's 932 positions are strict checks (AVX-512, measured); a third still is many.
  tol.min_strict_share = 0.35;
  foundry::golden::CheckGoldenFile("gemma-3-270m-Q4_K_M.json", tol);
}
