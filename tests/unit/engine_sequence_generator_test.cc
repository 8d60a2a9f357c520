// SequenceGenerator, the per-token step shared by Session and the Scheduler: fed logits that
// force chosen tokens, it ends at end-of-generation tokens, holds back and cuts stop strings,
// applies the token and context limits and never splits a UTF-8 character.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/internal.h"
#include "engine/sequence_generator.h"

namespace foundry {
namespace {

const std::string kTinyQwen2 =
    std::string(FOUNDRY_SOURCE_DIR) + "/tests/data/models/tiny-qwen2.gguf";

class SequenceGeneratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto lm = LanguageModel::Load(kTinyQwen2);
    ASSERT_TRUE(lm.ok()) << lm.status().message();
    lm_ = *lm;
    logits_.assign(static_cast<size_t>(lm_->n_vocab()), 0.0f);
  }

  // The token whose piece is exactly these bytes.
  int32_t Id(const std::string& piece) const {
    const Tokenizer& tok = TokenizerOf(*lm_);
    for (int32_t id = 0; id < tok.vocab_size(); ++id) {
      if (tok.TokenToPiece(id) == piece) return id;
    }
    ADD_FAILURE() << "no token for \"" << piece << "\"";
    return 0;
  }
  SequenceGenerator Make(int64_t max_tokens, std::vector<std::string> stop = {}) {
    SamplingParams greedy;
    greedy.temperature = 0;
    auto gen = SequenceGenerator::Create(*lm_, greedy, max_tokens, std::move(stop));
    EXPECT_TRUE(gen.ok()) << gen.status().message();
    return std::move(gen).value();
  }
  // Logits under which greedy sampling picks `id`.
  const float* Forcing(int32_t id) {
    std::fill(logits_.begin(), logits_.end(), 0.0f);
    logits_[static_cast<size_t>(id)] = 10.0f;
    return logits_.data();
  }

  std::shared_ptr<LanguageModel> lm_;
  std::vector<float> logits_;
};

TEST_F(SequenceGeneratorTest, EndOfGenerationFinishesWithoutEmitting) {
  SequenceGenerator gen = Make(-1);
  const TokenStep a = gen.Next(Forcing(Id("a")), false);
  EXPECT_EQ(a.token, Id("a"));
  EXPECT_EQ(a.text, "a");
  EXPECT_FALSE(a.finished);
  const TokenStep end = gen.Next(Forcing(TokenizerOf(*lm_).eos()), false);
  EXPECT_EQ(end.token, -1);
  EXPECT_TRUE(end.text.empty());
  EXPECT_TRUE(end.finished);
  EXPECT_EQ(end.reason, FinishReason::kStop);
  EXPECT_EQ(gen.generated(), 1);  // the end-of-generation token is not counted
  EXPECT_EQ(gen.sampler().history(), std::vector<int32_t>{Id("a")});
}

TEST_F(SequenceGeneratorTest, StopStringIsHeldBackThenCut) {
  SequenceGenerator gen = Make(-1, {"<END>", ""});
  std::string text;
  for (const char* piece : {"a", "<", "E", "x"}) {
    const TokenStep s = gen.Next(Forcing(Id(piece)), false);
    EXPECT_FALSE(s.finished);
    text += s.text;
    // "<" and "<E" may still become "<END>": nothing of them is emitted yet.
    if (std::string(piece) == "<" || std::string(piece) == "E") {
      EXPECT_EQ(text, "a");
    }
  }
  EXPECT_EQ(text, "a<Ex");  // released once it cannot become a stop string
  for (const char* piece : {"b", "<", "E", "N", "D"}) {
    text += gen.Next(Forcing(Id(piece)), false).text;
  }
  EXPECT_EQ(text, "a<Exb");
  const TokenStep last = gen.Next(Forcing(Id(">")), false);
  EXPECT_TRUE(last.finished);
  EXPECT_EQ(last.reason, FinishReason::kStop);
  EXPECT_EQ(text + last.text, "a<Exb");  // cut right before the stop string
  bool stopped = false;
  EXPECT_EQ(gen.Flush(&stopped), "");
  EXPECT_TRUE(stopped);
}

TEST_F(SequenceGeneratorTest, HeldBackTextComesOutAtTheEnd) {
  SequenceGenerator gen = Make(2, {"<END>"});
  EXPECT_EQ(gen.Next(Forcing(Id("a")), false).text, "a");
  const TokenStep s = gen.Next(Forcing(Id("<")), false);
  EXPECT_EQ(s.text, "");
  EXPECT_TRUE(s.finished);
  EXPECT_EQ(s.reason, FinishReason::kLength);
  bool stopped = true;
  EXPECT_EQ(gen.Flush(&stopped), "<");
  EXPECT_FALSE(stopped);
}

TEST_F(SequenceGeneratorTest, TokenAndContextLimits) {
  SequenceGenerator none = Make(0);
  EXPECT_TRUE(none.LimitReached());

  SequenceGenerator gen = Make(3);
  EXPECT_FALSE(gen.LimitReached());
  EXPECT_FALSE(gen.Next(Forcing(Id("a")), false).finished);
  EXPECT_FALSE(gen.Next(Forcing(Id("b")), false).finished);
  const TokenStep third = gen.Next(Forcing(Id("x")), false);
  EXPECT_TRUE(third.finished);
  EXPECT_EQ(third.reason, FinishReason::kLength);
  EXPECT_EQ(third.token, Id("x"));  // the last token is still emitted
  EXPECT_EQ(third.text, "x");
  EXPECT_EQ(gen.generated(), 3);
  EXPECT_TRUE(gen.LimitReached());

  SequenceGenerator unlimited = Make(-1);
  const TokenStep full = unlimited.Next(Forcing(Id("a")), /*context_full=*/true);
  EXPECT_TRUE(full.finished);
  EXPECT_EQ(full.reason, FinishReason::kLength);
  EXPECT_EQ(full.text, "a");
}

TEST_F(SequenceGeneratorTest, Utf8CharacterSplitAcrossTokens) {
  // "é" is C3 A9: byte-level BPE has a token for each byte.
  SequenceGenerator gen = Make(-1);
  const TokenStep first = gen.Next(Forcing(Id("\xC3")), false);
  EXPECT_EQ(first.text, "");  // half a character is held
  EXPECT_FALSE(first.finished);
  EXPECT_EQ(gen.Next(Forcing(Id("\xA9")), false).text, "\xC3\xA9");

  // A character left unfinished at the end becomes U+FFFD.
  gen.Next(Forcing(Id("\xC3")), false);
  bool stopped = true;
  EXPECT_EQ(gen.Flush(&stopped), "\xEF\xBF\xBD");
  EXPECT_FALSE(stopped);
}

TEST_F(SequenceGeneratorTest, BadSamplingParametersAreRefused) {
  SamplingParams p;
  p.top_p = 2.0f;
  EXPECT_EQ(SequenceGenerator::Create(*lm_, p, -1).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace foundry
