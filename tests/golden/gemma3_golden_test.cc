// Gemma 3 270M Q4_K_M (real weights, gemma3 architecture, SentencePiece tokenizer) against
// llama.cpp, with the wider, shift-invariant tolerances measured for this model (see
// Tolerance in golden_util.h).
#include "golden_util.h"

TEST(Gemma3Golden, MatchesLlamaCpp) {
  foundry::golden::Tolerance tol;
  tol.shift_invariant = true;
  tol.abs = 1.5;
  tol.tie_margin = 1.0;
  foundry::golden::CheckGoldenFile("gemma-3-270m-Q4_K_M.json", tol);
}
