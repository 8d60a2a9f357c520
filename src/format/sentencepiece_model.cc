#include "format/sentencepiece_model.h"

#include <unordered_set>

#include "format/protobuf_wire.h"

namespace foundry {
namespace {

// Far above any real vocabulary (Gemma's 262144); bounds memory on hostile input.
constexpr size_t kMaxPieces = size_t{1} << 22;

Status Bad(const std::string& what) { return CorruptFile("tokenizer.model: " + what); }

StatusOr<SentencePiece> ParsePiece(std::string_view bytes, size_t index) {
  protowire::Reader r(bytes);
  protowire::Field f;
  SentencePiece p;
  bool has_text = false;
  const std::string where = "piece " + std::to_string(index);
  while (r.Next(&f)) {
    if (f.number == 1 && f.type == protowire::WireType::kLen) {
      p.piece = std::string(f.data);
      has_text = true;
    } else if (f.number == 2 && f.type == protowire::WireType::kFixed32) {
      p.score = protowire::Fixed32AsFloat(f.varint);
    } else if (f.number == 3 && f.type == protowire::WireType::kVarint) {
      if (f.varint < 1 || f.varint > 6) {
        return Bad(where + ": unknown type " + std::to_string(f.varint));
      }
      p.type = static_cast<SentencePieceType>(f.varint);
    } else if (f.number <= 3) {
      return Bad(where + ": field " + std::to_string(f.number) + " has the wrong wire type");
    }
  }
  if (r.error() != nullptr) return Bad(where + ": " + r.error());
  if (!has_text) return Bad(where + " has no text");
  return p;
}

}  // namespace

StatusOr<SentencePieceModel> ParseSentencePieceModel(std::string_view bytes) {
  protowire::Reader r(bytes);
  protowire::Field f;
  SentencePieceModel m;
  std::unordered_set<std::string> seen;
  while (r.Next(&f)) {
    if (f.number != 1) continue;  // trainer_spec, normalizer_spec, ...: not needed
    if (f.type != protowire::WireType::kLen) return Bad("pieces: wrong wire type");
    if (m.pieces.size() >= kMaxPieces) return Bad("more than 4194304 pieces");
    FOUNDRY_ASSIGN_OR_RETURN(SentencePiece p, ParsePiece(f.data, m.pieces.size()));
    // SentencePiece itself refuses a model whose pieces repeat.
    if (!seen.insert(p.piece).second) {
      return Bad("piece " + std::to_string(m.pieces.size()) + " repeats an earlier one");
    }
    m.pieces.push_back(std::move(p));
  }
  if (r.error() != nullptr)
    return Bad(std::string("not a SentencePiece model (") + r.error() + ")");
  if (m.pieces.empty()) return Bad("no pieces (not a SentencePiece model?)");
  return m;
}

}  // namespace foundry
