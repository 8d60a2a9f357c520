// Gemma 3's SentencePiece vocabulary (262,144 tokens, add_space_prefix = false, byte fallback)
// against llama.cpp: the tokenization part of tests/golden/data/gemma-3-270m-Q4_K_M.json
// (tools/gen_goldens.py, llama-cpp-python). The model file lives in the git-ignored cache
// (`make models`); without it this test fails.
#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "format/gguf_file.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8_stream.h"

namespace foundry {
namespace {

const std::string kModel = FOUNDRY_SOURCE_DIR "/.cache/models/gemma-3-270m-Q4_K_M.gguf";
const std::string kGolden = FOUNDRY_SOURCE_DIR "/tests/golden/data/gemma-3-270m-Q4_K_M.json";

// Tokenizer construction budget: 300 ms in optimized builds; sanitizer/debug builds get more.
// Measured in this thread's CPU time: the test machine is shared and often oversubscribed.
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
constexpr double kCreateBudgetMs = 300;
#else
constexpr double kCreateBudgetMs = 5000;
#endif

double ThreadCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

std::string Show(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) {
    s += ' ';
    s += std::to_string(id);
  }
  return s;
}

class Gemma3Tokenizer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::ifstream in(kGolden);
    if (in.good()) {
      std::stringstream ss;
      ss << in.rdbuf();
      golden_ = new nlohmann::json(nlohmann::json::parse(ss.str()));
    }
    auto gguf = GgufFile::Open(kModel);
    if (!gguf.ok()) {
      load_error_ = new std::string(gguf.status().message());
      return;
    }
    gguf_ = std::move(gguf).value().release();
    const double start = ThreadCpuMs();
    auto tok = Tokenizer::Create(*gguf_);
    create_ms_ = ThreadCpuMs() - start;
    if (!tok.ok()) {
      load_error_ = new std::string(tok.status().message());
      return;
    }
    tok_ = std::move(tok).value().release();
  }
  static void TearDownTestSuite() {
    delete tok_;
    delete gguf_;
    delete golden_;
    delete load_error_;
    tok_ = nullptr;
    gguf_ = nullptr;
    golden_ = nullptr;
    load_error_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(golden_, nullptr) << "missing " << kGolden;
    ASSERT_EQ(load_error_, nullptr)
        << *load_error_ << " (run `make models` to fetch " << kModel << ")";
    ASSERT_NE(tok_, nullptr);
  }

  static inline GgufFile* gguf_ = nullptr;
  static inline Tokenizer* tok_ = nullptr;
  static inline nlohmann::json* golden_ = nullptr;
  static inline std::string* load_error_ = nullptr;
  static inline double create_ms_ = 0;
};

TEST_F(Gemma3Tokenizer, Metadata) {
  const Tokenizer& t = *tok_;
  EXPECT_EQ(t.vocab().model(), "llama");
  EXPECT_EQ(t.vocab_size(), 262144);
  EXPECT_EQ(t.vocab_size(), (*golden_)["n_vocab"].get<int32_t>());
  EXPECT_FALSE(t.vocab().add_space_prefix());
  EXPECT_EQ(t.vocab().add_bos(), (*golden_)["add_bos"].get<bool>());
  EXPECT_FALSE(t.vocab().add_eos());
  EXPECT_EQ(t.bos(), 2);
  EXPECT_EQ(t.eos(), 1);
  EXPECT_EQ(t.vocab().Find("<end_of_turn>"), 106);
  EXPECT_TRUE(t.IsEndOfGeneration(t.eos()));
  EXPECT_TRUE(t.IsEndOfGeneration(106));
  EXPECT_FALSE(t.IsEndOfGeneration(t.bos()));
  EXPECT_FALSE(t.IsEndOfGeneration(105));  // <start_of_turn>
}

TEST_F(Gemma3Tokenizer, CreateIsFast) {
  EXPECT_LT(create_ms_, kCreateBudgetMs)
      << "Tokenizer::Create took " << create_ms_ << " ms of CPU time";
}

// add_special = false, parse_special = false.
TEST_F(Gemma3Tokenizer, TokenizeMatchesLlamaCpp) {
  const auto& cases = (*golden_)["tokenize"];
  ASSERT_GT(cases.size(), 50u);
  int failures = 0;
  for (const auto& c : cases) {
    const std::string text = c["text"].get<std::string>();
    const auto expected = c["ids"].get<std::vector<int32_t>>();
    const std::vector<int32_t> ids = tok_->Encode(text, false, false);
    EXPECT_EQ(ids, expected) << "'" << text << "'\n  got:     " << Show(ids)
                             << "\n  expected:" << Show(expected);
    failures += ids != expected;
    // No prefix space and byte fallback: decoding gives the text back.
    EXPECT_EQ(tok_->Decode(expected), text);
  }
  EXPECT_EQ(failures, 0);
}

// add_special = true, parse_special = true.
TEST_F(Gemma3Tokenizer, TokenizeSpecialMatchesLlamaCpp) {
  const auto& cases = (*golden_)["tokenize_special"];
  ASSERT_GT(cases.size(), 5u);
  for (const auto& c : cases) {
    const std::string text = c["text"].get<std::string>();
    const auto expected = c["ids"].get<std::vector<int32_t>>();
    const std::vector<int32_t> ids = tok_->Encode(text, true, true);
    EXPECT_EQ(ids, expected) << "'" << text << "'\n  got:     " << Show(ids)
                             << "\n  expected:" << Show(expected);
    // With specials rendered, decoding gives BOS's text and then the input.
    std::string with_bos = tok_->TokenToPiece(tok_->bos(), true);
    with_bos += text;
    EXPECT_EQ(with_bos.substr(0, 5), "<bos>");
    EXPECT_EQ(tok_->Decode(expected, /*render_special=*/true), with_bos);
  }
}

TEST_F(Gemma3Tokenizer, PromptsMatchLlamaCpp) {
  const auto& prompts = (*golden_)["prompts"];
  ASSERT_GT(prompts.size(), 3u);
  for (const auto& p : prompts) {
    const std::string text = p["text"].get<std::string>();
    const auto expected = p["ids"].get<std::vector<int32_t>>();
    const std::vector<int32_t> ids =
        tok_->Encode(text, p["add_bos"].get<bool>(), p.value("parse_special", false));
    EXPECT_EQ(ids, expected) << "'" << text << "'\n  got:     " << Show(ids)
                             << "\n  expected:" << Show(expected);
  }
}

// llama_token_to_piece (special false/true) and llama_vocab_is_eog for a sample of ids
// (tools/gen_spm_golden.py).
TEST_F(Gemma3Tokenizer, PiecesMatchLlamaCpp) {
  std::ifstream in(FOUNDRY_SOURCE_DIR "/tests/data/tokenizer/spm_golden.json");
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  const nlohmann::json sample = nlohmann::json::parse(ss.str())["pieces"]["gemma-3-270m"];
  ASSERT_EQ(tok_->vocab_size(), sample["n_vocab"].get<int32_t>());
  const auto rows = sample["pieces"].get<std::vector<std::string>>();
  ASSERT_GT(rows.size(), 3000u);
  const auto from_hex = [](const std::string& hex) {
    std::string out;
    if (hex == "-") return out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
      out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    return out;
  };
  int failures = 0;
  for (const std::string& row : rows) {
    std::istringstream fields(row);
    int32_t id = -1;
    std::string plain, special;
    int eog = -1;
    fields >> id >> plain >> special >> eog;
    ASSERT_FALSE(fields.fail()) << row;
    const bool ok = tok_->TokenToPiece(id) == from_hex(plain) &&
                    tok_->TokenToPiece(id, true) == from_hex(special) &&
                    tok_->IsEndOfGeneration(id) == (eog != 0);
    EXPECT_TRUE(ok) << "token " << id << ": expected " << row;
    failures += !ok;
  }
  EXPECT_EQ(failures, 0);
}

TEST_F(Gemma3Tokenizer, SpecialTokens) {
  const Tokenizer& t = *tok_;
  // Control tokens: parsed only on request, rendered only on request.
  const int32_t sot = t.vocab().Find("<start_of_turn>");
  ASSERT_EQ(sot, 105);
  EXPECT_EQ(t.Encode("<start_of_turn>", false, true), (std::vector<int32_t>{sot}));
  EXPECT_NE(t.Encode("<start_of_turn>", false, false), (std::vector<int32_t>{sot}));
  EXPECT_EQ(t.TokenToPiece(sot), "");
  EXPECT_EQ(t.TokenToPiece(sot, true), "<start_of_turn>");
  // User-defined whitespace tokens are always matched and always rendered.
  const int32_t two_spaces = t.vocab().Find("  ");
  ASSERT_GE(two_spaces, 0);
  EXPECT_EQ(t.Encode("  ", false, false), (std::vector<int32_t>{two_spaces}));
  EXPECT_EQ(t.TokenToPiece(two_spaces), "  ");
  // Byte tokens decode to their byte; "▁" to a space.
  EXPECT_EQ(t.TokenToPiece(t.vocab().Find("<0x41>")), "A");
  EXPECT_EQ(t.TokenToPiece(t.vocab().Find("\xE2\x96\x81")), " ");
}

TEST_F(Gemma3Tokenizer, StreamingDecodeOfByteFallback) {
  // Emoji and CJK characters missing from the vocabulary are spelled with <0xXX> tokens, one
  // byte each: the stream decoder must hold them until the character is complete.
  const std::string text = "🦙🤖🚀 mixed 中文 and 🦙 \xF0\x9F\xAB\xA8 end";
  const std::vector<int32_t> ids = tok_->Encode(text, false, false);
  Utf8StreamDecoder d;
  std::string out;
  int byte_tokens = 0, held = 0;
  for (int32_t id : ids) {
    byte_tokens += tok_->vocab().Type(id) == TokenType::kByte;
    const std::string chunk = d.PushToken(*tok_, id);
    held += chunk.empty() && d.has_pending();
    Utf8StreamDecoder check;  // every chunk is complete, valid UTF-8
    EXPECT_EQ(check.Push(chunk), chunk);
    EXPECT_FALSE(check.has_pending());
    out += chunk;
  }
  out += d.Flush();
  EXPECT_GE(byte_tokens, 4) << "the text should need byte fallback";
  EXPECT_GT(held, 0);
  EXPECT_EQ(out, text);
  EXPECT_EQ(tok_->Decode(ids), text);
}

TEST_F(Gemma3Tokenizer, LongInputsEncodeInNearLinearTime) {
  // SentencePiece does not pre-split on spaces: a whole fragment is one merge problem.
  std::string unit;
  for (const auto& c : (*golden_)["tokenize"]) {
    unit += c["text"].get<std::string>();
    unit += ' ';
  }
  std::string big;
  while (big.size() < 400000) big += unit;
  const double t0 = ThreadCpuMs();
  const std::vector<int32_t> small_ids = tok_->Encode(unit, false, false);
  const double t1 = ThreadCpuMs();
  const std::vector<int32_t> big_ids = tok_->Encode(big, false, false);
  const double t2 = ThreadCpuMs();
  const double small_ms = t1 - t0, big_ms = t2 - t1;
  const double ratio = static_cast<double>(big.size()) / unit.size();
  EXPECT_EQ(tok_->Decode(big_ids), big);
  EXPECT_GT(big_ids.size(), small_ids.size() * (ratio - 1));
  // Generous: n log n, cache effects and a busy machine, but nothing quadratic.
  EXPECT_LT(big_ms, std::max(1.0, small_ms) * ratio * 8 + 50)
      << "small " << small_ms << " ms, big " << big_ms << " ms (x" << ratio << " input)";
}

TEST_F(Gemma3Tokenizer, ParsingSpecialTokensStaysCheap) {
  // 6,414 special tokens: splitting them out must not cost a scan of the text per token.
  const std::string turn =
      "<start_of_turn>user\nWhat is <b>bold</b> and <unused>?<end_of_turn>\n<start_of_turn>model\n"
      "It is a tag.\n\n\t<end_of_turn>\n";
  std::string text;
  while (text.size() < 100000) text += turn;
  const double t0 = ThreadCpuMs();
  const std::vector<int32_t> plain = tok_->Encode(text, false, false);
  const double t1 = ThreadCpuMs();
  const std::vector<int32_t> special = tok_->Encode(text, false, true);
  const double t2 = ThreadCpuMs();
  EXPECT_LT(special.size(), plain.size());
  EXPECT_EQ(tok_->Decode(special, true), text);
  EXPECT_LT(t2 - t1, 4 * (t1 - t0) + 20)
      << "plain " << (t1 - t0) << " ms, special " << (t2 - t1) << " ms";
}

}  // namespace
}  // namespace foundry
