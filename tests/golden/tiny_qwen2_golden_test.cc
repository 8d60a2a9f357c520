// A tiny synthetic qwen2 model (random weights; QKV bias, NEOX RoPE) against llama.cpp.
#include "golden_util.h"

TEST(TinyQwen2Golden, MatchesLlamaCpp) { foundry::golden::CheckGoldenFile("tiny-qwen2.json"); }
