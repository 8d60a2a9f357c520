// A tiny synthetic llama model with Llama 3.1 RoPE scaling (rope_freqs: factor 8, low/high
// frequency factors 1/4, original context 64 of 512) against llama.cpp.
#include "golden_util.h"

TEST(TinyLlama3Golden, MatchesLlamaCpp) { foundry::golden::CheckGoldenFile("tiny-llama3.json"); }
