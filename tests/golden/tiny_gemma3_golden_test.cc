// A tiny synthetic gemma3 model (random weights; QK-norm, post-norms, GeGLU, a sliding
// window of 8 on 6 of its 7 layers, prompts and continuations well past twice the window)
// against llama.cpp.
#include "golden_util.h"

TEST(TinyGemma3Golden, MatchesLlamaCpp) { foundry::golden::CheckGoldenFile("tiny-gemma3.json"); }
