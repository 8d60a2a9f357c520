// The SentencePiece model reader (src/format/sentencepiece_model.cc) and the protobuf wire
// reader under it: pieces with scores and types, other fields skipped, and every malformed
// input (truncation, bad types, repeated pieces, no pieces) one line of error.
#include <gtest/gtest.h>

#include <string>

#include "format/protobuf_wire.h"
#include "format/sentencepiece_model.h"

namespace foundry {
namespace {

std::string Varint(uint64_t v) {
  std::string out;
  do {
    const auto b = static_cast<char>((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
    out.push_back(b);
    v >>= 7;
  } while (v != 0);
  return out;
}
std::string Len(uint32_t field, const std::string& payload) {
  return Varint(field << 3 | 2) + Varint(payload.size()) + payload;
}
std::string Float(uint32_t field, float f) {
  std::string out = Varint(field << 3 | 5);
  out.append(reinterpret_cast<const char*>(&f), 4);
  return out;
}
std::string Piece(const std::string& text, float score, int type) {
  return Len(1, Len(1, text) + Float(2, score) + Varint(3 << 3) + Varint(type));
}

TEST(SentencePieceModel, ReadsPiecesAndSkipsOtherFields) {
  const std::string trainer = Len(2, Varint(3 << 3) + Varint(2));  // model_type BPE
  const std::string bytes = Piece("<unk>", 0.0f, 2) + trainer + Piece("<s>", -1.5f, 3) +
                            Len(1, Len(1, "\xE2\x96\x81the")) + Piece("<0x41>", 0.0f, 6);
  auto m = ParseSentencePieceModel(bytes);
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->pieces.size(), 4u);
  EXPECT_EQ(m->pieces[0].type, SentencePieceType::kUnknown);
  EXPECT_EQ(m->pieces[1].piece, "<s>");
  EXPECT_EQ(m->pieces[1].score, -1.5f);
  EXPECT_EQ(m->pieces[1].type, SentencePieceType::kControl);
  EXPECT_EQ(m->pieces[2].piece, "\xE2\x96\x81the");
  EXPECT_EQ(m->pieces[2].type, SentencePieceType::kNormal);  // the proto's default
  EXPECT_EQ(m->pieces[3].type, SentencePieceType::kByte);
}

TEST(SentencePieceModel, RejectsMalformedInput) {
  const std::string good = Piece("a", 0, 1) + Piece("b", 0, 1);
  for (size_t cut = 1; cut < good.size(); ++cut) {
    auto m = ParseSentencePieceModel(good.substr(0, cut));
    if (m.ok()) continue;  // a cut between pieces is a shorter, valid model
    EXPECT_EQ(m.status().message().find('\n'), std::string::npos);
    EXPECT_NE(m.status().message().find("tokenizer.model"), std::string::npos);
  }
  const auto error = [](const std::string& bytes) {
    auto m = ParseSentencePieceModel(bytes);
    return m.ok() ? std::string("ok") : m.status().message();
  };
  EXPECT_NE(error("").find("no pieces"), std::string::npos);
  EXPECT_NE(error(good.substr(0, good.size() - 1)).find("bytes but"), std::string::npos);
  EXPECT_NE(error(Len(1, Len(1, "a") + "\x10")).find("piece 0: a varint runs past the end"), std::string::npos);
  EXPECT_NE(error(Piece("a", 0, 9)).find("unknown type 9"), std::string::npos);
  EXPECT_NE(error(Piece("a", 0, 1) + Piece("a", 0, 1)).find("repeats"), std::string::npos);
  EXPECT_NE(error(Len(1, Float(2, 1.0f))).find("no text"), std::string::npos);
  EXPECT_NE(error(Varint(1 << 3) + Varint(5)).find("wrong wire type"), std::string::npos);
  EXPECT_NE(error("\x0b").find("wire type"), std::string::npos);  // field 1, group start
  EXPECT_NE(error(Varint(1 << 3 | 2) + Varint(uint64_t{1} << 40)).find("bytes but"),
            std::string::npos);
  EXPECT_NE(error(std::string(11, '\xFF')).find("longer than 10 bytes"), std::string::npos);
}

TEST(WireReader, FixedFieldsAndTruncation) {
  std::string bytes = Varint(7 << 3 | 1) + std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8);
  WireReader r(bytes, "test");
  auto f = r.Next();
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->number, 7u);
  EXPECT_EQ(f->type, WireType::kFixed64);
  EXPECT_EQ(f->varint, 0x0807060504030201ull);
  EXPECT_TRUE(r.done());
  const std::string cut = bytes.substr(0, 5);
  WireReader truncated(cut, "test");
  EXPECT_FALSE(truncated.Next().ok());
}

}  // namespace
}  // namespace foundry
