#include "format/sentencepiece_model.h"

#include <cstring>
#include <unordered_set>

#include "format/protobuf_wire.h"

namespace foundry {
namespace {

// Far above any real vocabulary (Gemma's 262144); bounds memory on hostile input.
constexpr size_t kMaxPieces = size_t{1} << 22;

Status Bad(const std::string& what) { return CorruptFile("tokenizer.model: " + what); }

float Fixed32AsFloat(uint64_t bits) {
  const auto b = static_cast<uint32_t>(bits);
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

StatusOr<SentencePiece> ParsePiece(std::string_view bytes, size_t index) {
  const std::string where = "piece " + std::to_string(index);
  WireReader r(bytes, "tokenizer.model: " + where);
  SentencePiece p;
  bool has_text = false;
  while (!r.done()) {
    FOUNDRY_ASSIGN_OR_RETURN(WireField f, r.Next());
    if (f.number == 1 && f.type == WireType::kLengthDelimited) {
      p.piece = std::string(f.bytes);
      has_text = true;
    } else if (f.number == 2 && f.type == WireType::kFixed32) {
      p.score = Fixed32AsFloat(f.varint);
    } else if (f.number == 3 && f.type == WireType::kVarint) {
      if (f.varint < 1 || f.varint > 6) {
        return Bad(where + ": unknown type " + std::to_string(f.varint));
      }
      p.type = static_cast<SentencePieceType>(f.varint);
    } else if (f.number <= 3) {
      return Bad(where + ": field " + std::to_string(f.number) + " has the wrong wire type");
    }
  }
  if (!has_text) return Bad(where + " has no text");
  return p;
}

}  // namespace

StatusOr<SentencePieceModel> ParseSentencePieceModel(std::string_view bytes) {
  WireReader r(bytes, "tokenizer.model");
  SentencePieceModel m;
  std::unordered_set<std::string> seen;
  while (!r.done()) {
    FOUNDRY_ASSIGN_OR_RETURN(WireField f, r.Next());
    if (f.number != 1) continue;  // trainer_spec, normalizer_spec, ...: not needed
    if (f.type != WireType::kLengthDelimited) return Bad("pieces: wrong wire type");
    if (m.pieces.size() >= kMaxPieces) return Bad("more than 4194304 pieces");
    FOUNDRY_ASSIGN_OR_RETURN(SentencePiece p, ParsePiece(f.bytes, m.pieces.size()));
    // SentencePiece itself refuses a model whose pieces repeat.
    if (!seen.insert(p.piece).second) {
      return Bad("piece " + std::to_string(m.pieces.size()) + " repeats an earlier one");
    }
    m.pieces.push_back(std::move(p));
  }
  if (m.pieces.empty()) return Bad("no pieces (not a SentencePiece model?)");
  return m;
}

}  // namespace foundry
