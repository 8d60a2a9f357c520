// A tiny synthetic phi3 model (random weights; fused QKV and gate/up, NEOX RoPE on 24 of 32
// head dimensions, LongRoPE factors and attention factor, a recorded sliding window that
// llama.cpp does not apply) against llama.cpp, at a context equal to the original one (short
// factors) and past it (long factors).
#include "golden_util.h"

using foundry::golden::MeasuredTolerance;

// Measured max |diff| / mean / top-1 flip margin: AVX2 0.448 / 0.0214 / 0; AVX-512 and scalar
// at most 0.463 / 0.0319 / 0.059.
TEST(TinyPhi3Golden, ShortFactorsMatchLlamaCpp) {
  foundry::golden::CheckGoldenFile("tiny-phi3.json",
                                   MeasuredTolerance({0.448, 0.0214, 0}, {0.463, 0.0319, 0.059}));
}

// Measured: AVX2 0.348 / 0.0231 / 0.139; AVX-512 and scalar at most 0.412 / 0.0252 / 0.139.
TEST(TinyPhi3Golden, LongFactorsMatchLlamaCpp) {
  foundry::golden::CheckGoldenFile(
      "tiny-phi3-ctx1024.json", MeasuredTolerance({0.348, 0.0231, 0.139}, {0.412, 0.0252, 0.139}));
}
