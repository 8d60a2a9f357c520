// Session::Embed and the hidden-state output of Model::Forward on the committed tiny synthetic
// models (random weights, every architecture): properties, not values — the values are checked
// against llama.cpp in tests/golden/embedding_golden_test.cc.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "../isa_under_test.h"
#include "base/thread_pool.h"
#include "engine/internal.h"
#include "model/model.h"

namespace foundry {
namespace {

std::string Tiny(const std::string& name) {
  return std::string(FOUNDRY_SOURCE_DIR) + "/tests/data/models/" + name + ".gguf";
}

double Norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  return std::sqrt(s);
}

std::vector<float> EmbedWith(const std::shared_ptr<LanguageModel>& lm, int threads, int64_t n_batch,
                             const std::string& text, int64_t n_ctx = 0) {
  EngineOptions o;
  o.n_ctx = n_ctx;
  o.n_threads = threads;
  o.n_batch = n_batch;
  auto session = Session::Create(lm, o);
  EXPECT_TRUE(session.ok());
  auto v = (*session)->Embed(text);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? *v : std::vector<float>{};
}

class EmbedTest : public testing::TestWithParam<std::string> {};

TEST_P(EmbedTest, UnitLengthDeterministicAndIndependentOfBatching) {
  auto lm = LanguageModel::Load(Tiny(GetParam()), harness::TestLoadOptions());
  ASSERT_TRUE(lm.ok()) << lm.status().message();
  const std::string text = "The quick brown fox jumps over the lazy dog.";
  const auto v = EmbedWith(*lm, 1, 512, text);
  ASSERT_EQ(static_cast<int64_t>(v.size()), ModelOf(**lm).hparams().n_embd);
  EXPECT_NEAR(Norm(v), 1.0, 1e-6);
  // Same text, same vector: again in the same session, with other threads, and with the
  // prompt split over several forward passes (one partial).
  EXPECT_EQ(v, EmbedWith(*lm, 1, 512, text));
  EXPECT_EQ(v, EmbedWith(*lm, 2, 512, text));
  EXPECT_EQ(v, EmbedWith(*lm, 1, 3, text));
  // Another text gives another vector.
  const auto w = EmbedWith(*lm, 1, 512, "Completely different words here");
  double dot = 0;
  for (size_t i = 0; i < v.size(); ++i) dot += static_cast<double>(v[i]) * w[i];
  EXPECT_LT(dot, 0.9999);
}

TEST_P(EmbedTest, SessionIsReusableAndForgetsTheInput) {
  auto lm = LanguageModel::Load(Tiny(GetParam()), harness::TestLoadOptions());
  ASSERT_TRUE(lm.ok());
  auto session = Session::Create(*lm, EngineOptions{});
  ASSERT_TRUE(session.ok());
  std::vector<float> logits;
  ASSERT_TRUE(
      (*session)->Evaluate((*lm)->Tokenize("some earlier text", true, false), false, &logits).ok());
  auto a = (*session)->Embed("hello there");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*session)->position(), 0);
  auto b = (*session)->Embed("hello there");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *(*session)->Embed((*lm)->Tokenize("hello there", true, false)));
}

// Asking for hidden states does not change the logits by a single bit, and the hidden rows
// are the mean-pooled input of Embed (at the same context size: Phi-3's LongRoPE factors
// depend on it).
TEST_P(EmbedTest, HiddenOutputLeavesLogitsUnchanged) {
  auto lm = LanguageModel::Load(Tiny(GetParam()), harness::TestLoadOptions());
  ASSERT_TRUE(lm.ok());
  const Model& m = ModelOf(**lm);
  const int64_t E = m.hparams().n_embd, V = m.hparams().n_vocab;
  const auto ids = (*lm)->Tokenize("one two three four five", true, false);
  ThreadPool pool(2);
  auto run = [&](bool with_hidden, std::vector<float>* logits, std::vector<float>* hidden) {
    Batch b;
    for (size_t i = 0; i < ids.size(); ++i) b.Add(ids[i], static_cast<int32_t>(i), 0, true);
    auto kv = m.NewKvCache(1, 64);
    Workspace ws;
    logits->assign(ids.size() * V, 0.0f);
    hidden->assign(ids.size() * E, 0.0f);
    ASSERT_TRUE(
        m.Forward(b, *kv, ws, pool, logits->data(), with_hidden ? hidden->data() : nullptr).ok());
  };
  std::vector<float> l1, h1, l2, h2;
  run(false, &l1, &h1);
  run(true, &l2, &h2);
  EXPECT_EQ(l1, l2);
  // Mean of the rows, normalized, is Embed's answer (summed the same way, in double).
  std::vector<double> mean(E, 0.0);
  for (size_t t = 0; t < ids.size(); ++t) {
    for (int64_t i = 0; i < E; ++i) mean[i] += h2[t * E + i];
  }
  double n = 0;
  for (double& x : mean) {
    x /= static_cast<double>(ids.size());
    n += x * x;
  }
  n = std::sqrt(n);
  ASSERT_GT(n, 0);
  const auto v = EmbedWith(*lm, 2, 512, "one two three four five", 64);
  ASSERT_EQ(static_cast<int64_t>(v.size()), E);
  for (int64_t i = 0; i < E; ++i) EXPECT_FLOAT_EQ(v[i], static_cast<float>(mean[i] / n)) << i;
}

TEST_P(EmbedTest, BadInputsAreErrors) {
  auto lm = LanguageModel::Load(Tiny(GetParam()), harness::TestLoadOptions());
  ASSERT_TRUE(lm.ok());
  EngineOptions o;
  o.n_ctx = 16;
  auto session = Session::Create(*lm, o);
  ASSERT_TRUE(session.ok());
  EXPECT_EQ((*session)->Embed(std::vector<int32_t>{}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ((*session)->Embed(std::vector<int32_t>(17, 5)).status().code(),
            StatusCode::kOutOfRange);
  EXPECT_TRUE((*session)->Embed(std::vector<int32_t>(16, 5)).ok());
  EXPECT_EQ((*session)->Embed(std::vector<int32_t>{1, -1}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ((*session)->position(), 0);
}

INSTANTIATE_TEST_SUITE_P(Arches, EmbedTest,
                         testing::Values("tiny-llama", "tiny-qwen2", "tiny-gemma3", "tiny-phi3"),
                         [](const testing::TestParamInfo<std::string>& i) {
                           std::string s = i.param;
                           for (char& c : s) c = c == '-' ? '_' : c;
                           return s;
                         });

}  // namespace
}  // namespace foundry
