// MatMuls (several matrices of one input in one parallel loop) gives every output exactly as
// MatMul on each matrix alone, whatever the mix of weight types, token counts and threads, and
// every token exactly as a batch of that token alone (batch invariance).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "../isa_under_test.h"
#include "base/thread_pool.h"
#include "kernels/kernels.h"
#include "kernels_test_util.h"
#include "model/layers.h"
#include "model/workspace.h"

namespace foundry {
namespace {

struct OwnedMatrix {
  std::vector<uint8_t> bytes;
  Tensor t;
};

OwnedMatrix RandomMatrix(QuantType type, int64_t n_in, int64_t n_out, std::mt19937& rng) {
  OwnedMatrix m;
  m.t.type = type;
  m.t.ne = {n_in, n_out, 1, 1};
  m.t.row_bytes = RowBytes(*FindRefTypeTraits(type), n_in);
  for (int64_t r = 0; r < n_out; ++r) {
    const std::vector<uint8_t> row = testing::RandomRow(type, n_in, rng);
    m.bytes.insert(m.bytes.end(), row.begin(), row.end());
  }
  m.t.data = m.bytes.data();
  return m;
}

// m rewritten into groups of 8 rows (TypeTraits::repack_rows8), as Model::Load does.
void RepackInPlace(const Kernels& k, OwnedMatrix& m) {
  std::vector<uint8_t> copy(m.bytes.size());
  k.Find(m.t.type)->repack_rows8(m.t.ne[0], m.bytes.data(), m.t.row_bytes, m.t.ne[1], copy.data());
  m.bytes.swap(copy);
  m.t.data = m.bytes.data();
  m.t.repacked8 = true;
}

TEST(LayersMatMuls, EqualsOneMatMulPerMatrix) {
  std::mt19937 rng(5);
  const int64_t n_in = 512;
  // Mixed activation types (Q8_0 for Q8_0, Q8_K for Q4_K/Q5_K/Q6_K), row counts that are and
  // are not multiples of 8, and parts that straddle the threads' chunks.
  std::vector<OwnedMatrix> ms;
  ms.push_back(RandomMatrix(QuantType::kQ8_0, n_in, 100, rng));
  ms.push_back(RandomMatrix(QuantType::kQ4_K, n_in, 40, rng));
  ms.push_back(RandomMatrix(QuantType::kQ6_K, n_in, 36, rng));
  ms.push_back(RandomMatrix(QuantType::kQ5_K, n_in, 24, rng));
  Workspace ws;
  const Kernels& k = harness::KernelsUnderTest();
  int compared = 0;
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n_tokens : {1, 3, 9, 20, 137}) {
      std::vector<float> x(n_tokens * n_in);
      std::normal_distribution<float> dist(0.0f, 1.0f);
      for (float& v : x) v = dist(rng);
      std::vector<std::vector<float>> want(ms.size()), got(ms.size());
      for (size_t i = 0; i < ms.size(); ++i) {
        want[i].resize(n_tokens * ms[i].t.ne[1]);
        got[i].resize(want[i].size());
        MatMul(k, ms[i].t, x.data(), n_tokens, want[i].data(), ws, pool);
      }
      MatMuls(k,
              {{&ms[0].t, got[0].data()},
               {&ms[1].t, got[1].data()},
               {&ms[2].t, got[2].data()},
               {&ms[3].t, got[3].data()}},
              x.data(), n_tokens, ws, pool);
      for (size_t i = 0; i < ms.size(); ++i) {
        ASSERT_EQ(std::memcmp(want[i].data(), got[i].data(), want[i].size() * sizeof(float)), 0)
            << "matrix " << i << ", " << n_tokens << " tokens, " << threads << " threads";
        compared += static_cast<int>(want[i].size());
      }
    }
  }
  EXPECT_GT(compared, 0);
}

// Matrices repacked into groups of 8 rows (Tensor::repacked8, TypeTraits::repack_rows8: the
// K-quants on AVX2 and AVX-512) give exactly the outputs of the same matrices as stored in the file: prompts, decoding, parts after
// a part whose rows are not a multiple of 8, any number of threads.
TEST(LayersMatMuls, RepackedEqualsTheFileLayout) {
  const Kernels& k = harness::KernelsUnderTest();
  if (k.Find(QuantType::kQ4_K)->repack_rows8 == nullptr) {
    GTEST_SKIP() << IsaName(k.isa) << " kernels have no repacked layouts";
  }
  std::mt19937 rng(7);
  const int64_t n_in = 768;
  std::vector<OwnedMatrix> plain;
  plain.push_back(RandomMatrix(QuantType::kQ8_0, n_in, 100, rng));
  plain.push_back(RandomMatrix(QuantType::kQ4_K, n_in, 40, rng));
  plain.push_back(RandomMatrix(QuantType::kQ6_K, n_in, 48, rng));
  plain.push_back(RandomMatrix(QuantType::kQ5_K, n_in, 24, rng));
  std::vector<OwnedMatrix> repacked = plain;
  int n_repacked = 0;
  for (OwnedMatrix& m : repacked) {
    m.t.data = m.bytes.data();
    const TypeTraits* tt = k.Find(m.t.type);
    // (Repacked layouts with an order of their own: RepackedInTheirOwnOrder below.)
    if (tt->repack_rows8 == nullptr || tt->repacked_order != nullptr || m.t.ne[1] % 8 != 0) {
      continue;
    }
    ++n_repacked;
    RepackInPlace(k, m);
  }
  Workspace ws;
  int compared = 0;
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n_tokens : {1, 3, 4, 9, 20, 137}) {
      std::vector<float> x(n_tokens * n_in);
      std::normal_distribution<float> dist(0.0f, 1.0f);
      for (float& v : x) v = dist(rng);
      std::vector<std::vector<float>> want(plain.size()), got(plain.size());
      for (size_t i = 0; i < plain.size(); ++i) {
        want[i].resize(n_tokens * plain[i].t.ne[1]);
        got[i].resize(want[i].size());
      }
      MatMuls(k,
              {{&plain[0].t, want[0].data()},
               {&plain[1].t, want[1].data()},
               {&plain[2].t, want[2].data()},
               {&plain[3].t, want[3].data()}},
              x.data(), n_tokens, ws, pool);
      MatMuls(k,
              {{&repacked[0].t, got[0].data()},
               {&repacked[1].t, got[1].data()},
               {&repacked[2].t, got[2].data()},
               {&repacked[3].t, got[3].data()}},
              x.data(), n_tokens, ws, pool);
      for (size_t i = 0; i < plain.size(); ++i) {
        ASSERT_EQ(std::memcmp(want[i].data(), got[i].data(), want[i].size() * sizeof(float)), 0)
            << "matrix " << i << ", " << n_tokens << " tokens, " << threads << " threads";
        compared += static_cast<int>(want[i].size());
      }
      // Repacked matrices alone (MatMul) too.
      for (int i : {1, 3}) {
        std::vector<float> alone(want[i].size());
        MatMul(k, repacked[i].t, x.data(), n_tokens, alone.data(), ws, pool);
        ASSERT_EQ(std::memcmp(want[i].data(), alone.data(), alone.size() * sizeof(float)), 0)
            << "matrix " << i << " alone, " << n_tokens << " tokens";
      }
    }
  }
  EXPECT_EQ(n_repacked, 3);  // the K-quants
  EXPECT_GT(compared, 0);
}

// Matrices repacked into a layout with an order of its own (TypeTraits::repacked_order: Q4_0,
// Q5_0 and Q8_0 on AVX2) give every output in that order through MatMuls, beside other parts,
// whatever the number of tokens and the threads: an output never depends on the batch.
TEST(LayersMatMuls, RepackedInTheirOwnOrder) {
  const Kernels& k = harness::KernelsUnderTest();
  if (k.Find(QuantType::kQ4_0)->repacked_order == nullptr) {
    GTEST_SKIP() << IsaName(k.isa) << " kernels repack no type in an order of its own";
  }
  std::mt19937 rng(8);
  const int64_t n_in = 512;
  std::vector<OwnedMatrix> ms;
  ms.push_back(RandomMatrix(QuantType::kQ4_0, n_in, 48, rng));
  ms.push_back(RandomMatrix(QuantType::kQ6_K, n_in, 36, rng));
  ms.push_back(RandomMatrix(QuantType::kQ5_0, n_in, 24, rng));
  ms.push_back(RandomMatrix(QuantType::kQ8_0, n_in, 40, rng));
  std::vector<OwnedMatrix> plain = ms;  // the file's layout, for the reference orders
  for (OwnedMatrix& m : plain) m.t.data = m.bytes.data();
  for (OwnedMatrix& m : ms) {
    m.t.data = m.bytes.data();
    // As Model::Load: whole groups of 8 rows only (the Q6_K's 36 stay in the file's layout).
    if (k.Find(m.t.type)->repack_rows8 != nullptr && m.t.ne[1] % 8 == 0) RepackInPlace(k, m);
  }
  Workspace ws;
  int compared = 0;
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n_tokens : {1, 3, 4, 9, 20, 137}) {
      std::vector<float> x(n_tokens * n_in);
      std::normal_distribution<float> dist(0.0f, 1.0f);
      for (float& v : x) v = dist(rng);
      std::vector<std::vector<float>> got(ms.size());
      for (size_t i = 0; i < ms.size(); ++i) got[i].resize(n_tokens * ms[i].t.ne[1]);
      MatMuls(k,
              {{&ms[0].t, got[0].data()},
               {&ms[1].t, got[1].data()},
               {&ms[2].t, got[2].data()},
               {&ms[3].t, got[3].data()}},
              x.data(), n_tokens, ws, pool);
      for (int i : {0, 2, 3}) {
        const TypeTraits* tt = k.Find(ms[i].t.type);
        const TypeTraits* at = k.Find(tt->vec_dot_type);
        const size_t act_bytes = RowBytes(*at, n_in);
        std::vector<uint8_t> xq(act_bytes);
        for (int64_t t = 0; t < n_tokens; ++t) {
          at->quantize_row(x.data() + t * n_in, xq.data(), n_in);
          for (int64_t r = 0; r < ms[i].t.ne[1]; ++r) {
            const float want = tt->repacked_order(n_in, plain[i].t.Row(r), xq.data());
            const float have = got[i][t * ms[i].t.ne[1] + r];
            ASSERT_EQ(std::memcmp(&want, &have, sizeof(float)), 0)
                << QuantTypeName(ms[i].t.type) << " row " << r << ", token " << t << " of "
                << n_tokens << ", " << threads << " threads: " << have << " vs " << want;
            ++compared;
          }
        }
      }
    }
  }
  EXPECT_GT(compared, 0);
}

// Every token of a batch gives exactly what a batch of that token alone gives (a decoding step),
// for every weight type, in the file's layout and repacked: the forward pass's matmuls are
// batch-invariant, so a token's results never depend on the sequences beside it, on how a prompt
// is cut into chunks, or on whether it was decoded or read as prompt.
TEST(LayersMatMuls, EveryTokenAsABatchOfItsOwn) {
  std::mt19937 rng(6);
  const Kernels& k = harness::KernelsUnderTest();
  const int64_t n_in = 512;
  const int64_t n_tokens = 37;
  std::vector<float> x(n_tokens * n_in);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (float& v : x) v = dist(rng);
  Workspace ws;
  int compared = 0;
  for (QuantType type :
       {QuantType::kF32, QuantType::kF16, QuantType::kBF16, QuantType::kQ4_0, QuantType::kQ4_1,
        QuantType::kQ5_0, QuantType::kQ5_1, QuantType::kQ8_0, QuantType::kQ4_K, QuantType::kQ5_K,
        QuantType::kQ6_K}) {
    for (bool repack : {false, true}) {
      OwnedMatrix m = RandomMatrix(type, n_in, 40, rng);
      if (repack) {
        if (k.Find(type)->repack_rows8 == nullptr) continue;
        RepackInPlace(k, m);
      }
      const int64_t n_out = m.t.ne[1];
      for (int threads : {1, 3}) {
        ThreadPool pool(threads);
        std::vector<float> batch(n_tokens * n_out), alone(n_out);
        MatMul(k, m.t, x.data(), n_tokens, batch.data(), ws, pool);
        for (int64_t t = 0; t < n_tokens; ++t) {
          MatMul(k, m.t, x.data() + t * n_in, 1, alone.data(), ws, pool);
          ASSERT_EQ(std::memcmp(alone.data(), batch.data() + t * n_out, n_out * sizeof(float)), 0)
              << QuantTypeName(type) << (repack ? " repacked" : "") << ", token " << t << ", "
              << threads << " threads";
          compared += static_cast<int>(n_out);
        }
      }
    }
  }
  EXPECT_GT(compared, 0);
}

}  // namespace
}  // namespace foundry
