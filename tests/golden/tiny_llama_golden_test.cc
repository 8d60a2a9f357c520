// A tiny synthetic llama model (random weights; NORM RoPE, tied output) against llama.cpp.
#include "golden_util.h"

TEST(TinyLlamaGolden, MatchesLlamaCpp) { foundry::golden::CheckGoldenFile("tiny-llama.json"); }
