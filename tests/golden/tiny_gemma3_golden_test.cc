// A tiny synthetic gemma3 model (random weights; QK-norm, post-norms, GeGLU, a sliding
// window of 8 on 6 of its 7 layers, prompts and continuations well past twice the window)
// against llama.cpp.
#include "golden_util.h"

using foundry::golden::MeasuredTolerance;

// Measured max |diff| / mean / top-1 flip margin: AVX2 0.075 / 0.0049 / 0; AVX-512 and scalar
// at most 0.116 / 0.0126 / 0.
TEST(TinyGemma3Golden, MatchesLlamaCpp) {
  foundry::golden::CheckGoldenFile("tiny-gemma3.json",
                                   MeasuredTolerance({0.075, 0.0049, 0}, {0.116, 0.0126, 0}));
}
