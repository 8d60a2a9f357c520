// The GGUF writer, checked by reading its files back with the GGUF reader.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "format/gguf_file.h"
#include "format/gguf_writer.h"
#include "temp_dir.h"

namespace foundry {
namespace {

// AddValue writes what GgufFile read, type and all: the re-quantizer's copy of the metadata.
TEST(GgufWriter, CopiesValuesReadFromAnotherFile) {
  testing::TempDir dir;
  const auto write = [](GgufWriter& w, const std::string& path) {
    ASSERT_TRUE(w.AddTensor("t", {32}, QuantType::kF32).ok());
    ASSERT_TRUE(w.Open(path).ok());
    const std::vector<float> zeros(32, 0.0f);
    ASSERT_TRUE(w.Append(zeros.data(), zeros.size() * sizeof(float)).ok());
    ASSERT_TRUE(w.Finish().ok());
  };
  GgufWriter first;
  first.AddString("s", "text");
  first.AddUint32("u32", 7);
  first.AddInt32("i32", -7);
  first.AddUint64("u64", uint64_t{1} << 40);
  first.AddFloat32("f32", 0.1f);
  first.AddBool("b", true);
  first.AddStringArray("sa", {"a", "", "b c"});
  first.AddInt32Array("ia", {-1, 2, 3});
  first.AddFloat32Array("fa", {0.25f, -8.0f});
  write(first, (dir.path() / "a.gguf").string());
  auto a = GgufFile::Open((dir.path() / "a.gguf").string());
  ASSERT_TRUE(a.ok()) << a.status().message();

  GgufWriter second;
  for (const auto& [key, value] : (*a)->metadata()) ASSERT_TRUE(second.AddValue(key, value).ok());
  write(second, (dir.path() / "b.gguf").string());
  auto b = GgufFile::Open((dir.path() / "b.gguf").string());
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_EQ((*a)->metadata().size(), (*b)->metadata().size());
  for (size_t k = 0; k < (*a)->metadata().size(); ++k) {
    const auto& [ka, va] = (*a)->metadata()[k];
    const auto& [kb, vb] = (*b)->metadata()[k];
    EXPECT_EQ(ka, kb);
    EXPECT_EQ(va.type, vb.type) << ka;
    EXPECT_EQ(va.u, vb.u) << ka;
    EXPECT_EQ(va.i, vb.i) << ka;
    EXPECT_EQ(va.f, vb.f) << ka;
    EXPECT_EQ(va.str, vb.str) << ka;
    EXPECT_EQ(va.elem_type, vb.elem_type) << ka;
    EXPECT_EQ(va.count, vb.count) << ka;
    EXPECT_EQ(va.strs, vb.strs) << ka;
    if (va.elems != nullptr) {
      ASSERT_NE(vb.elems, nullptr) << ka;
      EXPECT_EQ(std::memcmp(va.elems, vb.elems, va.count * GgufScalarSize(va.elem_type)), 0) << ka;
    }
  }
}

TEST(GgufWriter, RoundTripsMetadataAndTensors) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "out.gguf").string();
  GgufWriter w;
  w.AddString("general.architecture", "llama");
  w.AddUint32("llama.block_count", 2);
  w.AddInt32("tokenizer.ggml.bos_token_id", -1);
  w.AddUint64("big", uint64_t{1} << 40);
  w.AddFloat32("llama.rope.freq_base", 500000.0f);
  w.AddBool("tokenizer.ggml.add_bos_token", true);
  w.AddStringArray("tokenizer.ggml.tokens", {"a", "", "hello world"});
  w.AddInt32Array("tokenizer.ggml.token_type", {1, 3, 6});
  w.AddFloat32Array("tokenizer.ggml.scores", {0.5f, -1.0f, 2.0f});
  auto a = w.AddTensor("a", {3}, QuantType::kF32);  // 12 bytes: padded to 32
  auto b = w.AddTensor("b", {32, 2}, QuantType::kQ8_0);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, 12u);
  EXPECT_EQ(*b, 68u);
  EXPECT_FALSE(w.AddTensor("c", {33}, QuantType::kQ8_0).ok());  // not a whole block
  EXPECT_FALSE(w.AddTensor("c", {0}, QuantType::kF32).ok());
  ASSERT_TRUE(w.Open(path).ok());
  const float av[3] = {1.0f, 2.0f, 3.0f};
  ASSERT_TRUE(w.Append(av, sizeof(av)).ok());
  std::vector<uint8_t> bv(68);
  for (size_t i = 0; i < bv.size(); ++i) bv[i] = static_cast<uint8_t>(i);
  ASSERT_TRUE(w.Append(bv.data(), 10).ok());  // in pieces
  ASSERT_TRUE(w.Append(bv.data() + 10, 58).ok());
  ASSERT_TRUE(w.Finish().ok());

  auto g = GgufFile::Open(path);
  ASSERT_TRUE(g.ok()) << g.status().message();
  const GgufFile& f = **g;
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(*f.GetString("general.architecture"), "llama");
  EXPECT_EQ(*f.GetUint("llama.block_count"), 2u);
  EXPECT_EQ(f.Find("tokenizer.ggml.bos_token_id")->i, -1);
  EXPECT_EQ(*f.GetUint("big"), uint64_t{1} << 40);
  EXPECT_EQ(*f.GetFloat("llama.rope.freq_base"), 500000.0);
  EXPECT_EQ(**f.FindBool("tokenizer.ggml.add_bos_token"), true);
  auto tokens = f.GetStringArray("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ((*tokens)->size(), 3u);
  EXPECT_EQ((**tokens)[2], "hello world");
  EXPECT_EQ(*f.GetIntArray("tokenizer.ggml.token_type"), (std::vector<int64_t>{1, 3, 6}));
  EXPECT_EQ(*f.GetFloatArray("tokenizer.ggml.scores"), (std::vector<float>{0.5f, -1.0f, 2.0f}));
  ASSERT_EQ(f.tensors().size(), 2u);
  const GgufTensorInfo* ta = f.FindTensor("a");
  const GgufTensorInfo* tb = f.FindTensor("b");
  ASSERT_TRUE(ta && tb);
  EXPECT_EQ(ta->type, QuantType::kF32);
  EXPECT_EQ(std::memcmp(ta->data, av, sizeof(av)), 0);
  EXPECT_EQ(tb->type, QuantType::kQ8_0);
  EXPECT_EQ(tb->ne[0], 32u);
  EXPECT_EQ(tb->ne[1], 2u);
  EXPECT_EQ(tb->offset, 32u);
  EXPECT_EQ(std::memcmp(tb->data, bv.data(), bv.size()), 0);
}

TEST(GgufWriter, IncompleteTensorDataIsAnError) {
  testing::TempDir dir;
  GgufWriter w;
  ASSERT_TRUE(w.AddTensor("a", {4}, QuantType::kF32).ok());
  ASSERT_TRUE(w.Open((dir.path() / "x.gguf").string()).ok());
  const float v[2] = {1, 2};
  ASSERT_TRUE(w.Append(v, sizeof(v)).ok());
  EXPECT_FALSE(w.Finish().ok());
}

}  // namespace
}  // namespace foundry
