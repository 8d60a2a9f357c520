// Runs the GGUF reader over tests/data/gguf-corpus (written by tools/make_gguf_corpus.py):
// every valid file parses with the values the generator put there, and every invalid file is
// rejected with a one-line message containing the manifest's substring.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "format/gguf_file.h"

namespace foundry {
namespace {

const std::string kCorpus = std::string(FOUNDRY_SOURCE_DIR) + "/tests/data/gguf-corpus/";

nlohmann::json LoadManifest() {
  std::ifstream in(kCorpus + "manifest.json");
  EXPECT_TRUE(in.good()) << "missing " << kCorpus << "manifest.json";
  return nlohmann::json::parse(in);
}

std::set<std::string> FilesIn(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(kCorpus + dir)) {
    if (e.is_regular_file()) out.insert(e.path().filename().string());
  }
  return out;
}

// The same 31-bit LCG the generator uses for quantized tensor payloads.
std::vector<uint8_t> Pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> out;
  uint32_t x = seed;
  for (size_t k = 0; k < n; ++k) {
    x = (x * 1103515245u + 12345u) & 0x7FFFFFFFu;
    out.push_back(static_cast<uint8_t>((x >> 16) & 0xFF));
  }
  return out;
}

TEST(GgufCorpus, ManifestListsEveryFile) {
  const auto m = LoadManifest();
  std::set<std::string> valid, invalid;
  for (const auto& [name, _] : m.at("valid").items()) valid.insert(name);
  for (const auto& [name, _] : m.at("invalid").items()) invalid.insert(name);
  EXPECT_EQ(valid, FilesIn("valid"));
  EXPECT_EQ(invalid, FilesIn("invalid"));
  EXPECT_GE(valid.size(), 5u);
  EXPECT_GE(invalid.size(), 50u);
}

TEST(GgufCorpus, ValidFilesParse) {
  const auto m = LoadManifest();
  for (const auto& [name, facts] : m.at("valid").items()) {
    SCOPED_TRACE(name);
    auto f = GgufFile::Open(kCorpus + "valid/" + name);
    ASSERT_TRUE(f.ok()) << f.status().message();
    const GgufFile& g = **f;
    EXPECT_EQ(g.version(), facts.at("version").get<uint32_t>());
    EXPECT_EQ(g.alignment(), facts.at("alignment").get<uint64_t>());
    EXPECT_EQ(g.metadata().size(), facts.at("n_kv").get<size_t>());
    std::vector<std::string> names;
    for (const auto& t : g.tensors()) names.push_back(t.name);
    EXPECT_EQ(names, facts.at("tensors").get<std::vector<std::string>>());
    for (const auto& t : g.tensors()) {
      EXPECT_EQ(t.offset % g.alignment(), 0u) << t.name;
      EXPECT_EQ(g.FindTensor(t.name), &t);
    }
  }
}

// The full metadata set (every value type) as the generator writes it.
void CheckFullMetadata(const GgufFile& g) {
  EXPECT_EQ(*g.GetString("general.architecture"), "llama");
  EXPECT_EQ(*g.GetString("general.name"), "foundry gguf corpus");
  EXPECT_EQ(*g.GetUint("test.u8"), 200u);
  EXPECT_EQ(g.Find("test.i8")->i, -100);
  EXPECT_EQ(g.Find("test.i8")->type, GgufType::kInt8);
  EXPECT_EQ(*g.GetUint("test.u16"), 60000u);
  EXPECT_EQ(*g.GetFloat("test.i16"), -30000.0);
  EXPECT_EQ(*g.GetUint("test.u32"), 4000000000u);
  EXPECT_EQ(g.Find("test.i32")->i, -2000000000);
  EXPECT_EQ(*g.GetFloat("test.f32"), 0.5);
  EXPECT_EQ(g.Find("test.f32")->type, GgufType::kFloat32);
  EXPECT_EQ(**g.FindBool("test.bool_true"), true);
  EXPECT_EQ(**g.FindBool("test.bool_false"), false);
  EXPECT_EQ(*g.GetUint("test.u64"), (uint64_t{1} << 63) + 5);
  EXPECT_EQ(g.Find("test.i64")->i, -(int64_t{1} << 62));
  EXPECT_EQ(*g.GetFloat("test.f64"), 3.141592653589793);
  EXPECT_EQ(g.Find("test.f64")->type, GgufType::kFloat64);
  EXPECT_EQ(*g.GetString("test.str_empty"), "");
  EXPECT_EQ(*g.GetString("test.str_utf8"), "h\xc3\xa9llo \xe2\x9c\x93");
  EXPECT_EQ(*g.GetUint("test.last"), 42u);

  auto strs = g.GetStringArray("test.arr_str");
  ASSERT_TRUE(strs.ok());
  EXPECT_EQ(**strs, (std::vector<std::string_view>{"a", "bc", "",
                                                   "d\xc3\xa9"
                                                   "f"}));
  EXPECT_EQ(*g.GetIntArray("test.arr_u8"), (std::vector<int64_t>{0, 1, 255}));
  EXPECT_EQ(*g.GetIntArray("test.arr_i8"), (std::vector<int64_t>{-128, 127}));
  EXPECT_EQ(*g.GetIntArray("test.arr_u16"), (std::vector<int64_t>{65535}));
  EXPECT_EQ(*g.GetIntArray("test.arr_i16"), (std::vector<int64_t>{-2, 3}));
  EXPECT_EQ(*g.GetIntArray("test.arr_u32"), (std::vector<int64_t>{7, 8, 9}));
  EXPECT_EQ(*g.GetIntArray("test.arr_i32"), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(*g.GetFloatArray("test.arr_f32"), (std::vector<float>{0.25f, -1.5f}));
  EXPECT_EQ(*g.GetFloatArray("test.arr_i32"), (std::vector<float>{1, -2, 3}));
  EXPECT_EQ(*g.GetIntArray("test.arr_bool"), (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(*g.GetIntArray("test.arr_i64"),
            (std::vector<int64_t>{std::numeric_limits<int64_t>::min(), 5}));
  EXPECT_EQ(*g.GetFloatArray("test.arr_f64"), (std::vector<float>{INFINITY, -0.125f}));
  // 2^64-1 does not fit in int64: an error, not a wrapped value.
  auto u64s = g.GetIntArray("test.arr_u64");
  ASSERT_FALSE(u64s.ok());
  EXPECT_NE(u64s.status().message().find("element 0 does not fit"), std::string::npos);
  EXPECT_FALSE(g.GetIntArray("test.arr_f32").ok());

  for (const char* key : {"test.arr_nested_i32", "test.arr_nested_str"}) {
    const GgufValue* v = g.Find(key);
    ASSERT_NE(v, nullptr) << key;
    EXPECT_EQ(v->type, GgufType::kArray);
    EXPECT_EQ(v->elem_type, GgufType::kArray);
    EXPECT_EQ(v->count, 2u);
    EXPECT_FALSE(g.GetIntArray(key).ok());
    EXPECT_FALSE(g.GetStringArray(key).ok());
  }
}

void CheckTensors(const GgufFile& g) {
  ASSERT_EQ(g.tensors().size(), 4u);
  const GgufTensorInfo* embd = g.FindTensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->type, QuantType::kF32);
  EXPECT_EQ(embd->n_dims, 2u);
  EXPECT_EQ(embd->ne, (std::array<uint64_t, 4>{8, 2, 1, 1}));
  EXPECT_EQ(embd->nbytes, 64u);
  for (int k = 0; k < 16; ++k) {
    float x;
    std::memcpy(&x, embd->data + 4 * k, 4);
    EXPECT_EQ(x, 0.5f * k);
  }
  const GgufTensorInfo* norm = g.FindTensor("output_norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->type, QuantType::kF16);
  EXPECT_EQ(norm->n_dims, 1u);
  EXPECT_EQ(norm->nbytes, 32u);
  uint16_t h0;
  std::memcpy(&h0, norm->data, 2);
  EXPECT_EQ(h0, 0xC000);  // (0 - 8) / 4 = -2.0 in binary16
  const GgufTensorInfo* q8 = g.FindTensor("blk.0.attn_q.weight");
  ASSERT_NE(q8, nullptr);
  EXPECT_EQ(q8->type, QuantType::kQ8_0);
  EXPECT_EQ(q8->rows(), 2u);
  EXPECT_EQ(q8->nbytes, 68u);
  EXPECT_EQ(std::vector<uint8_t>(q8->data, q8->data + 68), Pattern(68, 1));
  const GgufTensorInfo* q4 = g.FindTensor("blk.0.ffn_down.weight");
  ASSERT_NE(q4, nullptr);
  EXPECT_EQ(q4->type, QuantType::kQ4_K);
  EXPECT_EQ(q4->elements(), 256u);
  EXPECT_EQ(q4->nbytes, 144u);
  EXPECT_EQ(std::vector<uint8_t>(q4->data, q4->data + 144), Pattern(144, 2));
}

TEST(GgufCorpus, ValidFilesHoldTheGeneratedValues) {
  for (const char* name : {"writer-v3", "writer-align64", "hand-v2", "hand-empty-arrays",
                           "tensors-out-of-order", "alignment-16-int32"}) {
    SCOPED_TRACE(name);
    auto f = GgufFile::Open(kCorpus + "valid/" + name + ".gguf");
    ASSERT_TRUE(f.ok()) << f.status().message();
    CheckFullMetadata(**f);
    CheckTensors(**f);
  }
  auto a64 = GgufFile::Open(kCorpus + "valid/writer-align64.gguf");
  ASSERT_TRUE(a64.ok());
  EXPECT_EQ((*a64)->alignment(), 64u);
  EXPECT_EQ((*a64)->FindTensor("output_norm.weight")->offset, 64u);
  EXPECT_EQ((*a64)->FindTensor("blk.0.attn_q.weight")->offset, 128u);

  auto empty = GgufFile::Open(kCorpus + "valid/hand-empty-arrays.gguf");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE((*empty)->GetIntArray("test.arr_empty")->empty());
  EXPECT_TRUE((*(*empty)->GetStringArray("test.arr_empty_str"))->empty());

  auto header = GgufFile::Open(kCorpus + "valid/header-only.gguf");
  ASSERT_TRUE(header.ok());
  EXPECT_TRUE((*header)->metadata().empty());
  EXPECT_TRUE((*header)->tensors().empty());
  EXPECT_EQ((*header)->file_size(), 32u);
}

TEST(GgufCorpus, InvalidFilesFailWithTheExpectedOneLineMessage) {
  const auto m = LoadManifest();
  size_t checked = 0;
  for (const auto& [name, expect_json] : m.at("invalid").items()) {
    SCOPED_TRACE(name);
    const std::string expect = expect_json.get<std::string>();
    EXPECT_FALSE(expect.empty()) << "manifest gives no expected message";
    auto f = GgufFile::Open(kCorpus + "invalid/" + name);
    ASSERT_FALSE(f.ok()) << "accepted a corrupt file";
    const Status& s = f.status();
    EXPECT_TRUE(s.code() == StatusCode::kCorruptFile || s.code() == StatusCode::kUnimplemented)
        << static_cast<int>(s.code());
    EXPECT_NE(s.message().find(expect), std::string::npos)
        << "message: " << s.message() << "\nexpected to contain: " << expect;
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
    EXPECT_LT(s.message().size(), 400u) << s.message();
    ++checked;
  }
  EXPECT_GE(checked, 50u);
}

}  // namespace
}  // namespace foundry
