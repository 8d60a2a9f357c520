// Prompt caching in the Scheduler: a request that continues an earlier one (the next turn of a
// chat) finds the earlier prompt's KV in a slot and computes only the rest, and its tokens are
// exactly those it gets without the cache: turn after turn, for conversations running side by
// side, for prompts sharing prefixes of every length, and past a sliding window. Reuse stops
// where llama.cpp's batch-dependent summation orders would differ (Scheduler::ReusableLength). Real
// SmolLM2 where downloaded (make models), else skipped; the synthetic tiny models always.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../isa_under_test.h"
#include "engine/internal.h"
#include "foundry/engine.h"
#include "runtime/scheduler.h"
#include "tokenizer/tokenizer.h"

namespace foundry {
namespace {

struct Answer {
  std::string text;
  GenerationResult result;
};

// Collects one request's answer; thread-safe.
struct Collector {
  std::mutex mu;
  std::condition_variable cv;
  Answer answer;
  bool done = false;

  void Attach(GenerationRequest& r) {
    r.on_text = [this](std::string_view t) {
      std::lock_guard<std::mutex> l(mu);
      answer.text += t;
    };
    r.on_done = [this](const GenerationResult& res) {
      std::lock_guard<std::mutex> l(mu);
      answer.result = res;
      done = true;
      cv.notify_all();
    };
  }
  Answer Wait() {
    std::unique_lock<std::mutex> l(mu);
    EXPECT_TRUE(cv.wait_for(l, std::chrono::seconds(600), [&] { return done; }));
    return answer;
  }
};

std::unique_ptr<Scheduler> NewScheduler(std::shared_ptr<const LanguageModel> lm, bool cache,
                                        int slots, int64_t n_batch, int64_t n_interleave = 64) {
  SchedulerOptions opts;
  opts.n_interleave = n_interleave;
  opts.n_slots = slots;
  opts.n_ctx = 1024;
  opts.n_threads = 2;
  opts.n_batch = n_batch;
  opts.cache_prompt = cache;
  auto s = Scheduler::Create(std::move(lm), opts);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? std::move(s).value() : nullptr;
}

// Submits every prompt at once and returns the answers in order (greedy).
std::vector<Answer> RunTogether(Scheduler& s, const std::vector<std::vector<int32_t>>& prompts,
                                int64_t max_tokens) {
  std::vector<std::unique_ptr<Collector>> cs;
  for (const auto& p : prompts) {
    cs.push_back(std::make_unique<Collector>());
    GenerationRequest g;
    g.prompt = p;
    g.sampling.temperature = 0;
    g.max_tokens = max_tokens;
    cs.back()->Attach(g);
    EXPECT_TRUE(s.Submit(std::move(g)).ok());
  }
  std::vector<Answer> out;
  for (auto& c : cs) out.push_back(c->Wait());
  return out;
}

std::shared_ptr<LanguageModel> LoadModel(const std::string& path) {
  auto lm = LanguageModel::Load(path, harness::TestLoadOptions());
  EXPECT_TRUE(lm.ok()) << lm.status().message();
  return lm.ok() ? *lm : nullptr;
}

// `n_chats` chats sharing a system prompt run side by side for `turns` turns through one
// scheduler with the cache and one without; every answer must be identical, and from the
// second turn on the cached run must have reused the earlier turns' prompts.
void ExpectChatsSameWithAndWithoutCache(std::shared_ptr<LanguageModel> lm, int n_chats, int turns,
                                        int slots, int64_t n_batch, int64_t max_tokens) {
  const std::vector<std::string> questions = {"What is the capital of France?",
                                              "Name three colors.",
                                              "Why is the sky blue?",
                                              "Count from 1 to 5.",
                                              "What do cats eat?",
                                              "Give me a word that rhymes with tree."};
  auto cached = NewScheduler(lm, true, slots, n_batch);
  auto plain = NewScheduler(lm, false, slots, n_batch);
  ASSERT_TRUE(cached && plain);
  std::vector<std::vector<ChatTurn>> chats(n_chats);
  std::vector<int64_t> previous(n_chats, 0);  // each chat's previous prompt length
  for (auto& c : chats) {
    c.push_back({"system", "You are a helpful assistant who answers briefly and politely."});
  }
  for (int turn = 0; turn < turns; ++turn) {
    std::vector<std::vector<int32_t>> prompts;
    for (int i = 0; i < n_chats; ++i) {
      chats[i].push_back({"user", questions[(i + turn) % questions.size()]});
      auto text = lm->FormatChat(chats[i]);
      ASSERT_TRUE(text.ok()) << text.status().message();
      prompts.push_back(lm->TokenizeChat(*text));
    }
    const std::vector<Answer> with = RunTogether(*cached, prompts, max_tokens);
    const std::vector<Answer> without = RunTogether(*plain, prompts, max_tokens);
    for (int i = 0; i < n_chats; ++i) {
      EXPECT_EQ(with[i].text, without[i].text) << "chat " << i << ", turn " << turn;
      EXPECT_EQ(with[i].result.completion_tokens, without[i].result.completion_tokens);
      EXPECT_EQ(without[i].result.cached_tokens, 0);
      if (turn > 0 && slots >= n_chats) {
        // The earlier prompt is found, and the cells of the answer sampled after it.
        EXPECT_GT(with[i].result.cached_tokens, previous[i]) << "chat " << i << ", turn " << turn;
      }
      previous[i] = static_cast<int64_t>(prompts[i].size());
      EXPECT_LT(with[i].result.cached_tokens, static_cast<int64_t>(prompts[i].size()));
      chats[i].push_back({"assistant", with[i].text});
    }
  }
  const SchedulerStats st = cached->stats();
  EXPECT_GT(st.cached_tokens, 0);
  EXPECT_EQ(plain->stats().cached_tokens, 0);
}

// Prompts sharing prefixes of many lengths with one evaluated before: each is reused as far as
// it matches, wherever that falls against the chunks, and answers the same.
void ExpectEveryPrefixLengthSame(std::shared_ptr<LanguageModel> lm, int64_t n_batch,
                                 std::vector<size_t> keeps) {
  const std::vector<int32_t> base = lm->Tokenize(
      "In a small village at the edge of a great forest, there lived an old clockmaker who "
      "repaired every clock in the valley, and one winter morning a stranger knocked on his "
      "door with a broken watch",
      true, false);
  const std::vector<int32_t> tail = lm->Tokenize(" Then the river", false, false);
  auto cached = NewScheduler(lm, true, 1, n_batch);
  auto plain = NewScheduler(lm, false, 1, n_batch);
  ASSERT_TRUE(cached && plain);
  keeps.insert(keeps.end(), {base.size() - 2, base.size() - 1, base.size()});
  for (size_t keep : keeps) {
    RunTogether(*cached, {base}, 2);  // the slot now holds `base`
    std::vector<int32_t> prompt(base.begin(), base.begin() + static_cast<ptrdiff_t>(keep));
    prompt.insert(prompt.end(), tail.begin(), tail.end());
    const Answer with = RunTogether(*cached, {prompt}, 8)[0];
    const Answer without = RunTogether(*plain, {prompt}, 8)[0];
    EXPECT_EQ(with.text, without.text) << "prefix of " << keep << " tokens";
    // Reused as far as it matches, wherever that falls against the chunks (batch invariance),
    // all but the last token at most.
    const int64_t n = static_cast<int64_t>(keep), total = static_cast<int64_t>(prompt.size());
    EXPECT_GE(with.result.cached_tokens, std::min(n, total - 1)) << keep;
    EXPECT_LT(with.result.cached_tokens, total) << keep;
  }
  // The same prompt again reuses all but its last token.
  RunTogether(*cached, {base}, 2);
  const int64_t again = RunTogether(*cached, {base}, 2)[0].result.cached_tokens;
  EXPECT_EQ(again, static_cast<int64_t>(base.size()) - 1);
}

// A long prompt arriving while another request decodes is computed in pieces of n_interleave
// tokens, one per step beside the decoding token, and both answers stay what they are alone.
void ExpectInterleavedPromptSame(std::shared_ptr<LanguageModel> lm) {
  std::vector<int32_t> long_prompt;
  const std::string text =
      "In a small village at the edge of a great forest, there lived an old clockmaker who "
      "repaired every clock in the valley, and one winter morning a stranger knocked. ";
  for (int i = 0; i < 3; ++i) {
    const auto t = lm->Tokenize(text, i == 0, false);
    long_prompt.insert(long_prompt.end(), t.begin(), t.end());
  }
  const std::vector<int32_t> short_prompt =
      lm->Tokenize("The three primary colors are", true, false);
  auto plain = NewScheduler(lm, false, 2, 512, 0);
  auto interleaved = NewScheduler(lm, false, 2, 512, 8);
  ASSERT_TRUE(plain && interleaved);
  const Answer short_alone = RunTogether(*plain, {short_prompt}, 24)[0];
  const Answer long_alone = RunTogether(*plain, {long_prompt}, 8)[0];
  // The long prompt arrives once the short request decodes.
  auto submit = [](Scheduler& sched, const std::vector<int32_t>& prompt, int64_t max_tokens,
                   Collector& c) {
    GenerationRequest g;
    g.prompt = prompt;
    g.sampling.temperature = 0;
    g.max_tokens = max_tokens;
    c.Attach(g);
    EXPECT_TRUE(sched.Submit(std::move(g)).ok());
  };
  Collector short_c, long_c;
  submit(*interleaved, short_prompt, 24, short_c);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (interleaved->stats().steps < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const int64_t before = interleaved->stats().steps;
  submit(*interleaved, long_prompt, 8, long_c);
  EXPECT_EQ(short_c.Wait().text, short_alone.text);
  EXPECT_EQ(long_c.Wait().text, long_alone.text);
  // The long prompt took several smaller steps beside the short request's decoding.
  if (short_c.answer.result.completion_tokens == 24) {
    EXPECT_GE(interleaved->stats().steps - before, 3);
  }
  EXPECT_EQ(RunTogether(*interleaved, {long_prompt}, 8)[0].text, long_alone.text);
  const std::vector<Answer> again = RunTogether(*interleaved, {short_prompt, long_prompt}, 8);
  EXPECT_EQ(again[1].text, long_alone.text);
}

// Requests sharing a long prefix (a system prompt) arrive together: the prefix is computed
// once, by the first; the others wait for each of its chunks and copy the cells (shared_tokens),
// then compute only their own questions. Every answer is what it is without the cache; and a
// request arriving while the others decode copies the prefix from them.
void ExpectSharedPrefixComputedOnce(std::shared_ptr<LanguageModel> lm, int n_requests,
                                    int64_t n_batch) {
  std::string system;
  for (int i = 0; i < 6; ++i) {
    system += "Rule " + std::to_string(i + 1) +
              ": you answer every question about the old clockmaker of the valley briefly, "
              "politely and with one example. ";
  }
  const std::vector<std::string> questions = {"Who repaired the clocks?", "What is a watch?",
                                              "Name a season.", "Why do clocks tick?",
                                              "Where is the forest?"};
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < n_requests; ++i) {
    prompts.push_back(lm->Tokenize(system + "Question: " + questions[i % questions.size()],
                                   true, false));
  }
  size_t common = prompts[0].size();
  for (const auto& p : prompts) {
    size_t n = 0;
    while (n < common && n < p.size() && p[n] == prompts[0][n]) ++n;
    common = n;
  }
  ASSERT_GT(common, 100u);
  auto cached = NewScheduler(lm, true, n_requests + 1, n_batch);
  auto plain = NewScheduler(lm, false, n_requests + 1, n_batch);
  ASSERT_TRUE(cached && plain);
  const std::vector<Answer> with = RunTogether(*cached, prompts, 6);
  const std::vector<Answer> without = RunTogether(*plain, prompts, 6);
  for (int i = 0; i < n_requests; ++i) {
    EXPECT_EQ(with[i].text, without[i].text) << "request " << i;
  }
  // Each follower copies the prefix up to the chunk where it differs, less its last 8-11 tokens.
  const SchedulerStats st = cached->stats();
  // (Less a chunk when the prompts span several.)
  size_t longest = 0;
  for (const auto& p : prompts) longest = std::max(longest, p.size());
  const int64_t per_follower = static_cast<int64_t>(common) - 12 -
                               (static_cast<size_t>(n_batch) >= longest ? 0 : n_batch);
  ASSERT_GT(per_follower, 50);
  EXPECT_GE(st.shared_tokens, (n_requests - 1) * per_follower);
  EXPECT_EQ(st.shared_tokens, st.cached_tokens);  // nothing was cached before
  int64_t suffixes = 0;
  for (const auto& p : prompts) suffixes += static_cast<int64_t>(p.size() - common);
  const int64_t computed = st.prompt_tokens - st.cached_tokens;
  EXPECT_LE(computed, static_cast<int64_t>(common) + suffixes +
                          (n_requests - 1) * (static_cast<int64_t>(common) - per_follower));
  EXPECT_EQ(plain->stats().shared_tokens, 0);

  // Late arrival: copies the prefix from a slot that holds it while that slot decodes (until
  // cancelled: its end of generation is banned).
  Collector running;
  GenerationRequest g;
  g.prompt = prompts[0];
  g.sampling.temperature = 0;
  const Tokenizer& tok = TokenizerOf(*lm);
  for (int32_t id = 0; id < tok.vocab_size(); ++id) {
    if (tok.IsEndOfGeneration(id)) g.sampling.logit_bias.push_back({id, -INFINITY});
  }
  g.max_tokens = 1024 - static_cast<int64_t>(g.prompt.size());
  g.cancelled = std::make_shared<std::atomic<bool>>(false);
  const auto cancel = g.cancelled;
  running.Attach(g);
  auto fresh = NewScheduler(lm, true, 2, n_batch);
  ASSERT_TRUE(fresh);
  ASSERT_TRUE(fresh->Submit(std::move(g)).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (fresh->stats().steps < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const Answer late = RunTogether(*fresh, {prompts[1]}, 6)[0];
  EXPECT_EQ(late.text, without[1].text);
  EXPECT_GE(late.result.cached_tokens, per_follower);
  EXPECT_GE(fresh->stats().shared_tokens, per_follower);
  cancel->store(true);
  EXPECT_EQ(running.Wait().result.finish_reason, FinishReason::kCancelled);
}

// The golden files' prompts (tools/gen_goldens.py), each answered greedily without the cache,
// then with the cache after its first half was asked (half of it reused), and again (all but
// its last token reused): the same text every time.
void ExpectGoldenPromptsSame(std::shared_ptr<LanguageModel> lm, const std::string& golden) {
  std::ifstream in(std::string(FOUNDRY_SOURCE_DIR) + "/tests/golden/data/" + golden);
  ASSERT_TRUE(in.good()) << golden;
  std::stringstream ss;
  ss << in.rdbuf();
  const nlohmann::json g = nlohmann::json::parse(ss.str());
  auto cached = NewScheduler(lm, true, 1, 512);
  auto plain = NewScheduler(lm, false, 1, 512);
  ASSERT_TRUE(cached && plain);
  int checked = 0;
  for (const auto& p : g["prompts"]) {
    const auto ids = p["ids"].get<std::vector<int32_t>>();
    if (ids.size() < 2) continue;
    const std::vector<int32_t> half(ids.begin(), ids.begin() + static_cast<ptrdiff_t>(ids.size() / 2));
    const Answer want = RunTogether(*plain, {ids}, 16)[0];
    RunTogether(*cached, {half}, 4);
    const Answer after_half = RunTogether(*cached, {ids}, 16)[0];
    const Answer again = RunTogether(*cached, {ids}, 16)[0];
    EXPECT_EQ(after_half.text, want.text) << golden << ": '" << p["text"] << "' after its half";
    EXPECT_GE(after_half.result.cached_tokens, static_cast<int64_t>(half.size()) - 1);
    EXPECT_EQ(again.text, want.text) << golden << ": '" << p["text"] << "' again";
    EXPECT_EQ(again.result.cached_tokens, static_cast<int64_t>(ids.size()) - 1);
    ++checked;
  }
  EXPECT_GE(checked, 5) << golden;
}

std::shared_ptr<LanguageModel> LoadRealOrSkip(const std::string& file) {
  const std::string path = std::string(FOUNDRY_SOURCE_DIR) + "/.cache/models/" + file;
  if (!std::ifstream(path).good()) return nullptr;
  return LoadModel(path);
}

TEST(PromptCache, SmolLm2ChatTurnsSameWithAndWithoutCache) {
  auto lm = LoadRealOrSkip("SmolLM2-135M-Instruct.Q4_1.gguf");
  if (!lm) GTEST_SKIP() << "SmolLM2-135M-Instruct.Q4_1.gguf is not downloaded (make models)";
  // Three chats side by side, small chunks so that prompts span several steps.
  ExpectChatsSameWithAndWithoutCache(lm, 3, 3, 3, 32, 10);
}

TEST(PromptCache, GoldenPromptsSameWithAndWithoutReuse) {
  ExpectGoldenPromptsSame(LoadModel(FOUNDRY_SOURCE_DIR "/tests/data/models/tiny-llama.gguf"),
                          "tiny-llama.json");
  ExpectGoldenPromptsSame(LoadModel(FOUNDRY_SOURCE_DIR "/tests/data/models/tiny-gemma3.gguf"),
                          "tiny-gemma3.json");
  for (const char* name : {"SmolLM2-135M-Instruct.Q4_1", "gemma-3-270m-Q4_K_M"}) {
    auto lm = LoadRealOrSkip(std::string(name) + ".gguf");
    if (!lm) {
      std::printf("%s.gguf is not downloaded (make models): not checked\n", name);
      continue;
    }
    ExpectGoldenPromptsSame(lm, std::string(name) + ".json");
  }
}

TEST(PromptCache, SmolLm2MoreChatsThanSlots) {
  auto lm = LoadRealOrSkip("SmolLM2-135M-Instruct.Q4_1.gguf");
  if (!lm) GTEST_SKIP() << "SmolLM2-135M-Instruct.Q4_1.gguf is not downloaded (make models)";
  // Slots change hands between chats: a request finds another chat's system prompt.
  ExpectChatsSameWithAndWithoutCache(lm, 4, 2, 2, 512, 6);
}

TEST(PromptCache, SmolLm2EveryPrefixLength) {
  auto lm = LoadRealOrSkip("SmolLM2-135M-Instruct.Q4_1.gguf");
  if (!lm) GTEST_SKIP() << "SmolLM2-135M-Instruct.Q4_1.gguf is not downloaded (make models)";
  ExpectEveryPrefixLengthSame(lm, 512, {1, 4, 9, 17});
}

TEST(PromptCache, SmolLm2InterleavedPromptSame) {
  auto lm = LoadRealOrSkip("SmolLM2-135M-Instruct.Q4_1.gguf");
  if (!lm) GTEST_SKIP() << "SmolLM2-135M-Instruct.Q4_1.gguf is not downloaded (make models)";
  ExpectInterleavedPromptSame(lm);
}

TEST(PromptCache, TinyQwen2InterleavedPromptSame) {
  auto lm = LoadModel(FOUNDRY_SOURCE_DIR "/tests/data/models/tiny-qwen2.gguf");
  ASSERT_TRUE(lm);
  ExpectInterleavedPromptSame(lm);
}

TEST(PromptCache, TinyQwen2EveryPrefixLengthAcrossChunks) {
  auto lm = LoadModel(FOUNDRY_SOURCE_DIR "/tests/data/models/tiny-qwen2.gguf");
  ASSERT_TRUE(lm);
  ExpectEveryPrefixLengthSame(lm, 8, {1, 3, 4, 7, 8, 9, 16, 17});
}

TEST(PromptCache, SmolLm2SharedPrefixComputedOnce) {
  auto lm = LoadRealOrSkip("SmolLM2-135M-Instruct.Q4_1.gguf");
  if (!lm) GTEST_SKIP() << "SmolLM2-135M-Instruct.Q4_1.gguf is not downloaded (make models)";
  ExpectSharedPrefixComputedOnce(lm, 4, 512);
  ExpectSharedPrefixComputedOnce(lm, 3, 32);
}

TEST(PromptCache, Qwen05bChatTurnsSameWithAndWithoutCache) {
  // Repacked Q5_0/Q8_0/Q4_K and plain Q6_K matrices: each turn reuses the previous prompt and the
  // answer's decoded cells, in small chunks too.
  auto lm = LoadRealOrSkip("qwen2.5-coder-0.5b-instruct.gguf");
  if (!lm) GTEST_SKIP() << "qwen2.5-coder-0.5b-instruct.gguf is not downloaded (make models)";
  ExpectChatsSameWithAndWithoutCache(lm, 2, 3, 2, 32, 12);
}

TEST(PromptCache, Qwen05bEveryPrefixLength) {
  auto lm = LoadRealOrSkip("qwen2.5-coder-0.5b-instruct.gguf");
  if (!lm) GTEST_SKIP() << "qwen2.5-coder-0.5b-instruct.gguf is not downloaded (make models)";
  ExpectEveryPrefixLengthSame(lm, 16, {1, 3, 4, 7, 9, 17, 22});
}

TEST(PromptCache, Qwen05bSharedPrefixComputedOnce) {
  auto lm = LoadRealOrSkip("qwen2.5-coder-0.5b-instruct.gguf");
  if (!lm) GTEST_SKIP() << "qwen2.5-coder-0.5b-instruct.gguf is not downloaded (make models)";
  ExpectSharedPrefixComputedOnce(lm, 3, 32);
}

TEST(PromptCache, TinyQwen2SharedPrefixComputedOnce) {
  auto lm = LoadModel(FOUNDRY_SOURCE_DIR "/tests/data/models/tiny-qwen2.gguf");
  ASSERT_TRUE(lm);
  ExpectSharedPrefixComputedOnce(lm, 4, 512);
  ExpectSharedPrefixComputedOnce(lm, 3, 16);
}

TEST(PromptCache, TinyGemma3PrefixLongerThanTheSlidingWindow) {
  // tiny-gemma3's sliding window is 8 tokens: the cached prefixes reach far past it.
  auto lm = LoadModel(FOUNDRY_SOURCE_DIR "/tests/data/models/tiny-gemma3.gguf");
  ASSERT_TRUE(lm);
  ExpectEveryPrefixLengthSame(lm, 16, {1, 3, 4, 7, 8, 9, 16, 17});
}

}  // namespace
}  // namespace foundry
