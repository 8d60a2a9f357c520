// The service's model manager: models named by absolute path, TTL unloading (never while in
// use), least-recently-used eviction within the memory budget.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "../isa_under_test.h"
#include "engine/internal.h"
#include "server/model_manager.h"
#include "tokenizer/tokenizer.h"

namespace foundry {
namespace {

const std::string kTiny = FOUNDRY_SOURCE_DIR "/tests/data/models/tiny-qwen2.gguf";
const std::string kTinyLlama = FOUNDRY_SOURCE_DIR "/tests/data/models/tiny-llama.gguf";

ModelManagerOptions SmallOptions() {
  ModelManagerOptions o;
  o.scheduler.n_slots = 2;
  o.scheduler.n_ctx = 64;
  o.scheduler.n_threads = 1;
  return o;
}

TEST(ModelManager, NamesAreAbsolutePathsToFiles) {
  ModelManager mm(SmallOptions(), nullptr);
  auto lease = mm.Acquire(kTiny);
  ASSERT_TRUE(lease.ok()) << lease.status().message();
  EXPECT_EQ(lease->scheduler().n_ctx(), 64);
  EXPECT_EQ(mm.Acquire("tiny-qwen2.gguf").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(mm.Acquire("/no/such/file.gguf").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(mm.Acquire(FOUNDRY_SOURCE_DIR "/tests").status().code(), StatusCode::kNotFound);
  // A file that is not a GGUF model fails to load with a message, and nothing is kept.
  auto bad = mm.Acquire(FOUNDRY_SOURCE_DIR "/CMakeLists.txt");
  EXPECT_FALSE(bad.ok());
  ASSERT_EQ(mm.Loaded().size(), 1u);
  EXPECT_EQ(mm.Loaded()[0].name, kTiny);
  EXPECT_EQ(mm.Loaded()[0].in_flight, 1);
  EXPECT_EQ(mm.Unload("/not/loaded").code(), StatusCode::kNotFound);
}

TEST(ModelManager, NamesOfOneModelShareOneLoadedInstance) {
  // As the catalog resolver does: an alias and an id both stand for one model id.
  ModelManager mm(SmallOptions(), [](const std::string& name) -> StatusOr<ResolvedModel> {
    if (name == "tiny" || name == "Tiny:1") return ResolvedModel{"Tiny:1", kTiny};
    return NotFound("unknown model " + name);
  });
  ASSERT_TRUE(mm.Acquire("tiny").ok());
  ASSERT_TRUE(mm.Acquire("Tiny:1", /*ttl_s=*/77).ok());
  ASSERT_EQ(mm.Loaded().size(), 1u);
  EXPECT_EQ(mm.Loaded()[0].name, "Tiny:1");
  EXPECT_EQ(mm.Loaded()[0].ttl_s, 77);
  EXPECT_EQ(mm.Acquire("other").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(mm.Unload("tiny").ok());  // by alias
  EXPECT_TRUE(mm.Loaded().empty());
}

// A load with a context size gets it; one with another size loads the model anew, while a
// request holding the old instance keeps it until it ends.
TEST(ModelManager, LoadWithAContextSizeLoadsAnewWhenItDiffers) {
  ModelManager mm(SmallOptions(), nullptr);
  auto first = mm.Acquire(kTiny);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->scheduler().n_ctx(), 64);
  auto same = mm.Acquire(kTiny, -1, std::nullopt, 64);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(&same->scheduler(), &first->scheduler());
  auto larger = mm.Acquire(kTiny, -1, std::nullopt, 128);
  ASSERT_TRUE(larger.ok()) << larger.status().message();
  EXPECT_EQ(larger->scheduler().n_ctx(), 128);
  EXPECT_EQ(first->scheduler().n_ctx(), 64);  // still usable by its holder
  ASSERT_EQ(mm.Loaded().size(), 1u);
  EXPECT_EQ(mm.Loaded()[0].n_ctx, 128);
  EXPECT_EQ(mm.Acquire(kTiny)->scheduler().n_ctx(), 128);  // no size: whatever is loaded
}

// Without a context size, a model gets its training context when the KV budget holds it, less
// when it does not.
TEST(ModelManager, DefaultContextIsTheTrainingOneWithinTheKvBudget) {
  auto lm = LanguageModel::Load(kTiny);
  ASSERT_TRUE(lm.ok());
  const int64_t trained = (*lm)->n_ctx_train();
  const uint64_t per_position = ModelOf(**lm).KvBytesPerPosition();
  ModelManagerOptions o = SmallOptions();
  o.scheduler.n_ctx = 0;
  o.scheduler.kv_budget_bytes = per_position * 2 * static_cast<uint64_t>(trained) * 4;
  {
    ModelManager mm(o, nullptr);
    EXPECT_EQ(mm.Acquire(kTiny)->scheduler().n_ctx(), trained);
  }
  o.scheduler.kv_budget_bytes = per_position * 2 * 700;  // two slots of 700 positions
  ModelManager mm(o, nullptr);
  EXPECT_EQ(mm.Acquire(kTiny)->scheduler().n_ctx(), std::min<int64_t>(trained, 512));
}

TEST(ModelManager, TtlUnloadsIdleModelsOnly) {
  ModelManager mm(SmallOptions(), nullptr);
  {
    auto lease = mm.Acquire(kTiny, /*ttl_s=*/0);
    ASSERT_TRUE(lease.ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    mm.ReapExpired();
    EXPECT_EQ(mm.Loaded().size(), 1u) << "unloaded while in use";
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  mm.ReapExpired();
  EXPECT_TRUE(mm.Loaded().empty());
  // The default TTL keeps it.
  ASSERT_TRUE(mm.Acquire(kTiny).ok());
  mm.ReapExpired();
  EXPECT_EQ(mm.Loaded().size(), 1u);
  EXPECT_EQ(mm.Loaded()[0].ttl_s, 600);
}

TEST(ModelManager, UnloadWhenIdleFalseOutlivesTheTtl) {
  ModelManager mm(SmallOptions(), nullptr);
  // Foundry Local's /openai/load?unload=false: idle past its TTL, still loaded.
  ASSERT_TRUE(mm.Acquire(kTiny, /*ttl_s=*/0, /*unload_when_idle=*/false).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  mm.ReapExpired();
  ASSERT_EQ(mm.Loaded().size(), 1u);
  EXPECT_FALSE(mm.Loaded()[0].unload_when_idle);
  // A later request that says nothing keeps the setting; unload=true gives the TTL back.
  ASSERT_TRUE(mm.Acquire(kTiny, /*ttl_s=*/0).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  mm.ReapExpired();
  ASSERT_EQ(mm.Loaded().size(), 1u);
  ASSERT_TRUE(mm.Acquire(kTiny, /*ttl_s=*/0, /*unload_when_idle=*/true).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  mm.ReapExpired();
  EXPECT_TRUE(mm.Loaded().empty());
}

TEST(ModelManager, LeastRecentlyUsedIdleModelIsEvictedForANewOne) {
  uint64_t one_model = 0;
  {
    ModelManager probe(SmallOptions(), nullptr);
    ASSERT_TRUE(probe.Acquire(kTiny).ok());
    one_model = probe.Loaded()[0].bytes;
  }
  ASSERT_GT(one_model, 0u);
  ModelManagerOptions o = SmallOptions();
  o.memory_budget_bytes = one_model + one_model / 2;  // room for one tiny model at a time
  ModelManager mm(o, nullptr);
  ASSERT_TRUE(mm.Acquire(kTiny).ok());
  ASSERT_TRUE(mm.Acquire(kTinyLlama).ok());
  ASSERT_EQ(mm.Loaded().size(), 1u);
  EXPECT_EQ(mm.Loaded()[0].name, kTinyLlama);
  {
    // A model in use is never evicted: both stay loaded, over budget.
    auto busy = mm.Acquire(kTinyLlama);
    ASSERT_TRUE(busy.ok());
    ASSERT_TRUE(mm.Acquire(kTiny).ok());
    EXPECT_EQ(mm.Loaded().size(), 2u);
  }
}

TEST(ChatPrompt, UsesTheModelsTemplateAndOneBos) {
  auto lm = LanguageModel::Load(kTiny, harness::TestLoadOptions());
  ASSERT_TRUE(lm.ok());
  auto text = (*lm)->FormatChat({{"system", "Be brief."}, {"user", "Hello"}});
  ASSERT_TRUE(text.ok()) << text.status().message();
  // tiny-qwen2 carries a ChatML template.
  EXPECT_NE(text->find("<|im_start|>user\nHello<|im_end|>\n"), std::string::npos) << *text;
  EXPECT_TRUE(text->ends_with("<|im_start|>assistant\n")) << *text;
  const auto ids = (*lm)->TokenizeChat(*text);
  ASSERT_GE(ids.size(), 2u);
  EXPECT_FALSE(ids[0] == TokenizerOf(**lm).bos() && ids[1] == TokenizerOf(**lm).bos());
}

}  // namespace
}  // namespace foundry
