// A tiny synthetic llama model (random weights; NORM RoPE, tied output) against llama.cpp.
#include "golden_util.h"

using foundry::golden::MeasuredTolerance;

// Measured max |diff| / mean / top-1 flip margin: AVX2 0.278 / 0.0112 / 0.060; AVX-512 and
// scalar at most 0.530 / 0.0401 / 0.174.
TEST(TinyLlamaGolden, MatchesLlamaCpp) {
  foundry::golden::CheckGoldenFile(
      "tiny-llama.json", MeasuredTolerance({0.278, 0.0112, 0.060}, {0.530, 0.0401, 0.174}));
}
