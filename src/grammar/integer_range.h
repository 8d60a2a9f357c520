// GBNF for the decimal forms of the integers in a range, so JSON Schema bounds (minimum,
// maximum, exclusive*) are enforced by the grammar itself rather than checked afterwards.
#pragma once

#include <cstdint>
#include <string>

namespace foundry {

// Magnitudes beyond this are not generated: the grammar keeps numbers to 16 digits, like
// llama.cpp's JSON grammars, so a model cannot emit digits forever.
constexpr int64_t kMaxGrammarInteger = 9999999999999999;

// A parenthesized GBNF expression matching every integer in [lo, hi] written without leading
// zeros (negative ones with '-'); both are clamped to +-kMaxGrammarInteger. Requires lo <= hi.
std::string IntegerRangeGbnf(int64_t lo, int64_t hi);

}  // namespace foundry
