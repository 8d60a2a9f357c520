// A tiny synthetic qwen2 model (random weights; QKV bias, NEOX RoPE) against llama.cpp.
#include "golden_util.h"

using foundry::golden::MeasuredTolerance;

// Measured max |diff| / mean / top-1 flip margin: AVX2 0.119 / 0.0072 / 0.020; AVX-512 and
// scalar at most 0.224 / 0.0185 / 0.055.
TEST(TinyQwen2Golden, MatchesLlamaCpp) {
  foundry::golden::CheckGoldenFile(
      "tiny-qwen2.json", MeasuredTolerance({0.119, 0.0072, 0.020}, {0.224, 0.0185, 0.055}));
}
