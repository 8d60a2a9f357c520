// Perplexity's chunk plan and its errors, the KL-divergence statistic, and the saved
// log-probability file. (Agreement with llama-perplexity: eval_perplexity_golden_test.cc.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "../isa_under_test.h"
#include "eval/kl_divergence.h"
#include "eval/log_prob_file.h"
#include "eval/perplexity.h"
#include "eval_fixtures.h"

namespace foundry::eval {
namespace {

using fixtures::kText;
using fixtures::LoadModel;

TEST(Perplexity, TooShortATextIsAnActionableError) {
  auto lm = LoadModel("SmolLM2-135M-Instruct.Q4_1.gguf");
  ASSERT_NE(lm, nullptr);
  PerplexityOptions options;
  auto plan = PlanChunks(*lm, "Only a few words.", options);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("needs at least 1024"), std::string::npos)
      << plan.status().message();
  options.n_ctx = 1 << 20;
  plan = PlanChunks(*lm, kText, options);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("training context"), std::string::npos);
}

TEST(KlDivergence, IsZeroForTheSameDistributionAndPositiveOtherwise) {
  const std::vector<float> logits = {1.0f, 2.0f, 0.5f, -1.0f};
  std::vector<float> log_probs(logits.size());
  double norm = 0;
  for (float v : logits) norm += std::exp(v);
  for (size_t i = 0; i < logits.size(); ++i) log_probs[i] = logits[i] - std::log(norm);
  KlDivergence same;
  same.Add(log_probs, logits, 1);
  EXPECT_NEAR(same.Summary().mean_kld, 0.0, 1e-7);
  EXPECT_DOUBLE_EQ(same.Summary().top1_agreement, 1.0);
  EXPECT_NEAR(same.Summary().reference_ppl, std::exp(-log_probs[1]), 1e-5);

  // KL(p || q) for p = softmax(logits), q = softmax(other), by the definition.
  const std::vector<float> other = {3.0f, 0.0f, 0.0f, 0.0f};
  double q_norm = 0;
  for (float v : other) q_norm += std::exp(v);
  double want = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    want += std::exp(log_probs[i]) * (log_probs[i] - (other[i] - std::log(q_norm)));
  }
  KlDivergence differ;
  differ.Add(log_probs, other, 1);
  EXPECT_NEAR(differ.Summary().mean_kld, want, 1e-6);
  EXPECT_GT(want, 0.1);
  EXPECT_DOUBLE_EQ(differ.Summary().top1_agreement, 0.0);
}

TEST(LogProbFile, RoundTripsAndRefusesAnotherPlan) {
  ChunkPlan plan;
  plan.n_ctx = 4;
  plan.n_chunks = 1;
  plan.tokens = {5, 6, 7, 8};
  const std::string path =
      (std::filesystem::temp_directory_path() / ("foundry-logp-" + std::to_string(getpid())))
          .string();
  {
    auto w = LogProbWriter::Create(path, plan, 3);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(std::vector<float>{0.0f, 1.0f, 2.0f}).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  auto r = LogProbReader::Open(path, plan, 3);
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::vector<float> row;
  ASSERT_TRUE((*r)->Next(&row).ok());
  const double norm = std::log(1 + std::exp(1.0) + std::exp(2.0));
  EXPECT_NEAR(row[0], -norm, 2e-3);
  EXPECT_NEAR(row[2], 2 - norm, 2e-3);
  EXPECT_FALSE((*r)->Next(&row).ok());  // only one position was written

  EXPECT_FALSE(LogProbReader::Open(path, plan, 4).ok());  // another vocabulary
  ChunkPlan other = plan;
  other.tokens[2] = 9;
  auto mismatch = LogProbReader::Open(path, other, 3);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("other tokens"), std::string::npos);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace foundry::eval
