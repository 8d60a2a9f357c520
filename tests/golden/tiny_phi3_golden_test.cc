// A tiny synthetic phi3 model (random weights; fused QKV and gate/up, NEOX RoPE on 24 of 32
// head dimensions, LongRoPE factors and attention factor, a recorded sliding window that
// llama.cpp does not apply) against llama.cpp, at a context equal to the original one (short
// factors) and past it (long factors).
#include "golden_util.h"

TEST(TinyPhi3Golden, ShortFactorsMatchLlamaCpp) {
  foundry::golden::CheckGoldenFile("tiny-phi3.json");
}

TEST(TinyPhi3Golden, LongFactorsMatchLlamaCpp) {
  foundry::golden::CheckGoldenFile("tiny-phi3-ctx1024.json");
}
