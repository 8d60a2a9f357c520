// SmolLM2-135M-Instruct Q4_1 (real weights, llama architecture) against llama.cpp.
#include "golden_util.h"

TEST(SmolLM2Golden, MatchesLlamaCpp) {
  foundry::golden::Tolerance tol;
  tol.exact_prompt_on_avx = true;
  foundry::golden::CheckGoldenFile("SmolLM2-135M-Instruct.Q4_1.json", tol);
}
