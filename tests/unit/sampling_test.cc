#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "sampling/sampler.h"

namespace foundry {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> RandomLogits(size_t n, uint32_t seed, float scale = 3.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);  // test data only: any values will do
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

SamplingParams NoFilters(float temperature = 1.0f) {
  SamplingParams p;
  p.temperature = temperature;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 1234;
  return p;
}

Sampler Make(const SamplingParams& p, int32_t n_vocab) {
  auto s = Sampler::Create(p, n_vocab);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return std::move(s).value();
}

std::set<int32_t> CandidateIds(Sampler& s, const std::vector<float>& logits) {
  std::vector<TokenCandidate> c;
  s.Candidates(logits.data(), &c);
  std::set<int32_t> ids;
  for (const auto& x : c) ids.insert(x.id);
  return ids;
}

// Ids ordered by descending logit, ties by ascending id (independent of the sampler's code).
std::vector<int32_t> ByLogitDesc(const std::vector<float>& logits) {
  std::vector<int32_t> idx(logits.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) {
    return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)];
  });
  return idx;
}

// --- Validation --------------------------------------------------------------------------------

TEST(SamplingParamsTest, DefaultsAreValidAndLlamaCppLike) {
  SamplingParams p;
  EXPECT_TRUE(Sampler::Validate(p).ok());
  EXPECT_FLOAT_EQ(p.temperature, 0.8f);
  EXPECT_EQ(p.top_k, 40);
  EXPECT_FLOAT_EQ(p.top_p, 0.95f);
  EXPECT_FLOAT_EQ(p.min_p, 0.05f);
  EXPECT_FLOAT_EQ(p.repeat_penalty, 1.0f);
  EXPECT_EQ(p.repeat_last_n, 64);
  EXPECT_EQ(p.seed, SamplingParams::kRandomSeed);
}

TEST(SamplingParamsTest, RejectsInvalid) {
  struct Case {
    const char* what;
    void (*mutate)(SamplingParams&);
    const char* message_part;
  };
  const Case cases[] = {
      {"negative temperature", [](SamplingParams& p) { p.temperature = -0.1f; }, "temperature"},
      {"nan temperature", [](SamplingParams& p) { p.temperature = NAN; }, "temperature"},
      {"inf temperature", [](SamplingParams& p) { p.temperature = kInf; }, "temperature"},
      {"negative top_k", [](SamplingParams& p) { p.top_k = -1; }, "top_k"},
      {"zero top_p", [](SamplingParams& p) { p.top_p = 0.0f; }, "top_p"},
      {"top_p above 1", [](SamplingParams& p) { p.top_p = 1.01f; }, "top_p"},
      {"nan top_p", [](SamplingParams& p) { p.top_p = NAN; }, "top_p"},
      {"negative min_p", [](SamplingParams& p) { p.min_p = -0.01f; }, "min_p"},
      {"min_p above 1", [](SamplingParams& p) { p.min_p = 1.5f; }, "min_p"},
      {"zero repeat_penalty", [](SamplingParams& p) { p.repeat_penalty = 0.0f; }, "repeat_penalty"},
      {"repeat_last_n -2", [](SamplingParams& p) { p.repeat_last_n = -2; }, "repeat_last_n"},
      {"inf presence", [](SamplingParams& p) { p.presence_penalty = kInf; }, "presence_penalty"},
      {"nan frequency", [](SamplingParams& p) { p.frequency_penalty = NAN; }, "frequency_penalty"},
      {"negative bias id",
       [](SamplingParams& p) {
         p.logit_bias = {{-1, 1.0f}};
       },
       "logit_bias"},
      {"nan bias",
       [](SamplingParams& p) {
         p.logit_bias = {{3, NAN}};
       },
       "logit_bias"},
      {"+inf bias",
       [](SamplingParams& p) {
         p.logit_bias = {{3, kInf}};
       },
       "logit_bias"},
  };
  for (const Case& c : cases) {
    SamplingParams p;
    c.mutate(p);
    const Status st = Sampler::Validate(p);
    EXPECT_FALSE(st.ok()) << c.what;
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_NE(st.message().find(c.message_part), std::string::npos)
        << c.what << ": " << st.message();
    EXPECT_FALSE(Sampler::Create(p, 100).ok()) << c.what;
  }
}

TEST(SamplingParamsTest, AcceptsEdgeValues) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 1.0f;
  p.repeat_last_n = -1;
  p.logit_bias = {{5, -kInf}, {0, -3.0f}};
  EXPECT_TRUE(Sampler::Validate(p).ok());
  EXPECT_TRUE(Sampler::Create(p, 6).ok());
}

TEST(SamplingParamsTest, CreateChecksVocabulary) {
  SamplingParams p;
  p.logit_bias = {{10, 1.0f}};
  EXPECT_FALSE(Sampler::Create(p, 10).ok());
  EXPECT_TRUE(Sampler::Create(p, 11).ok());
  EXPECT_FALSE(Sampler::Create(SamplingParams(), 0).ok());
}

// --- Greedy and top-k ---------------------------------------------------------------------------

TEST(SamplerTest, GreedyPicksArgmaxWithTiesToLowestId) {
  SamplingParams p;
  p.temperature = 0.0f;
  Sampler s = Make(p, 6);
  const std::vector<float> logits = {0.1f, 2.0f, -1.0f, 2.0f, 1.9f, 0.0f};
  const std::vector<float> copy = logits;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(s.Sample(logits.data()), 1);
  EXPECT_EQ(logits, copy);  // input untouched

  const std::vector<float> big = RandomLogits(262144, 7);
  Sampler s2 = Make(p, 262144);
  const int32_t expect =
      static_cast<int32_t>(std::max_element(big.begin(), big.end()) - big.begin());
  EXPECT_EQ(s2.Sample(big.data()), expect);
}

TEST(SamplerTest, TopKOneEqualsGreedyAtAnyTemperature) {
  for (float temp : {0.1f, 0.8f, 1.0f, 5.0f, 1000.0f}) {
    SamplingParams p = NoFilters(temp);
    p.top_k = 1;
    p.seed = static_cast<uint64_t>(temp * 100);
    Sampler s = Make(p, 5000);
    for (uint32_t trial = 0; trial < 20; ++trial) {
      const std::vector<float> logits = RandomLogits(5000, trial);
      EXPECT_EQ(s.Sample(logits.data()), ByLogitDesc(logits)[0]) << temp;
    }
  }
}

TEST(SamplerTest, TopKKeepsTheKLargest) {
  for (int32_t k : {1, 5, 40, 5000}) {  // 5000 > heap limit path
    SamplingParams p = NoFilters();
    p.top_k = k;
    const size_t n = 20000;
    Sampler s = Make(p, static_cast<int32_t>(n));
    std::vector<float> logits = RandomLogits(n, 99);
    // Ties at the boundary resolve to lower ids.
    const std::vector<int32_t> order = ByLogitDesc(logits);
    logits[static_cast<size_t>(order[static_cast<size_t>(k)])] =
        logits[static_cast<size_t>(order[static_cast<size_t>(k - 1)])];
    const std::vector<int32_t> order2 = ByLogitDesc(logits);
    const std::set<int32_t> expect(order2.begin(), order2.begin() + k);
    EXPECT_EQ(CandidateIds(s, logits), expect) << k;
  }
}

TEST(SamplerTest, TopKLargerThanVocabKeepsAll) {
  SamplingParams p = NoFilters();
  p.top_k = 100;
  Sampler s = Make(p, 10);
  EXPECT_EQ(CandidateIds(s, RandomLogits(10, 3)).size(), 10u);
}

// --- top-p and min-p ----------------------------------------------------------------------------

std::vector<float> LogitsFromProbs(const std::vector<double>& probs) {
  std::vector<float> l;
  for (double q : probs) l.push_back(static_cast<float>(std::log(q)) + 1.5f);
  return l;
}

TEST(SamplerTest, TopPKeepsSmallestPrefixReachingP) {
  // Probabilities 0.5, 0.3, 0.15, 0.05 in shuffled ids.
  const std::vector<float> logits = LogitsFromProbs({0.15, 0.5, 0.05, 0.3});
  auto ids = [&](float top_p) {
    SamplingParams p = NoFilters();
    p.top_p = top_p;
    Sampler s = Make(p, 4);
    return CandidateIds(s, logits);
  };
  EXPECT_EQ(ids(0.3f), (std::set<int32_t>{1}));
  EXPECT_EQ(ids(0.75f), (std::set<int32_t>{1, 3}));
  EXPECT_EQ(ids(0.9f), (std::set<int32_t>{0, 1, 3}));
  EXPECT_EQ(ids(0.97f), (std::set<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(ids(1.0f), (std::set<int32_t>{0, 1, 2, 3}));
}

// Independent reference: full sort, softmax in double.
std::set<int32_t> ReferenceTopP(const std::vector<float>& logits, const std::vector<int32_t>& pool,
                                double top_p) {
  std::vector<int32_t> order = pool;
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)];
  });
  const double mx = logits[static_cast<size_t>(order[0])];
  double total = 0;
  for (int32_t i : order) total += std::exp(logits[static_cast<size_t>(i)] - mx);
  std::set<int32_t> out;
  double cum = 0;
  for (int32_t i : order) {
    out.insert(i);
    cum += std::exp(logits[static_cast<size_t>(i)] - mx) / total;
    if (cum >= top_p) break;
  }
  return out;
}

TEST(SamplerTest, TopPOnLargeVocabularyMatchesReference) {
  const size_t n = 50000;
  for (float top_p : {0.1f, 0.5f, 0.9f, 0.99f}) {
    for (float scale : {1.0f, 4.0f}) {  // flat distributions need a long sorted prefix
      const std::vector<float> logits = RandomLogits(n, 5, scale);
      SamplingParams p = NoFilters();
      p.top_p = top_p;
      Sampler s = Make(p, static_cast<int32_t>(n));
      std::vector<int32_t> all(n);
      std::iota(all.begin(), all.end(), 0);
      EXPECT_EQ(CandidateIds(s, logits), ReferenceTopP(logits, all, top_p))
          << top_p << " " << scale;
    }
  }
}

TEST(SamplerTest, MinPKeepsTokensWithinRatioOfMax) {
  const std::vector<float> logits = LogitsFromProbs({0.4, 0.3, 0.1, 0.05, 0.15});
  auto ids = [&](float min_p) {
    SamplingParams p = NoFilters();
    p.min_p = min_p;
    Sampler s = Make(p, 5);
    return CandidateIds(s, logits);
  };
  EXPECT_EQ(ids(0.9f), (std::set<int32_t>{0}));           // >= 0.36
  EXPECT_EQ(ids(0.5f), (std::set<int32_t>{0, 1}));        // >= 0.2
  EXPECT_EQ(ids(0.3f), (std::set<int32_t>{0, 1, 4}));     // >= 0.12
  EXPECT_EQ(ids(0.2f), (std::set<int32_t>{0, 1, 2, 4}));  // >= 0.08
  EXPECT_EQ(ids(0.1f), (std::set<int32_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(ids(1.0f), (std::set<int32_t>{0}));
}

void CheckFullChain(const SamplingParams& p, float scale) {
  const size_t n = 262144;
  const std::vector<float> logits = RandomLogits(n, 11, scale);
  Sampler s = Make(p, static_cast<int32_t>(n));
  // Reference chain.
  const std::vector<int32_t> order = ByLogitDesc(logits);
  const size_t k = p.top_k > 0 ? static_cast<size_t>(p.top_k) : n;
  const std::vector<int32_t> top_k(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k));
  const std::set<int32_t> after_p = ReferenceTopP(logits, top_k, p.top_p);
  const double mx = logits[static_cast<size_t>(order[0])];
  std::set<int32_t> expect;
  for (int32_t i : after_p) {
    if (std::exp(logits[static_cast<size_t>(i)] - mx) >= p.min_p) expect.insert(i);
  }
  std::vector<TokenCandidate> cands;
  s.Candidates(logits.data(), &cands);
  std::set<int32_t> got;
  for (const auto& c : cands) got.insert(c.id);
  EXPECT_EQ(got, expect);
  EXPECT_GT(expect.size(), 1u);  // a non-trivial candidate set
  // Probabilities: softmax(logit / T) over the kept set, sorted descending.
  double z = 0;
  for (int32_t i : expect) z += std::exp((logits[static_cast<size_t>(i)] - mx) / p.temperature);
  double sum = 0;
  for (size_t i = 0; i < cands.size(); ++i) {
    const double want =
        std::exp((logits[static_cast<size_t>(cands[i].id)] - mx) / p.temperature) / z;
    EXPECT_NEAR(cands[i].p, want, 1e-5);
    if (i > 0) {
      EXPECT_GE(cands[i - 1].p, cands[i].p);
    }
    sum += cands[i].p;
  }
  EXPECT_NEAR(sum, 1.0, 1e-5);
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(expect.count(s.Sample(logits.data())));
}

TEST(SamplerTest, FullChainOnGemmaSizedVocabularyMatchesReference) {
  SamplingParams p;  // defaults: top_k 40, top_p 0.95, min_p 0.05, temperature 0.8
  p.seed = 42;
  CheckFullChain(p, 2.5f);
  p.top_k = 0;  // top-p over the whole vocabulary, then min-p
  p.min_p = 0.01f;
  CheckFullChain(p, 2.5f);
  p.top_p = 0.5f;
  p.min_p = 0.0f;
  p.temperature = 1.7f;
  CheckFullChain(p, 1.0f);
  p.top_k = 6000;  // beyond the heap path
  p.top_p = 0.9f;
  CheckFullChain(p, 1.0f);
}

// --- Penalties and bias -------------------------------------------------------------------------

std::map<int32_t, float> CandidateLogits(Sampler& s, const std::vector<float>& logits) {
  std::vector<TokenCandidate> c;
  s.Candidates(logits.data(), &c);
  std::map<int32_t, float> m;
  for (const auto& x : c) m[x.id] = x.logit;
  return m;
}

TEST(SamplerTest, PenaltiesChangeOnlyTokensInTheWindow) {
  const std::vector<float> logits = {0.5f, 2.0f, -1.0f, 0.5f, 0.5f, 3.0f, 0.0f};
  SamplingParams p = NoFilters();
  p.repeat_penalty = 2.0f;
  p.frequency_penalty = 0.1f;
  p.presence_penalty = 0.5f;
  p.repeat_last_n = 3;
  Sampler s = Make(p, 7);
  for (int32_t t : {5, 1, 1, 2}) s.Accept(t);  // window: 1, 1, 2
  std::map<int32_t, float> m = CandidateLogits(s, logits);
  EXPECT_FLOAT_EQ(m[1], 2.0f / 2.0f - 2 * 0.1f - 0.5f);
  EXPECT_FLOAT_EQ(m[2], -1.0f * 2.0f - 1 * 0.1f - 0.5f);
  EXPECT_FLOAT_EQ(m[5], 3.0f);  // outside the window
  EXPECT_FLOAT_EQ(m[0], 0.5f);
  EXPECT_FLOAT_EQ(m[6], 0.0f);

  // -1: the whole history.
  p.repeat_last_n = -1;
  Sampler all = Make(p, 7);
  for (int32_t t : {5, 1, 1, 2}) all.Accept(t);
  EXPECT_FLOAT_EQ(CandidateLogits(all, logits)[5], 3.0f / 2.0f - 0.1f - 0.5f);

  // 0: disabled.
  p.repeat_last_n = 0;
  Sampler none = Make(p, 7);
  for (int32_t t : {5, 1, 1, 2}) none.Accept(t);
  EXPECT_FLOAT_EQ(CandidateLogits(none, logits)[1], 2.0f);

  // Reset forgets the history.
  s.Reset();
  EXPECT_FLOAT_EQ(CandidateLogits(s, logits)[1], 2.0f);
}

TEST(SamplerTest, RepeatPenaltyAvoidsRepeatsUnderGreedy) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.repeat_penalty = 1.5f;
  Sampler s = Make(p, 3);
  const std::vector<float> logits = {1.0f, 1.4f, 0.2f};
  EXPECT_EQ(s.Sample(logits.data()), 1);
  s.Accept(1);
  EXPECT_EQ(s.Sample(logits.data()), 0);  // 1.4 / 1.5 < 1.0
  s.Accept(0);
  EXPECT_EQ(s.Sample(logits.data()), 1);  // 0.933 > 0.667
}

TEST(SamplerTest, LongHistoryKeepsWindowSemantics) {
  SamplingParams p = NoFilters();
  p.presence_penalty = 1.0f;
  p.repeat_last_n = 4;
  Sampler s = Make(p, 10);
  for (int i = 0; i < 1000; ++i) s.Accept(i % 10);  // last four: 6 7 8 9
  const std::vector<float> zeros(10, 0.0f);
  std::map<int32_t, float> m = CandidateLogits(s, zeros);
  for (int32_t t = 0; t < 10; ++t) EXPECT_FLOAT_EQ(m[t], t >= 6 ? -1.0f : 0.0f) << t;
  EXPECT_LE(s.history().size(), 64u);
}

TEST(SamplerTest, LogitBiasAndBans) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.logit_bias = {{2, 5.0f}};
  const std::vector<float> logits = {1.0f, 3.0f, 0.0f};
  EXPECT_EQ(Make(p, 3).Sample(logits.data()), 2);
  p.logit_bias = {{1, -kInf}};
  EXPECT_EQ(Make(p, 3).Sample(logits.data()), 0);

  SamplingParams q = NoFilters(2.0f);
  q.logit_bias = {{1, -kInf}, {0, -kInf}};
  Sampler s = Make(q, 3);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(s.Sample(logits.data()), 2);
}

TEST(SamplerTest, NanAndAllMinusInfinityStayInRange) {
  Sampler s = Make(NoFilters(), 4);
  const std::vector<float> nan_logits = {NAN, 1.0f, NAN, 0.5f};
  for (int i = 0; i < 100; ++i) {
    const int32_t t = s.Sample(nan_logits.data());
    EXPECT_TRUE(t == 1 || t == 3);
  }
  const std::vector<float> banned(4, -kInf);
  for (int i = 0; i < 100; ++i) {
    const int32_t t = s.Sample(banned.data());
    EXPECT_GE(t, 0);
    EXPECT_LT(t, 4);
  }
}

// --- Randomness -------------------------------------------------------------------------------

std::vector<int32_t> Generate(uint64_t seed, int steps, int32_t n_vocab = 1000) {
  SamplingParams p;
  p.seed = seed;
  p.temperature = 1.0f;
  p.repeat_penalty = 1.1f;
  Sampler s = Make(p, n_vocab);
  std::vector<int32_t> out;
  for (int i = 0; i < steps; ++i) {
    const std::vector<float> logits = RandomLogits(static_cast<size_t>(n_vocab), 1000u + i, 1.0f);
    const int32_t t = s.Sample(logits.data());
    s.Accept(t);
    out.push_back(t);
  }
  return out;
}

TEST(SamplerTest, SameSeedSameTokensDifferentSeedDifferentTokens) {
  const std::vector<int32_t> a = Generate(7, 200);
  EXPECT_EQ(a, Generate(7, 200));
  EXPECT_NE(a, Generate(8, 200));
}

TEST(SamplerTest, ResetRestartsTheRandomStream) {
  SamplingParams p = NoFilters();
  p.seed = 99;
  Sampler s = Make(p, 50);
  const std::vector<float> logits = RandomLogits(50, 1, 0.5f);
  std::vector<int32_t> first, second;
  for (int i = 0; i < 100; ++i) first.push_back(s.Sample(logits.data()));
  s.Reset();
  for (int i = 0; i < 100; ++i) second.push_back(s.Sample(logits.data()));
  EXPECT_EQ(first, second);
  EXPECT_EQ(s.seed(), 99u);
}

TEST(SamplerTest, RandomSeedIsDrawnAndReported) {
  SamplingParams p;
  EXPECT_EQ(p.seed, SamplingParams::kRandomSeed);
  Sampler a = Make(p, 10);
  Sampler b = Make(p, 10);
  EXPECT_NE(a.seed(), b.seed());  // 2^-64 chance of a false failure
}

TEST(SamplerTest, EngineIsTheStandardMt19937_64) {
  // The C++ standard fixes the 10000th output of a default-constructed mt19937_64.
  std::mt19937_64 e;
  e.discard(9999);
  EXPECT_EQ(e(), 9981545732273789042ull);
}

// Draw counts against softmax probabilities: Pearson chi-square with a fixed seed.
void CheckDistribution(float temperature, int32_t top_k) {
  const std::vector<float> logits = {1.0f, 0.2f, -0.5f, 2.0f, 0.0f, 1.3f, -2.0f, 0.7f};
  const size_t n = logits.size();
  SamplingParams p = NoFilters(temperature);
  p.top_k = top_k;
  p.seed = 2024;
  Sampler s = Make(p, static_cast<int32_t>(n));
  const std::vector<int32_t> order = ByLogitDesc(logits);
  const size_t kept = top_k > 0 ? static_cast<size_t>(top_k) : n;
  std::vector<double> prob(n, 0.0);
  double z = 0;
  for (size_t r = 0; r < kept; ++r) {
    const size_t i = static_cast<size_t>(order[r]);
    prob[i] = std::exp(static_cast<double>(logits[i]) / temperature);
    z += prob[i];
  }
  for (double& q : prob) q /= z;
  constexpr int kDraws = 200000;
  std::vector<int> counts(n, 0);
  for (int i = 0; i < kDraws; ++i) ++counts[static_cast<size_t>(s.Sample(logits.data()))];
  double chi2 = 0;
  for (size_t i = 0; i < n; ++i) {
    if (prob[i] == 0) {
      EXPECT_EQ(counts[i], 0) << i;
      continue;
    }
    const double expected = prob[i] * kDraws;
    chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  // At most 7 degrees of freedom: P(chi2 > 29) < 1e-4 for a correct sampler.
  EXPECT_LT(chi2, 29.0) << "temperature " << temperature << " top_k " << top_k;
}

TEST(SamplerTest, EmpiricalDistributionMatchesSoftmax) {
  CheckDistribution(1.0f, 0);
  CheckDistribution(0.5f, 0);
  CheckDistribution(2.0f, 0);
  CheckDistribution(1.0f, 4);
}

TEST(SamplerTest, DistributionTestCanFail) {
  // The same statistic rejects a wrong temperature: guards against a vacuous chi-square check.
  const std::vector<float> logits = {1.0f, 0.2f, -0.5f, 2.0f, 0.0f, 1.3f, -2.0f, 0.7f};
  SamplingParams p = NoFilters(1.2f);
  p.seed = 2024;
  Sampler s = Make(p, 8);
  std::vector<double> prob(8);
  double z = 0;
  for (size_t i = 0; i < 8; ++i) z += prob[i] = std::exp(static_cast<double>(logits[i]));
  std::vector<int> counts(8, 0);
  for (int i = 0; i < 200000; ++i) ++counts[static_cast<size_t>(s.Sample(logits.data()))];
  double chi2 = 0;
  for (size_t i = 0; i < 8; ++i) {
    const double e = prob[i] / z * 200000;
    chi2 += (counts[i] - e) * (counts[i] - e) / e;
  }
  EXPECT_GT(chi2, 29.0);
}

}  // namespace
}  // namespace foundry
