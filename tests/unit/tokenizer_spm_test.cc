// SentencePiece ("llama" vocabularies): llama.cpp goldens for the Llama 2 and Phi-3 fixtures
// (tools/gen_spm_golden.py: every add_special / parse_special combination, prefix spaces after
// special tokens, Phi-3's rstrip attributes, detokenization), plus hand-built vocabularies for
// the merge order, byte fallback and unknown tokens.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "format/gguf_file.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8_stream.h"
#include "tokenizer/vocab.h"

namespace foundry {
namespace {

const std::string kFixtures = FOUNDRY_SOURCE_DIR "/tests/data/tokenizer/";

std::string FromHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string Show(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) {
    s += ' ';
    s += std::to_string(id);
  }
  return s;
}

std::unique_ptr<Tokenizer> Load(const std::string& name) {
  auto gguf = GgufFile::Open(kFixtures + "ggml-vocab-" + name + ".gguf");
  EXPECT_TRUE(gguf.ok()) << gguf.status().message();
  if (!gguf.ok()) return nullptr;
  auto tok = Tokenizer::Create(**gguf);
  EXPECT_TRUE(tok.ok()) << tok.status().message();
  if (!tok.ok()) return nullptr;
  return std::move(tok).value();
}

// ---------------------------------------------------------------- llama.cpp goldens

class SpmGoldenTest : public ::testing::TestWithParam<const char*> {};

nlohmann::json LoadGolden() {
  std::ifstream in(FOUNDRY_SOURCE_DIR "/tests/data/tokenizer/spm_golden.json");
  EXPECT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

TEST_P(SpmGoldenTest, MatchesLlamaCpp) {
  const nlohmann::json golden = LoadGolden();
  const auto& cases = golden["vocabs"][GetParam()];
  ASSERT_GT(cases.size(), 40u);
  auto tok = Load(GetParam());
  ASSERT_NE(tok, nullptr);
  int failures = 0;
  for (const auto& c : cases) {
    const std::string text = FromHex(c["text_hex"].get<std::string>());
    const bool add_special = c["add_special"].get<bool>();
    const bool parse_special = c["parse_special"].get<bool>();
    const auto expected = c["ids"].get<std::vector<int32_t>>();
    const std::vector<int32_t> ids = tok->Encode(text, add_special, parse_special);
    EXPECT_EQ(ids, expected) << "'" << text << "' add_special=" << add_special
                             << " parse_special=" << parse_special << "\n  got:     " << Show(ids)
                             << "\n  expected:" << Show(expected);
    failures += ids != expected;
    EXPECT_EQ(tok->Decode(expected, false), FromHex(c["decoded_hex"].get<std::string>()))
        << "decode of '" << text << "'";
    EXPECT_EQ(tok->Decode(expected, true), FromHex(c["decoded_special_hex"].get<std::string>()))
        << "decode (render_special) of '" << text << "'";
  }
  EXPECT_EQ(failures, 0);
}

// llama_token_to_piece (special false/true) and llama_vocab_is_eog for a sample of ids.
TEST_P(SpmGoldenTest, PiecesMatchLlamaCpp) {
  const nlohmann::json golden = LoadGolden();
  const auto& sample = golden["pieces"][GetParam()];
  auto tok = Load(GetParam());
  ASSERT_NE(tok, nullptr);
  ASSERT_EQ(tok->vocab_size(), sample["n_vocab"].get<int32_t>());
  const auto rows = sample["pieces"].get<std::vector<std::string>>();
  ASSERT_GT(rows.size(), 500u);
  int failures = 0;
  for (const std::string& row : rows) {
    std::istringstream in(row);
    int32_t id = -1;
    std::string plain, special;
    int eog = -1;
    in >> id >> plain >> special >> eog;
    ASSERT_FALSE(in.fail()) << row;
    const bool ok = tok->TokenToPiece(id) == FromHex(plain == "-" ? "" : plain) &&
                    tok->TokenToPiece(id, true) == FromHex(special == "-" ? "" : special) &&
                    tok->IsEndOfGeneration(id) == (eog != 0);
    EXPECT_TRUE(ok) << "token " << id << " '" << tok->vocab().TokenText(id) << "': expected "
                    << row;
    failures += !ok;
  }
  EXPECT_EQ(failures, 0);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SpmGoldenTest, ::testing::Values("llama-spm", "phi-3"),
                         [](const auto& info) {
                           return std::string(info.param) == "phi-3" ? "phi_3" : "llama_spm";
                         });

// ---------------------------------------------------------------- fixture properties

TEST(Spm, LlamaVocabularyDefaults) {
  auto gguf = GgufFile::Open(kFixtures + "ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(gguf.ok()) << gguf.status().message();
  auto vocab = Vocab::FromGguf(**gguf);
  ASSERT_TRUE(vocab.ok()) << vocab.status().message();
  EXPECT_EQ(vocab->model(), "llama");
  EXPECT_EQ(vocab->size(), 32000);
  EXPECT_EQ(vocab->bos(), 1);
  EXPECT_EQ(vocab->eos(), 2);
  EXPECT_EQ(vocab->unk(), 0);
  EXPECT_TRUE(vocab->has_scores());
  EXPECT_TRUE(vocab->add_space_prefix());  // the key is absent: SentencePiece default
  EXPECT_TRUE(vocab->add_bos());
  EXPECT_FALSE(vocab->rstrip(2));  // only Phi-3 models get rstrip
}

TEST(Spm, Phi3RstripAttributes) {
  auto tok = Load("phi-3");
  ASSERT_NE(tok, nullptr);
  const Vocab& v = tok->vocab();
  EXPECT_TRUE(v.rstrip(v.Find("<|end|>")));
  EXPECT_TRUE(v.rstrip(v.Find("<|user|>")));
  EXPECT_TRUE(v.rstrip(v.Find("</s>")));
  EXPECT_FALSE(v.rstrip(v.Find("<s>")));
  EXPECT_FALSE(v.rstrip(v.Find("<unk>")));
  EXPECT_FALSE(v.rstrip(v.Find("<|endoftext|>")));
  EXPECT_FALSE(v.rstrip(v.Find("Hello")));
  EXPECT_FALSE(v.lstrip(v.Find("<|end|>")));
  EXPECT_TRUE(tok->IsEndOfGeneration(v.Find("<|end|>")));
  EXPECT_TRUE(tok->IsEndOfGeneration(v.Find("<|endoftext|>")));
}

TEST(Spm, PiecesAndByteTokens) {
  auto tok = Load("llama-spm");
  ASSERT_NE(tok, nullptr);
  const Tokenizer& t = *tok;
  EXPECT_EQ(t.TokenToPiece(t.vocab().Find("<0x0A>")), "\n");
  EXPECT_EQ(t.TokenToPiece(t.vocab().Find("<0xFF>")), "\xFF");
  EXPECT_EQ(t.TokenToPiece(t.vocab().Find("\xE2\x96\x81Hello")), " Hello");
  EXPECT_EQ(t.TokenToPiece(t.bos()), "");
  EXPECT_EQ(t.TokenToPiece(t.bos(), true), "<s>");
  EXPECT_EQ(t.TokenToPiece(t.vocab().unk()), "");
  EXPECT_EQ(t.TokenToPiece(t.vocab().unk(), true), "<unk>");
  // The prefix space is removed from the first piece only.
  const std::vector<int32_t> ids = t.Encode("Hello Hello", false, false);
  EXPECT_EQ(t.Decode(ids), "Hello Hello");
  EXPECT_EQ(t.Decode(std::vector<int32_t>(ids.rbegin(), ids.rend())), "Hello Hello");
}

TEST(Spm, StreamingDecodeOfByteFallback) {
  auto tok = Load("llama-spm");
  ASSERT_NE(tok, nullptr);
  // CJK and emoji outside the 32k vocabulary are spelled as <0xXX> tokens.
  const std::string text = "Emoji 🦙🚀, Khmer កាន់តែ, CJK 龘 and ✅!";
  const std::vector<int32_t> ids = tok->Encode(text, true, false);
  Utf8StreamDecoder d;
  std::string out;
  int byte_tokens = 0, held = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = ids[i];
    byte_tokens += tok->vocab().Type(id) == TokenType::kByte;
    std::string piece = tok->TokenToPiece(id);
    if (i == 1) piece = piece.substr(1);  // the added prefix space, as Decode drops it
    const std::string chunk = d.Push(piece);
    held += chunk.empty() && d.has_pending();
    Utf8StreamDecoder check;
    EXPECT_EQ(check.Push(chunk), chunk);
    EXPECT_FALSE(check.has_pending());
    out += chunk;
  }
  out += d.Flush();
  EXPECT_GE(byte_tokens, 8);
  EXPECT_GT(held, 0);
  EXPECT_EQ(out, text);
  // Decode keeps the space after BOS (llama.cpp strips only the first token's piece).
  std::string spaced = " ";
  spaced += text;
  EXPECT_EQ(tok->Decode(ids), spaced);
  EXPECT_EQ(tok->Decode(std::vector<int32_t>(ids.begin() + 1, ids.end())), text);
}

// ---------------------------------------------------------------- hand-built vocabularies

struct TinyToken {
  const char* text;
  float score;
  int type;
};

Vocab BuildSpm(std::vector<TinyToken> tokens, bool byte_tokens, bool add_space_prefix) {
  VocabData d;
  d.model = "llama";
  for (const TinyToken& t : tokens) {
    d.tokens.push_back(t.text);
    d.scores.push_back(t.score);
    d.token_types.push_back(t.type);
  }
  if (byte_tokens) {
    for (int b = 0; b < 256; ++b) {
      char name[8];
      snprintf(name, sizeof(name), "<0x%02X>", b);
      d.tokens.push_back(name);
      d.scores.push_back(0);
      d.token_types.push_back(6);
    }
  }
  d.add_space_prefix = add_space_prefix;
  d.add_bos = false;
  auto v = Vocab::Build(std::move(d));
  EXPECT_TRUE(v.ok()) << v.status().message();
  return std::move(v).value();
}

const std::vector<TinyToken> kTiny = {
    {"<unk>", 0, 2},
    {"<s>", 0, 3},
    {"</s>", 0, 3},
    {"\xE2\x96\x81", -1, 1},
    {"a", -2, 1},
    {"b", -2, 1},
    {"c", -2, 1},
    {"ab", -5, 1},
    {"bc", -3, 1},
    {"abc", -4, 1},
    {"aa", -6, 1},
    {"\xE2\x96\x81"
     "a",
     -1.5, 1},
    {"<tag>", 0, 4},
};

TEST(Spm, MergesHighestScoreFirst) {
  auto tok = Tokenizer::Create(BuildSpm(kTiny, true, false));
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  const Tokenizer& t = **tok;
  const auto id = [&](const char* s) { return t.vocab().Find(s); };
  // "bc" (-3) beats "ab" (-5); then "a"+"bc" = "abc".
  EXPECT_EQ(t.Encode("abc", false, false), (std::vector<int32_t>{id("abc")}));
  // "ab" then no pair: "ab", "ab".
  EXPECT_EQ(t.Encode("abab", false, false), (std::vector<int32_t>{id("ab"), id("ab")}));
  // Equal scores: the leftmost pair merges first.
  EXPECT_EQ(t.Encode("aaa", false, false), (std::vector<int32_t>{id("aa"), id("a")}));
  // No prefix space when add_space_prefix is false; "▁a" merges.
  EXPECT_EQ(t.Encode(" a", false, false), (std::vector<int32_t>{id("\xE2\x96\x81"
                                                                   "a")}));
  // Unknown characters fall back to bytes.
  EXPECT_EQ(t.Encode("x", false, false), (std::vector<int32_t>{id("<0x78>")}));
  EXPECT_EQ(t.Decode(t.Encode("a x\xC3\xA9", false, false)), "a x\xC3\xA9");
  // User-defined tokens are split out even without parse_special; control ones only with it.
  EXPECT_EQ(t.Encode("a<tag>b", false, false),
            (std::vector<int32_t>{id("a"), id("<tag>"), id("b")}));
  EXPECT_EQ(t.Encode("</s>", false, true), (std::vector<int32_t>{id("</s>")}));
  EXPECT_NE(t.Encode("</s>", false, false), (std::vector<int32_t>{id("</s>")}));
}

TEST(Spm, PrefixSpaceAtStartAndAfterSpecialTokens) {
  auto tok = Tokenizer::Create(BuildSpm(kTiny, true, true));
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  const Tokenizer& t = **tok;
  const auto id = [&](const char* s) { return t.vocab().Find(s); };
  const int32_t space_a =
      id("\xE2\x96\x81"
         "a");
  EXPECT_EQ(t.Encode("a", false, false), (std::vector<int32_t>{space_a}));
  EXPECT_EQ(t.Encode("a<tag>a", false, false),
            (std::vector<int32_t>{space_a, id("<tag>"), space_a}));
  EXPECT_EQ(t.Encode("", false, false), (std::vector<int32_t>{}));
  EXPECT_EQ(t.Decode(t.Encode("a<tag>a", false, false)), "a<tag> a");
}

TEST(Spm, UnknownTokenWithoutByteTokens) {
  auto tok = Tokenizer::Create(BuildSpm(kTiny, false, false));
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  const Tokenizer& t = **tok;
  const int32_t unk = t.vocab().unk();
  ASSERT_EQ(unk, 0);
  // One unknown token per character that is not in the vocabulary.
  EXPECT_EQ(t.Encode("x\xC3\xA9"
                     "a",
                     false, false),
            (std::vector<int32_t>{unk, unk, t.vocab().Find("a")}));
}

}  // namespace
}  // namespace foundry
