// The runtime scheduler: continuous batching gives every request exactly the tokens it gets
// alone (checked against Session::Generate, an independent single-sequence path), and
// cancellation, the bounded queue, token limits, end-of-generation, stop strings and context
// limits behave.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "../isa_under_test.h"
#include "engine/internal.h"
#include "engine/stop_matcher.h"
#include "runtime/scheduler.h"
#include "tokenizer/tokenizer.h"

namespace foundry {
namespace {

const char* kTiny = FOUNDRY_SOURCE_DIR "/tests/data/models/tiny-qwen2.gguf";

std::shared_ptr<LanguageModel> LoadTiny() {
  auto lm = LanguageModel::Load(kTiny, harness::TestLoadOptions());
  EXPECT_TRUE(lm.ok()) << lm.status().message();
  return lm.ok() ? *lm : nullptr;
}

// Bans every end-of-generation token (eos, eot, <|im_end|>, ...), so that a request runs until
// it is cancelled or hits a limit: banning eos alone let the tiny model end its turn with
// another such token, earlier than a test's shutdown when the engine got faster.
void BanEndOfGeneration(const LanguageModel& lm, SamplingParams& p) {
  const Tokenizer& tok = TokenizerOf(lm);
  for (int32_t id = 0; id < tok.vocab_size(); ++id) {
    if (tok.IsEndOfGeneration(id)) p.logit_bias.push_back({id, -INFINITY});
  }
}

SamplingParams Greedy() {
  SamplingParams p;
  p.temperature = 0;
  return p;
}

// Collects one request's stream; thread-safe.
struct Collector {
  std::mutex mu;
  std::condition_variable cv;
  std::string text;
  int pieces = 0;
  bool done = false;
  GenerationResult result;

  void Attach(GenerationRequest& r) {
    r.on_text = [this](std::string_view t) {
      std::lock_guard<std::mutex> l(mu);
      text += t;
      ++pieces;
      cv.notify_all();
    };
    r.on_done = [this](const GenerationResult& res) {
      std::lock_guard<std::mutex> l(mu);
      result = res;
      done = true;
      cv.notify_all();
    };
  }
  bool WaitDone(int seconds = 120) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, std::chrono::seconds(seconds), [&] { return done; });
  }
  bool WaitPieces(int n, int seconds = 60) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, std::chrono::seconds(seconds), [&] { return pieces >= n || done; });
  }
};

std::vector<std::string> Prompts() {
  return {"Hello there, how are you today?",
          "The quick brown fox",
          "Once upon a time in a land far away, there lived a",
          "1 2 3 4 5 6 7 8 9 10 11 12",
          "a",
          "Write a poem about the sea and the sky.",
          "Paris is the capital of",
          "zebra quantum lattice"};
}

// Reference: the single-sequence Session path.
std::string SessionText(std::shared_ptr<LanguageModel> lm, const std::vector<int32_t>& prompt,
                        int64_t max_tokens, int64_t* n_tokens,
                        const SamplingParams& params = Greedy()) {
  EngineOptions opts;
  opts.n_threads = 2;
  opts.n_ctx = 512;
  auto s = Session::Create(lm, opts);
  EXPECT_TRUE(s.ok());
  std::string text;
  auto stats = (*s)->Generate(prompt, params, max_tokens, [&](int32_t, std::string_view p) {
    text += p;
    return true;
  });
  EXPECT_TRUE(stats.ok());
  *n_tokens = stats.ok() ? stats->generated_tokens : -1;
  return text;
}

TEST(Scheduler, ConcurrentGreedyRequestsMatchSerialRuns) {
  auto lm = LoadTiny();
  ASSERT_TRUE(lm);
  const auto prompts = Prompts();
  const int64_t kMax = 24;
  std::vector<std::vector<int32_t>> toks;
  std::vector<std::string> want;
  std::vector<int64_t> want_n;
  for (const auto& p : prompts) {
    toks.push_back(lm->Tokenize(p, true, false));
    int64_t n = 0;
    want.push_back(SessionText(lm, toks.back(), kMax, &n));
    want_n.push_back(n);
    EXPECT_GT(n, 0);
  }
  // Fewer slots than requests (queueing) and a small batch (prompts chunked across steps while
  // other slots decode).
  for (int n_batch : {7, 512}) {
    SchedulerOptions opts;
    opts.n_slots = 3;
    opts.n_ctx = 512;
    opts.n_threads = 2;
    opts.n_batch = n_batch;
    auto sched = Scheduler::Create(lm, opts);
    ASSERT_TRUE(sched.ok()) << sched.status().message();
    // Alone, one after the other.
    for (size_t i = 0; i < prompts.size(); ++i) {
      Collector c;
      GenerationRequest r;
      r.prompt = toks[i];
      r.sampling = Greedy();
      r.max_tokens = kMax;
      c.Attach(r);
      ASSERT_TRUE((*sched)->Submit(std::move(r)).ok());
      ASSERT_TRUE(c.WaitDone());
      EXPECT_EQ(c.text, want[i]) << "prompt " << i;
      EXPECT_EQ(c.result.completion_tokens, want_n[i]);
    }
    // All at once.
    std::vector<std::unique_ptr<Collector>> cs;
    for (size_t i = 0; i < prompts.size(); ++i) {
      cs.push_back(std::make_unique<Collector>());
      GenerationRequest r;
      r.prompt = toks[i];
      r.sampling = Greedy();
      r.max_tokens = kMax;
      cs.back()->Attach(r);
      ASSERT_TRUE((*sched)->Submit(std::move(r)).ok());
    }
    for (size_t i = 0; i < prompts.size(); ++i) {
      ASSERT_TRUE(cs[i]->WaitDone());
      EXPECT_TRUE(cs[i]->result.status.ok());
      EXPECT_EQ(cs[i]->text, want[i]) << "prompt " << i << " n_batch " << n_batch;
      EXPECT_EQ(cs[i]->result.completion_tokens, want_n[i]);
      EXPECT_EQ(cs[i]->result.prompt_tokens, static_cast<int64_t>(toks[i].size()));
      EXPECT_EQ(cs[i]->result.finish_reason,
                want_n[i] == kMax ? FinishReason::kLength : FinishReason::kStop);
    }
    // Requests really shared forward passes.
    EXPECT_GE((*sched)->stats().max_batch_slots, 2);
  }
}

// A seed makes sampling at temperature > 0 reproducible: the same text alone, among other
// requests decoded in the same forward passes, and on the Session path.
TEST(Scheduler, SeededSamplingIsTheSameAloneAndAmongOthers) {
  auto lm = LoadTiny();
  ASSERT_TRUE(lm);
  const int64_t kMax = 24;
  auto seeded = [&](uint64_t seed) {
    SamplingParams p;
    p.temperature = 1.5f;  // flat enough that a wrong draw shows in the text
    p.top_k = 0;
    p.min_p = 0;
    p.seed = seed;
    BanEndOfGeneration(*lm, p);
    return p;
  };
  const auto prompts = Prompts();
  std::vector<std::vector<int32_t>> toks;
  for (const auto& text : prompts) toks.push_back(lm->Tokenize(text, true, false));
  int64_t n = 0;
  const std::string want = SessionText(lm, toks[0], kMax, &n, seeded(42));
  EXPECT_EQ(n, kMax);
  // Another seed draws other tokens: the test can tell seeds apart.
  EXPECT_NE(SessionText(lm, toks[0], kMax, &n, seeded(43)), want);

  SchedulerOptions opts;
  opts.n_slots = 4;
  opts.n_ctx = 512;
  opts.n_threads = 2;
  opts.n_batch = 7;  // prompts chunked while other slots decode
  auto sched = Scheduler::Create(lm, opts);
  ASSERT_TRUE(sched.ok()) << sched.status().message();
  auto submit = [&](size_t prompt, uint64_t seed, Collector& c) {
    GenerationRequest r;
    r.prompt = toks[prompt];
    r.sampling = seeded(seed);
    r.max_tokens = kMax;
    c.Attach(r);
    ASSERT_TRUE((*sched)->Submit(std::move(r)).ok());
  };
  Collector alone;
  submit(0, 42, alone);
  ASSERT_TRUE(alone.WaitDone());
  EXPECT_EQ(alone.text, want);
  // The same request again, submitted between others with their own seeds.
  std::vector<std::unique_ptr<Collector>> others;
  for (size_t i = 1; i <= 5; ++i) others.push_back(std::make_unique<Collector>());
  Collector among;
  submit(1, 7, *others[0]);
  submit(2, 8, *others[1]);
  submit(0, 42, among);
  submit(3, 9, *others[2]);
  submit(4, 10, *others[3]);
  submit(5, 11, *others[4]);
  ASSERT_TRUE(among.WaitDone());
  for (auto& c : others) ASSERT_TRUE(c->WaitDone());
  EXPECT_EQ(among.text, want);
  EXPECT_EQ(among.result.completion_tokens, kMax);
  EXPECT_GE((*sched)->stats().max_batch_slots, 2);
}

TEST(Scheduler, CancellationStopsWithinAStep) {
  auto lm = LoadTiny();
  ASSERT_TRUE(lm);
  SchedulerOptions opts;
  opts.n_slots = 2;
  opts.n_ctx = 4096;
  opts.n_threads = 2;
  auto sched = Scheduler::Create(lm, opts);
  ASSERT_TRUE(sched.ok());
  Collector c;
  GenerationRequest r;
  r.prompt = lm->Tokenize("Tell me a very long story", true, false);
  r.sampling = Greedy();
  BanEndOfGeneration(*lm, r.sampling);
  r.max_tokens = -1;
  auto flag = std::make_shared<std::atomic<bool>>(false);
  r.cancelled = flag;
  c.Attach(r);
  ASSERT_TRUE((*sched)->Submit(std::move(r)).ok());
  ASSERT_TRUE(c.WaitPieces(3));
  flag->store(true);
  ASSERT_TRUE(c.WaitDone(30));
  EXPECT_EQ(c.result.finish_reason, FinishReason::kCancelled);
  EXPECT_LT(c.result.completion_tokens, 1000);
  // The slot is free again: a new request completes.
  Collector c2;
  GenerationRequest r2;
  r2.prompt = lm->Tokenize("Hi", true, false);
  r2.sampling = Greedy();
  r2.max_tokens = 3;
  c2.Attach(r2);
  ASSERT_TRUE((*sched)->Submit(std::move(r2)).ok());
  ASSERT_TRUE(c2.WaitDone());
  EXPECT_EQ(c2.result.completion_tokens, 3);
}

TEST(Scheduler, FullQueueRefusesAndShutdownCancels) {
  auto lm = LoadTiny();
  ASSERT_TRUE(lm);
  SchedulerOptions opts;
  opts.n_slots = 1;
  opts.max_queue = 1;
  opts.n_ctx = 4096;
  opts.n_threads = 1;
  auto sched = Scheduler::Create(lm, opts);
  ASSERT_TRUE(sched.ok());
  auto make = [&](Collector& c) {
    GenerationRequest r;
    r.prompt = lm->Tokenize("Tell me a story", true, false);
    r.sampling = Greedy();
    BanEndOfGeneration(*lm, r.sampling);
    r.max_tokens = -1;
    c.Attach(r);
    return r;
  };
  Collector a, b, c;
  ASSERT_TRUE((*sched)->Submit(make(a)).ok());
  ASSERT_TRUE(a.WaitPieces(1));                 // a holds the only slot
  ASSERT_TRUE((*sched)->Submit(make(b)).ok());  // b waits
  SubmitResult full = (*sched)->Submit(make(c));
  EXPECT_FALSE(full.ok());
  EXPECT_TRUE(full.queue_full);
  sched->reset();  // shutdown: both end as cancelled, callbacks called once
  ASSERT_TRUE(a.WaitDone(5));
  ASSERT_TRUE(b.WaitDone(5));
  EXPECT_EQ(a.result.finish_reason, FinishReason::kCancelled);
  EXPECT_EQ(b.result.finish_reason, FinishReason::kCancelled);
  EXPECT_FALSE(c.done);
}

TEST(Scheduler, MaxTokensEndOfGenerationAndContextLimits) {
  auto lm = LoadTiny();
  ASSERT_TRUE(lm);
  SchedulerOptions opts;
  opts.n_slots = 2;
  opts.n_ctx = 32;
  opts.n_threads = 2;
  auto sched = Scheduler::Create(lm, opts);
  ASSERT_TRUE(sched.ok());
  const auto prompt = lm->Tokenize("The quick brown fox", true, false);
  ASSERT_LT(prompt.size(), 16u);
  auto run = [&](GenerationRequest r) {
    Collector c;
    c.Attach(r);
    SubmitResult s = (*sched)->Submit(std::move(r));
    EXPECT_TRUE(s.ok()) << s.status.message();
    EXPECT_TRUE(c.WaitDone());
    return std::make_pair(c.result, c.text);
  };
  {  // max_tokens -> length, exactly that many tokens
    GenerationRequest r;
    r.prompt = prompt;
    r.sampling = Greedy();
    BanEndOfGeneration(*lm, r.sampling);
    r.max_tokens = 5;
    auto [res, text] = run(std::move(r));
    EXPECT_EQ(res.finish_reason, FinishReason::kLength);
    EXPECT_EQ(res.completion_tokens, 5);
  }
  {  // max_tokens 0 -> length, nothing generated
    GenerationRequest r;
    r.prompt = prompt;
    r.sampling = Greedy();
    r.max_tokens = 0;
    auto [res, text] = run(std::move(r));
    EXPECT_EQ(res.finish_reason, FinishReason::kLength);
    EXPECT_EQ(res.completion_tokens, 0);
    EXPECT_EQ(text, "");
  }
  {  // an end-of-generation token -> stop
    ASSERT_TRUE(TokenizerOf(*lm).IsEndOfGeneration(TokenizerOf(*lm).eos()))
        << TokenizerOf(*lm).eos();
    GenerationRequest r;
    r.prompt = prompt;
    r.sampling = Greedy();
    r.sampling.logit_bias.push_back({TokenizerOf(*lm).eos(), 1e6f});
    r.max_tokens = 10;
    auto [res, text] = run(std::move(r));
    EXPECT_EQ(res.finish_reason, FinishReason::kStop);
    EXPECT_EQ(res.completion_tokens, 0);
  }
  {  // unlimited: stops when the context is full
    GenerationRequest r;
    r.prompt = prompt;
    r.sampling = Greedy();
    BanEndOfGeneration(*lm, r.sampling);
    r.max_tokens = -1;
    auto [res, text] = run(std::move(r));
    EXPECT_EQ(res.finish_reason, FinishReason::kLength);
    EXPECT_EQ(res.completion_tokens, 32 - static_cast<int64_t>(prompt.size()) + 1);
  }
  {  // a prompt longer than the context: a clear error, nothing queued
    GenerationRequest r;
    r.prompt.assign(40, prompt[0]);
    r.sampling = Greedy();
    r.max_tokens = 1;
    bool called = false;
    r.on_done = [&](const GenerationResult&) { called = true; };
    SubmitResult s = (*sched)->Submit(std::move(r));
    EXPECT_EQ(s.status.code(), StatusCode::kOutOfRange);
    EXPECT_NE(s.status.message().find("40 tokens"), std::string::npos) << s.status.message();
    EXPECT_FALSE(s.queue_full);
    EXPECT_FALSE(called);
  }
  {  // invalid requests
    GenerationRequest r;
    r.sampling = Greedy();
    EXPECT_EQ((*sched)->Submit(std::move(r)).status.code(), StatusCode::kInvalidArgument);
    GenerationRequest r2;
    r2.prompt = prompt;
    r2.sampling.top_p = 2.0f;
    EXPECT_EQ((*sched)->Submit(std::move(r2)).status.code(), StatusCode::kInvalidArgument);
    GenerationRequest r3;
    r3.prompt = prompt;
    r3.sampling.logit_bias.push_back({1 << 30, 1.0f});
    EXPECT_EQ((*sched)->Submit(std::move(r3)).status.code(), StatusCode::kInvalidArgument);
  }
}

TEST(Scheduler, StopStringEndsBeforeIt) {
  auto lm = LoadTiny();
  ASSERT_TRUE(lm);
  SchedulerOptions opts;
  opts.n_slots = 2;
  opts.n_ctx = 256;
  opts.n_threads = 2;
  auto sched = Scheduler::Create(lm, opts);
  ASSERT_TRUE(sched.ok());
  const auto prompt = lm->Tokenize("Once upon a time", true, false);
  auto run = [&](std::vector<std::string> stop) {
    Collector c;
    GenerationRequest r;
    r.prompt = prompt;
    r.sampling = Greedy();
    BanEndOfGeneration(*lm, r.sampling);
    r.max_tokens = 30;
    r.stop = std::move(stop);
    c.Attach(r);
    EXPECT_TRUE((*sched)->Submit(std::move(r)).ok());
    EXPECT_TRUE(c.WaitDone());
    return std::make_pair(c.result, c.text);
  };
  auto [full_res, full] = run({});
  ASSERT_GE(full.size(), 12u);
  // A stop string from the middle of the greedy output (spanning token boundaries likely).
  const std::string stop = full.substr(full.size() / 2, 4);
  const size_t at = full.find(stop);
  auto [res, text] = run({"never-appears-xyz", stop});
  EXPECT_EQ(res.finish_reason, FinishReason::kStop);
  EXPECT_EQ(text, full.substr(0, at));
  EXPECT_LT(res.completion_tokens, full_res.completion_tokens);
}

TEST(StopMatcher, HoldsBackPossiblePrefixes) {
  StopMatcher m({"</end>", "", "xyz"});
  bool stopped = false;
  EXPECT_EQ(m.Push("hello <", &stopped), "hello ");
  EXPECT_FALSE(stopped);
  EXPECT_EQ(m.Push("/e", &stopped), "");
  EXPECT_EQ(m.Push("x", &stopped), "</e");  // "</ex" cannot become "</end>"; "x" may start "xyz"
  EXPECT_FALSE(stopped);
  EXPECT_EQ(m.Push("y", &stopped), "");
  EXPECT_EQ(m.Push("zwhatever", &stopped), "");
  EXPECT_TRUE(stopped);
  StopMatcher m2({"ab"});
  EXPECT_EQ(m2.Push("cca", &stopped), "cc");
  EXPECT_EQ(m2.Flush(), "a");
  StopMatcher none;
  EXPECT_EQ(none.Push("abc", &stopped), "abc");
}

}  // namespace
}  // namespace foundry
