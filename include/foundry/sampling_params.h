// How the next token is picked (src/sampling/sampler.h: the chain these feed). Public: a
// caller of the engine API (foundry/engine.h) passes them to Session::Generate.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace foundry {

// Defaults follow llama.cpp's CLI (common/common.h, common_params_sampling).
struct SamplingParams {
  // Seed meaning "pick a random seed when the sampler is created" (llama.cpp's LLAMA_DEFAULT_SEED).
  static constexpr uint64_t kRandomSeed = 0xFFFFFFFFu;

  float temperature = 0.8f;        // <= 0: greedy; must not be negative NaN
  int32_t top_k = 40;              // 0: disabled; >= vocab size: disabled
  float top_p = 0.95f;             // in (0, 1]; 1: disabled
  float min_p = 0.05f;             // in [0, 1]; 0: disabled
  float repeat_penalty = 1.0f;     // > 0; 1: disabled
  int32_t repeat_last_n = 64;      // penalty window over accepted tokens; 0: disabled; -1: all
  float presence_penalty = 0.0f;   // logit -= presence * (count > 0)
  float frequency_penalty = 0.0f;  // logit -= frequency * count
  uint64_t seed = kRandomSeed;
  // (token id, value added to its logit); -INFINITY bans the token. Ids must be < vocab size.
  std::vector<std::pair<int32_t, float>> logit_bias;
  // Constrained decoding (docs/structured-output.md): the output must match this GBNF grammar
  // (llama.cpp's syntax, rule `root`), or be JSON valid against this JSON Schema (the supported
  // subset). At most one of them; both empty: unconstrained. Generation may end (an
  // end-of-generation token) only where the grammar is complete, and ends by itself once
  // nothing can follow; a token limit can still cut the output short (finish reason length).
  std::string grammar;
  std::string json_schema;
  // Text the answer already starts with (the caller ended the prompt with it, e.g. a forced
  // tool-call opening): the grammar reads it before the first generated token, so it must be
  // a prefix of what the grammar accepts.
  std::string grammar_prefill;
  // Non-empty: the grammar is lazy. Output is free until it contains this text; from the
  // trigger's first byte on it must match the grammar (e.g. a tool call's opening markup, for
  // strict functions the model may or may not call). Output that then does not match leaves
  // the rest free.
  std::string grammar_trigger;
};

}  // namespace foundry
