// A SentencePiece model file (tokenizer.model: a serialized sentencepiece.ModelProto) read into
// its pieces: the text, score and type of every token id. Bounds-checked (fuzzed by
// tests/fuzz/sentencepiece_fuzz.cc); the trainer and normalizer settings are skipped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace foundry {

// sentencepiece.ModelProto.SentencePiece.Type; the same numbers as GGUF's token types.
enum class SentencePieceType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct SentencePiece {
  std::string piece;
  float score = 0.0f;
  SentencePieceType type = SentencePieceType::kNormal;
};

struct SentencePieceModel {
  std::vector<SentencePiece> pieces;  // by token id
};

// Parses the file's bytes. Errors are one line naming what is wrong (truncated, a piece
// without text, an unknown type, duplicate pieces, no pieces at all).
StatusOr<SentencePieceModel> ParseSentencePieceModel(std::string_view bytes);

}  // namespace foundry
