// The forward pass is batch-invariant on the ISA under test: a token's logits (and so the KV cells
// it leaves) are the same bits whether its sequence is read in one batch, token by token (decoding),
// in chunks of any size, or beside another sequence in the same batch. The prompt cache reuses
// decoded cells and cuts prompts anywhere on the strength of this (runtime/scheduler.cc). Every
// architecture's synthetic model always; the real models where downloaded (make models).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "../isa_under_test.h"
#include "base/thread_pool.h"
#include "format/gguf_file.h"
#include "model/model.h"
#include "model/workspace.h"

namespace foundry {
namespace {

// Evaluates sequences on one model and KV cache: each Step is one forward pass holding the
// given pieces (sequence, tokens), and the logits of every token are kept per sequence.
class Evaluator {
 public:
  Evaluator(const Model& model, int64_t n_seq, int64_t n_ctx, int threads)
      : model_(model), kv_(model.NewKvCache(n_seq, n_ctx)), pool_(threads), pos_(n_seq, 0),
        logits_(n_seq) {}

  struct Piece {
    int32_t seq;
    std::vector<int32_t> tokens;
  };

  void Step(const std::vector<Piece>& pieces) {
    Batch b;
    for (const Piece& p : pieces) {
      for (int32_t t : p.tokens) b.Add(t, pos_[p.seq]++, p.seq, true);
    }
    const int64_t n_vocab = model_.hparams().n_vocab;
    std::vector<float> out(static_cast<size_t>(b.NumLogits()) * n_vocab);
    ASSERT_TRUE(model_.Forward(b, *kv_, ws_, pool_, out.data()).ok());
    size_t row = 0;
    for (const Piece& p : pieces) {
      for (size_t i = 0; i < p.tokens.size(); ++i, ++row) {
        logits_[p.seq].insert(logits_[p.seq].end(), out.begin() + row * n_vocab,
                              out.begin() + (row + 1) * n_vocab);
      }
    }
  }

  const std::vector<float>& logits(int32_t seq) const { return logits_[seq]; }

 private:
  const Model& model_;
  std::unique_ptr<KvCache> kv_;
  Workspace ws_;
  ThreadPool pool_;
  std::vector<int32_t> pos_;
  std::vector<std::vector<float>> logits_;
};

std::vector<int32_t> Slice(const std::vector<int32_t>& v, size_t begin, size_t end) {
  return std::vector<int32_t>(v.begin() + begin, v.begin() + std::min(end, v.size()));
}

// Token ids spread over the vocabulary (deterministic).
std::vector<int32_t> Tokens(int64_t n, int64_t n_vocab, uint32_t seed) {
  std::vector<int32_t> ids;
  uint32_t x = seed;
  for (int64_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    ids.push_back(static_cast<int32_t>((x >> 8) % static_cast<uint32_t>(n_vocab)));
  }
  return ids;
}

void ExpectBatchInvariant(const std::string& path, int64_t n_tokens) {
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().message();
  auto loaded =
      Model::Load(std::shared_ptr<const GgufFile>(std::move(*file)), harness::KernelsUnderTest());
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const Model& model = **loaded;
  const int64_t n_vocab = model.hparams().n_vocab;
  const std::vector<int32_t> a = Tokens(n_tokens, n_vocab, 1), other = Tokens(n_tokens, n_vocab, 2);
  const int64_t n_ctx = 2 * n_tokens + 16;

  // The reference: the whole sequence in one batch, one thread.
  Evaluator whole(model, 1, n_ctx, 1);
  whole.Step({{0, a}});
  const std::vector<float>& want = whole.logits(0);

  const auto expect_same = [&](const std::vector<float>& got, const std::string& how) {
    ASSERT_EQ(got.size(), want.size()) << how;
    for (int64_t t = 0; t < n_tokens; ++t) {
      ASSERT_EQ(std::memcmp(got.data() + t * n_vocab, want.data() + t * n_vocab,
                            n_vocab * sizeof(float)),
                0)
          << path << ": token " << t << " " << how;
    }
  };
  {  // decoding: one token per pass, two threads
    Evaluator e(model, 1, n_ctx, 2);
    for (size_t t = 0; t < a.size(); ++t) e.Step({{0, Slice(a, t, t + 1)}});
    expect_same(e.logits(0), "token by token");
  }
  {  // uneven chunks: 5, 3, 11, 1, 7, ...
    Evaluator e(model, 1, n_ctx, 2);
    const size_t sizes[] = {5, 3, 11, 1, 7};
    for (size_t t = 0, i = 0; t < a.size(); t += sizes[i++ % 5]) {
      e.Step({{0, Slice(a, t, t + sizes[i % 5])}});
    }
    expect_same(e.logits(0), "in uneven chunks");
  }
  {  // beside another sequence: its prompt in pieces while ours decodes, and the reverse
    Evaluator e(model, 2, n_ctx, 2);
    e.Step({{1, Slice(other, 0, 9)}, {0, Slice(a, 0, 2)}});
    for (size_t t = 2, o = 9; t < a.size(); ++t, o += 4) {
      std::vector<Evaluator::Piece> pieces = {{0, Slice(a, t, t + 1)}};
      if (o < other.size()) pieces.push_back({1, Slice(other, o, o + 4)});
      e.Step(pieces);
    }
    expect_same(e.logits(0), "beside another sequence");
  }
}

std::string SyntheticModel(const std::string& name) {
  return std::string(FOUNDRY_SOURCE_DIR) + "/tests/data/models/" + name;
}

TEST(LayersBatchInvariance, SyntheticModels) {
  for (const char* name : {"tiny-llama.gguf", "tiny-llama3.gguf", "tiny-qwen2.gguf",
                           "tiny-gemma3.gguf", "tiny-phi3.gguf"}) {
    SCOPED_TRACE(name);
    ExpectBatchInvariant(SyntheticModel(name), 40);
  }
}

// The real models carry the quantized types of real files: Q4_1 (SmolLM2), Q5_0/Q8_0/Q4_K/Q6_K,
// most of them repacked at load (Qwen2.5-Coder-0.5B, Gemma 3), and Gemma 3's sliding window.
TEST(LayersBatchInvariance, RealModels) {
  int checked = 0;
  for (const char* name : {"SmolLM2-135M-Instruct.Q4_1.gguf", "qwen2.5-coder-0.5b-instruct.gguf",
                           "gemma-3-270m-Q4_K_M.gguf"}) {
    const std::string path = std::string(FOUNDRY_SOURCE_DIR) + "/.cache/models/" + name;
    if (!std::ifstream(path).good()) {
      std::printf("%s is not downloaded (make models): not checked\n", name);
      continue;
    }
    SCOPED_TRACE(name);
    // Fewer tokens on the scalar kernels, which are slow on a 0.5B model.
    ExpectBatchInvariant(path, harness::IsaUnderTest() == Isa::kScalar ? 12 : 24);
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "no real model is downloaded (make models)";
}

}  // namespace
}  // namespace foundry
