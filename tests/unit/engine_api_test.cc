// The engine is usable from a short program: load, tokenize, generate. Uses the committed
// tiny synthetic qwen2 model (random weights), so it checks plumbing, not language.
#include <gtest/gtest.h>

#include <string>

#include "../isa_under_test.h"
#include "foundry/engine.h"

namespace foundry {
namespace {

const std::string kTinyQwen2 =
    std::string(FOUNDRY_SOURCE_DIR) + "/tests/data/models/tiny-qwen2.gguf";

TEST(EngineApi, ThirtyLineProgramGenerates) {
  auto lm = LanguageModel::Load(kTinyQwen2, harness::TestLoadOptions());
  ASSERT_TRUE(lm.ok()) << lm.status().message();
  auto session = Session::Create(*lm, EngineOptions{});
  ASSERT_TRUE(session.ok()) << session.status().message();
  SamplingParams greedy;
  greedy.temperature = 0;
  std::string text;
  auto stats = (*session)->Generate((*lm)->Tokenize("Once upon a time", true, false), greedy, 8,
                                    [&](int32_t, std::string_view piece) {
                                      text += piece;
                                      return true;
                                    });
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_GT(stats->generated_tokens, 0);
  EXPECT_LE(stats->generated_tokens, 8);
  EXPECT_FALSE(text.empty());
}

std::vector<float> AllLogits(const std::shared_ptr<LanguageModel>& lm, int threads,
                             const std::vector<int32_t>& ids) {
  EngineOptions opts;
  opts.n_threads = threads;
  opts.n_batch = 7;  // several forward passes, one of them partial
  auto session = Session::Create(lm, opts);
  EXPECT_TRUE(session.ok());
  std::vector<float> logits;
  EXPECT_TRUE((*session)->Evaluate(ids, true, &logits).ok());
  return logits;
}

TEST(EngineApi, ThreadsAndBatchingDoNotChangeResults) {
  auto lm = LanguageModel::Load(kTinyQwen2, harness::TestLoadOptions());
  ASSERT_TRUE(lm.ok());
  const auto ids = (*lm)->Tokenize("The quick brown fox jumps over the lazy dog.", true, false);
  const auto one = AllLogits(*lm, 1, ids);
  EXPECT_EQ(one, AllLogits(*lm, 2, ids));
  EXPECT_EQ(one, AllLogits(*lm, 3, ids));
  // Token by token gives the same logits as batches: the forward pass is per-token exact.
  EngineOptions opts;
  opts.n_threads = 1;
  auto session = Session::Create(*lm, opts);
  ASSERT_TRUE(session.ok());
  std::vector<float> step, all;
  for (int32_t id : ids) {
    ASSERT_TRUE((*session)->Evaluate({id}, false, &step).ok());
    all.insert(all.end(), step.begin(), step.end());
  }
  EXPECT_EQ(one, all);
}

TEST(EngineApi, PromptPastTheContextIsAClearError) {
  auto lm = LanguageModel::Load(kTinyQwen2, harness::TestLoadOptions());
  ASSERT_TRUE(lm.ok());
  EngineOptions opts;
  opts.n_ctx = 16;
  auto session = Session::Create(*lm, opts);
  ASSERT_TRUE(session.ok());
  const std::vector<int32_t> ids(17, 65);
  std::vector<float> logits;
  const Status st = (*session)->Evaluate(ids, false, &logits);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kOutOfRange);
  EXPECT_NE(st.message().find("context"), std::string::npos) << st.message();
  // Nothing was consumed: the session can still take a prompt that fits.
  EXPECT_EQ((*session)->position(), 0);
  EXPECT_TRUE((*session)->Evaluate(std::vector<int32_t>(16, 65), false, &logits).ok());
}

TEST(EngineApi, BadTokenIdsAndFilesAreErrors) {
  auto lm = LanguageModel::Load(kTinyQwen2, harness::TestLoadOptions());
  ASSERT_TRUE(lm.ok());
  auto session = Session::Create(*lm, EngineOptions{});
  ASSERT_TRUE(session.ok());
  std::vector<float> logits;
  EXPECT_EQ((*session)->Evaluate({-1}, false, &logits).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*session)->Evaluate({1 << 30}, false, &logits).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LanguageModel::Load("/no/such/model.gguf").status().code(), StatusCode::kNotFound);
  const std::string vocab_only =
      std::string(FOUNDRY_SOURCE_DIR) +
      "/tests/data/tokenizer/ggml-vocab-llama-spm.gguf";  // arch llama, no weights
  auto no_weights = LanguageModel::Load(vocab_only);
  ASSERT_FALSE(no_weights.ok());
  EXPECT_NE(no_weights.status().message().find("missing"), std::string::npos)
      << no_weights.status().message();
}

}  // namespace
}  // namespace foundry
