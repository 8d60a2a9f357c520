// A tiny synthetic llama model with Llama 3.1 RoPE scaling (rope_freqs: factor 8, low/high
// frequency factors 1/4, original context 64 of 512) against llama.cpp.
#include "golden_util.h"

using foundry::golden::MeasuredTolerance;

// Measured max |diff| / mean / top-1 flip margin: AVX2 0.114 / 0.0041 / 0.053; AVX-512 and
// scalar at most 0.147 / 0.0181 / 0.075.
TEST(TinyLlama3Golden, MatchesLlamaCpp) {
  foundry::golden::CheckGoldenFile(
      "tiny-llama3.json", MeasuredTolerance({0.114, 0.0041, 0.053}, {0.147, 0.0181, 0.075}));
}
