// The safetensors reader: well-formed files parse; truncated and corrupt ones fail with a
// one-line message and never read outside the file.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/fp16.h"
#include "format/safetensors_file.h"

namespace foundry {
namespace {

std::vector<uint8_t> Build(const std::string& header, const std::vector<uint8_t>& data,
                           int64_t header_len = -1) {
  const uint64_t n = header_len < 0 ? header.size() : static_cast<uint64_t>(header_len);
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(n >> (8 * i));
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(data.data()), data.size());
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

// The file views `bytes` without owning them: they must outlive it (no temporaries).
StatusOr<std::unique_ptr<SafetensorsFile>> ParseBytes(const std::vector<uint8_t>& bytes) {
  return SafetensorsFile::Parse(MappedFile::FromBuffer(bytes.data(), bytes.size()));
}
StatusOr<std::unique_ptr<SafetensorsFile>> ParseBytes(std::vector<uint8_t>&&) = delete;

std::vector<uint8_t> Bf16Bytes(const std::vector<float>& v) {
  std::vector<uint8_t> out;
  for (float f : v) {
    const uint16_t h = Fp32ToBf16(f);
    out.push_back(static_cast<uint8_t>(h));
    out.push_back(static_cast<uint8_t>(h >> 8));
  }
  return out;
}

TEST(Safetensors, ParsesTensorsAndConvertsToFloat) {
  std::vector<uint8_t> data = Bf16Bytes({1.0f, -2.0f, 0.5f, 3.0f, 4.0f, 5.0f});
  const float f32[2] = {7.25f, -1.5f};
  for (int i = 0; i < 8; ++i) data.push_back(reinterpret_cast<const uint8_t*>(f32)[i]);
  const std::string header = R"({"__metadata__":{"format":"pt"},)"
                             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]},)"
                             R"("a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]}})";
  const std::vector<uint8_t> bytes = Build(header, data);
  auto f = ParseBytes(bytes);
  ASSERT_TRUE(f.ok()) << f.status().message();
  ASSERT_EQ((*f)->tensors().size(), 2u);
  EXPECT_EQ((*f)->tensors()[0].name, "a");  // data order
  const SafetensorsTensor* a = (*f)->Find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dtype, SafetensorsDtype::kBF16);
  EXPECT_EQ(a->shape, (std::vector<uint64_t>{2, 3}));
  float out[6];
  ASSERT_TRUE(SafetensorsToFloat(*a, 0, 6, out).ok());
  EXPECT_EQ(out[1], -2.0f);
  EXPECT_EQ(out[5], 5.0f);
  ASSERT_TRUE(SafetensorsToFloat(*(*f)->Find("b"), 1, 1, out).ok());
  EXPECT_EQ(out[0], -1.5f);
  EXPECT_EQ((*f)->Find("missing"), nullptr);
}

void ExpectCorrupt(const std::vector<uint8_t>& bytes, const std::string& needle) {
  auto f = ParseBytes(bytes);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kCorruptFile);
  EXPECT_NE(f.status().message().find(needle), std::string::npos) << f.status().message();
  EXPECT_EQ(f.status().message().find('\n'), std::string::npos);
}

TEST(Safetensors, RejectsTruncatedAndCorruptFiles) {
  const std::string ok_header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::vector<uint8_t> data(8, 0);
  const std::vector<uint8_t> ok = Build(ok_header, data);
  ASSERT_TRUE(ParseBytes(ok).ok());

  ExpectCorrupt({1, 2, 3}, "truncated");
  // Data cut short: the tensor's range runs past the end.
  ExpectCorrupt(Build(ok_header, std::vector<uint8_t>(5, 0)), "truncated");
  // Header length larger than the file, and absurdly large.
  ExpectCorrupt(Build(ok_header, data, 4096), "truncated");
  ExpectCorrupt(Build(ok_header, data, int64_t{1} << 40), "limit");
  ExpectCorrupt(Build("[1,2]", {}), "not a JSON object");
  ExpectCorrupt(Build("{\"a\":", {}), "not a JSON object");
  ExpectCorrupt(Build(R"({"a":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}})", data),
                "unknown dtype");
  ExpectCorrupt(Build(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data),
                "shape needs");
  ExpectCorrupt(Build(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", data),
                "outside");
  ExpectCorrupt(Build(R"({"a":{"dtype":"F32","shape":[2]}})", data), "data_offsets");
  ExpectCorrupt(Build(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", data), "dtype");
  ExpectCorrupt(
      Build(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", data),
      "shape");
  ExpectCorrupt(Build(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                      R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                      data),
                "overlap");
}

TEST(Safetensors, IntegerWeightsAreNotConverted) {
  const std::string header = R"({"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}})";
  const std::vector<uint8_t> bytes = Build(header, std::vector<uint8_t>(8, 0));
  auto f = ParseBytes(bytes);
  ASSERT_TRUE(f.ok());
  float out[2];
  Status s = SafetensorsToFloat((*f)->tensors()[0], 0, 2, out);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("I32"), std::string::npos);
}

}  // namespace
}  // namespace foundry
