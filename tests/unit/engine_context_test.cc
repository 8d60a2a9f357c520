// Context::Decode: sequences decoded together in one batch get exactly the logits each gets
// alone, whatever the other sequences, their lengths or their positions.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/context.h"

namespace foundry {
namespace {

const std::string kTinyQwen2 =
    std::string(FOUNDRY_SOURCE_DIR) + "/tests/data/models/tiny-qwen2.gguf";

std::unique_ptr<Context> NewContext(std::shared_ptr<const LanguageModel> lm, int64_t n_seq) {
  ContextOptions o;
  o.n_seq = n_seq;
  o.n_ctx = 64;
  o.n_threads = 2;
  auto ctx = Context::Create(std::move(lm), o);
  EXPECT_TRUE(ctx.ok()) << ctx.status().message();
  return ctx.ok() ? std::move(ctx).value() : nullptr;
}

// The logits of every token of `prompt` followed by `next`, decoded alone in sequence 0.
std::vector<float> Alone(std::shared_ptr<const LanguageModel> lm,
                         const std::vector<int32_t>& prompt, int32_t next) {
  auto ctx = NewContext(lm, 1);
  Batch b;
  for (size_t i = 0; i < prompt.size(); ++i) b.Add(prompt[i], static_cast<int32_t>(i), 0, true);
  EXPECT_TRUE(ctx->Decode(b).ok());
  std::vector<float> out = ctx->all_logits();
  b.Clear();
  b.Add(next, static_cast<int32_t>(prompt.size()), 0, true);
  EXPECT_TRUE(ctx->Decode(b).ok());
  out.insert(out.end(), ctx->all_logits().begin(), ctx->all_logits().end());
  return out;
}

TEST(Context, DefaultLengthIsTheTrainingOneWithinTheKvBudget) {
  // No budget: the training context capped at 4096 (4096 for a model that does not say).
  EXPECT_EQ(DefaultContextLength(2048, 4, 1000, 0), 2048);
  EXPECT_EQ(DefaultContextLength(32768, 4, 1000, 0), 4096);
  EXPECT_EQ(DefaultContextLength(0, 1, 1000, 0), 4096);
  // A budget: as much of the training context as 4 slots' KV fits, in multiples of 256.
  EXPECT_EQ(DefaultContextLength(32768, 4, 12288, uint64_t{6} << 30), 32768);
  EXPECT_EQ(DefaultContextLength(32768, 4, 12288, uint64_t{1} << 30), 21760);
  EXPECT_EQ(DefaultContextLength(131072, 1, 28672, uint64_t{1} << 30), 37376);
  // Never below 512 however small the budget, nor above the training context.
  EXPECT_EQ(DefaultContextLength(32768, 4, 12288, 1), 512);
  EXPECT_EQ(DefaultContextLength(300, 4, 12288, 1), 300);
}

TEST(Context, SequencesInOneBatchGetTheLogitsTheyGetAlone) {
  auto lm = LanguageModel::Load(kTinyQwen2);
  ASSERT_TRUE(lm.ok()) << lm.status().message();
  const int64_t V = (*lm)->n_vocab();
  const std::vector<std::string> texts = {"Hello there, how are you?", "a", "1 2 3 4 5 6 7"};
  std::vector<std::vector<int32_t>> prompts;
  for (const auto& t : texts) prompts.push_back((*lm)->Tokenize(t, true, false));
  const std::vector<int32_t> next = {11, 12, 13};

  auto ctx = NewContext(*lm, 3);
  ASSERT_TRUE(ctx);
  EXPECT_EQ(ctx->n_seq(), 3);
  // The prompts interleaved in one batch (sequence 2 first), every token asking for logits.
  Batch b;
  std::vector<std::pair<size_t, size_t>> rows;  // (sequence, token) of each logits row
  for (size_t seq : {2u, 0u, 1u}) {
    for (size_t i = 0; i < prompts[seq].size(); ++i) {
      b.Add(prompts[seq][i], static_cast<int32_t>(i), static_cast<int32_t>(seq), true);
      rows.push_back({seq, i});
    }
  }
  ASSERT_TRUE(ctx->Decode(b).ok());
  std::vector<std::vector<float>> got(3);
  for (size_t r = 0; r < rows.size(); ++r) {
    const float* row = ctx->Logits(static_cast<int>(r));
    got[rows[r].first].insert(got[rows[r].first].end(), row, row + V);
  }
  // One decoding token per sequence, in another order, only two of them asking for logits.
  b.Clear();
  for (size_t seq : {1u, 2u, 0u}) {
    EXPECT_EQ(ctx->SeqLength(static_cast<int64_t>(seq)), static_cast<int64_t>(prompts[seq].size()));
    b.Add(next[seq], static_cast<int32_t>(prompts[seq].size()), static_cast<int32_t>(seq),
          seq != 2);
  }
  ASSERT_TRUE(ctx->Decode(b).ok());
  ASSERT_EQ(ctx->all_logits().size(), static_cast<size_t>(2 * V));
  got[1].insert(got[1].end(), ctx->Logits(0), ctx->Logits(0) + V);
  got[0].insert(got[0].end(), ctx->Logits(1), ctx->Logits(1) + V);

  for (size_t seq = 0; seq < 3; ++seq) {
    const std::vector<float> want = Alone(*lm, prompts[seq], next[seq]);
    if (seq == 2) {
      EXPECT_EQ(got[seq], std::vector<float>(want.begin(), want.end() - V)) << seq;
    } else {
      EXPECT_EQ(got[seq], want) << seq;
    }
  }
}

// LoadOptions::map_weights maps the file instead of copying it: the same weights, the same
// logits.
TEST(Context, MappedWeightsGiveTheSameLogits) {
  auto copied = LanguageModel::Load(kTinyQwen2);
  LoadOptions map;
  map.map_weights = true;
  auto mapped = LanguageModel::Load(kTinyQwen2, map);
  ASSERT_TRUE(copied.ok() && mapped.ok());
  const auto ids = (*copied)->Tokenize("Hello there", true, false);
  EXPECT_EQ(Alone(*copied, ids, 11), Alone(*mapped, ids, 11));
}

TEST(Context, RefusesABatchThatBreaksASequence) {
  auto lm = LanguageModel::Load(kTinyQwen2);
  ASSERT_TRUE(lm.ok());
  auto ctx = NewContext(*lm, 2);
  ASSERT_TRUE(ctx);
  Batch b;
  b.Add(1, 0, 0, true);
  ASSERT_TRUE(ctx->Decode(b).ok());
  b.Clear();
  b.Add(2, 5, 0, true);  // skips positions 1..4
  EXPECT_FALSE(ctx->Decode(b).ok());
  b.Clear();
  b.Add(2, 0, 2, true);  // no sequence 2
  EXPECT_FALSE(ctx->Decode(b).ok());
  EXPECT_EQ(ctx->SeqLength(0), 1);
  ctx->Truncate(0, 0);
  EXPECT_EQ(ctx->SeqLength(0), 0);
  ContextOptions bad;
  bad.n_threads = -1;
  EXPECT_EQ(Context::Create(*lm, bad).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace foundry
