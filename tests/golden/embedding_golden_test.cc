// Sentence embeddings (Session::Embed: mean over the tokens of the output-normed hidden state,
// L2-normalized) against llama.cpp's mean-pooled, normalized embeddings for the same texts
// (tools/gen_embedding_goldens.py).
#include "golden_util.h"

namespace foundry {
namespace {

double Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

// Measured on SmolLM2-135M Q4_1 for the three texts: 1 - cosine <= 1e-14 with the AVX2 and
// AVX-512 kernels (they round as llama.cpp's AVX2 build does: the same vectors up to the
// golden's 7 printed digits) and <= 4.1e-4 with FOUNDRY_ISA=scalar (different float summation
// order, amplified by the quantized activations as for the logits, see golden_util.h). 0.999
// leaves 2.5x the scalar gap; different texts are at 0.52-0.89 from one another, and a pooling
// or norm bug moves the vector by far more than 1e-3.
constexpr double kMinCosine = 0.999;

TEST(EmbeddingGolden, SmolLM2MatchesLlamaCppMeanPooling) {
  const nlohmann::json g = golden::LoadGolden("SmolLM2-135M-Instruct.Q4_1-embeddings.json");
  auto lm = LanguageModel::Load(golden::ModelPath(g["model"].get<std::string>()),
                                harness::TestLoadOptions());
  ASSERT_TRUE(lm.ok()) << lm.status().message();
  auto session = Session::Create(*lm, EngineOptions{});
  ASSERT_TRUE(session.ok()) << session.status().message();
  ASSERT_EQ(g["cases"].size(), 3u);
  for (const auto& c : g["cases"]) {
    const std::string text = c["text"].get<std::string>();
    EXPECT_EQ((*lm)->Tokenize(text, true, false), c["ids"].get<std::vector<int32_t>>()) << text;
    auto ours = (*session)->Embed(text);
    ASSERT_TRUE(ours.ok()) << ours.status().message();
    const auto ref = c["embedding"].get<std::vector<float>>();
    ASSERT_EQ(ours->size(), ref.size());
    const double cos = Cosine(*ours, ref);
    std::printf("1 - cosine(foundry, llama.cpp) = %.2e for \"%s\"\n", 1 - cos, text.c_str());
    EXPECT_GE(cos, kMinCosine) << text;
  }
}

// The texts' embeddings are distinct from one another (the check above is not satisfied by a
// vector that ignores its input).
TEST(EmbeddingGolden, DifferentTextsGiveDifferentVectors) {
  const nlohmann::json g = golden::LoadGolden("SmolLM2-135M-Instruct.Q4_1-embeddings.json");
  auto lm = LanguageModel::Load(golden::ModelPath(g["model"].get<std::string>()),
                                harness::TestLoadOptions());
  ASSERT_TRUE(lm.ok()) << lm.status().message();
  auto session = Session::Create(*lm, EngineOptions{});
  ASSERT_TRUE(session.ok());
  auto a = (*session)->Embed(g["cases"][0]["text"].get<std::string>());
  auto b = (*session)->Embed(g["cases"][1]["text"].get<std::string>());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_LT(Cosine(*a, *b), 0.99);
}

}  // namespace
}  // namespace foundry
