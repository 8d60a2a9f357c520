// The ONNX reader over hand-encoded protobuf: nodes, attributes, raw and external initializer
// data, and the errors for truncated messages, external data outside its file and bad paths.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "format/onnx_model.h"
#include "format/protobuf_wire.h"

namespace foundry {
namespace {
namespace fs = std::filesystem;

std::string Varint(uint64_t v) {
  std::string s;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    s.push_back(static_cast<char>(b | (v ? 0x80 : 0)));
  } while (v);
  return s;
}
std::string Field(uint32_t n, const std::string& bytes) {
  return Varint(uint64_t{n} << 3 | 2) + Varint(bytes.size()) + bytes;
}
std::string IntField(uint32_t n, uint64_t v) { return Varint(uint64_t{n} << 3) + Varint(v); }
std::string FloatField(uint32_t n, float f) {
  std::string s = Varint(uint64_t{n} << 3 | 5);
  s.append(reinterpret_cast<const char*>(&f), 4);
  return s;
}
std::string Entry(const std::string& k, const std::string& v) {
  return Field(13, Field(1, k) + Field(2, v));
}

std::string Node() {
  return Field(1, "x") + Field(1, "w") + Field(2, "y") + Field(3, "/mm") + Field(4, "MatMulNBits") +
         Field(5, Field(1, "K") + IntField(3, 32) + IntField(20, 2)) +
         Field(5, Field(1, "epsilon") + FloatField(2, 1e-5f)) +
         Field(5, Field(1, "perm") + Field(8, Varint(1) + Varint(0)));
}
std::string RawTensor(const std::string& name, std::vector<float> v) {
  std::string raw(reinterpret_cast<const char*>(v.data()), v.size() * 4);
  return IntField(1, v.size()) + IntField(2, 1) + Field(8, name) + Field(9, raw);
}
std::string Model(const std::string& graph) { return IntField(1, 10) + Field(7, graph); }

StatusOr<std::unique_ptr<OnnxModel>> ParseBytes(const std::string& bytes,
                                                const fs::path& dir = {}) {
  return OnnxModel::Parse(
      MappedFile::FromBuffer(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), dir);
}

TEST(OnnxModel, ReadsNodesAttributesAndRawInitializers) {
  const std::string bytes = Model(Field(1, Node()) + Field(5, RawTensor("w", {1, 2, 3})));
  auto m = ParseBytes(bytes);
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ((*m)->nodes().size(), 1u);
  const OnnxNode& n = (*m)->nodes()[0];
  EXPECT_EQ(n.op_type, "MatMulNBits");
  EXPECT_EQ(n.name, "/mm");
  EXPECT_EQ(n.inputs, (std::vector<std::string>{"x", "w"}));
  EXPECT_EQ(n.Int("K"), 32);
  EXPECT_FLOAT_EQ(*n.Float("epsilon"), 1e-5f);
  EXPECT_EQ(n.attributes.at("perm").ints, (std::vector<int64_t>{1, 0}));
  const OnnxTensor* w = (*m)->Find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->dims, (std::vector<int64_t>{3}));
  ASSERT_EQ(w->nbytes, 12u);
  float third;
  std::memcpy(&third, w->data + 8, 4);
  EXPECT_EQ(third, 3.0f);
}

TEST(OnnxModel, EveryTruncationIsAnErrorNotACrash) {
  const std::string bytes = Model(Field(1, Node()) + Field(5, RawTensor("w", {1, 2, 3})));
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto m = ParseBytes(bytes.substr(0, n));
    if (!m.ok()) {
      EXPECT_EQ(m.status().message().find('\n'), std::string::npos);
    }
  }
  EXPECT_FALSE(ParseBytes(bytes.substr(0, bytes.size() - 1)).ok());
}

TEST(OnnxModel, RawDataMustMatchTheShape) {
  std::string t = IntField(1, 4) + IntField(2, 1) + Field(8, "w") + Field(9, std::string(12, '\0'));
  auto m = ParseBytes(Model(Field(5, t)));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("tensor 'w' has 12 raw bytes but its shape needs 16"),
            std::string::npos)
      << m.status().message();
}

class OnnxExternal : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("onnx_model_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "model.onnx.data", std::ios::binary) << std::string(32, '\x01');
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Tensor(const std::string& location, uint64_t offset, uint64_t length) {
    return Field(5, IntField(1, 2) + IntField(1, 2) + IntField(2, 1) + Field(8, "c") +
                        Entry("location", location) + Entry("offset", std::to_string(offset)) +
                        Entry("length", std::to_string(length)) + IntField(14, 1));
  }
  fs::path dir_;
};

TEST_F(OnnxExternal, ReadsInsideTheDataFile) {
  auto m = ParseBytes(Model(Tensor("model.onnx.data", 16, 16)), dir_);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ((*m)->Find("c")->nbytes, 16u);
  EXPECT_EQ((*m)->Find("c")->data[15], 1);
}

TEST_F(OnnxExternal, RefusesRangesOutsideTheFileAndPathsOutsideTheFolder) {
  auto past_end = ParseBytes(Model(Tensor("model.onnx.data", 24, 16)), dir_);
  ASSERT_FALSE(past_end.ok());
  EXPECT_NE(past_end.status().message().find("truncated file?"), std::string::npos);
  auto wrong_length = ParseBytes(Model(Tensor("model.onnx.data", 0, 8)), dir_);
  EXPECT_FALSE(wrong_length.ok());
  auto missing = ParseBytes(Model(Tensor("other.data", 0, 16)), dir_);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("is missing"), std::string::npos);
  EXPECT_FALSE(ParseBytes(Model(Tensor("../model.onnx.data", 0, 16)), dir_).ok());
  EXPECT_FALSE(ParseBytes(Model(Tensor("/etc/passwd", 0, 16)), dir_).ok());
  EXPECT_FALSE(ParseBytes(Model(Tensor("model.onnx.data", 0, 16))).ok());  // no folder
}

TEST(WireReader, PackedAndUnpackedRepeatedFieldsAreTheSame) {
  const std::string bytes = IntField(1, 5) + Field(1, Varint(6) + Varint(300));
  WireReader r(bytes, "test");
  std::vector<int64_t> v;
  while (!r.done()) {
    auto f = r.Next();
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(r.AppendInt64s(*f, &v).ok());
  }
  EXPECT_EQ(v, (std::vector<int64_t>{5, 6, 300}));
  const std::string group("\x0b", 1);  // wire type 3 (a group)
  WireReader bad(group, "test");
  EXPECT_FALSE(bad.Next().ok());
}

}  // namespace
}  // namespace foundry
