#include "format/gguf_file.h"

#include <gtest/gtest.h>

#include <string>

namespace foundry {
namespace {

const std::string kFixtures = std::string(FOUNDRY_SOURCE_DIR) + "/tests/data/tokenizer/";

TEST(GgufFile, ReadsVocabularyFixture) {
  auto f = GgufFile::Open(kFixtures + "ggml-vocab-gpt-2.gguf");
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ((*f)->version(), 3u);
  auto model = (*f)->GetString("tokenizer.ggml.model");
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(*model, "gpt2");
  auto tokens = (*f)->GetStringArray("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ((*tokens)->size(), 50257u);
  EXPECT_EQ((**tokens)[0], "!");
  auto types = (*f)->GetIntArray("tokenizer.ggml.token_type");
  ASSERT_TRUE(types.ok());
  EXPECT_EQ(types->size(), 50257u);
}

TEST(GgufFile, TypedLookupsReportWrongTypesAndMissingKeys) {
  auto f = GgufFile::Open(kFixtures + "ggml-vocab-gpt-2.gguf");
  ASSERT_TRUE(f.ok());
  auto missing = (*f)->GetUint("no.such.key");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no.such.key"), std::string::npos);
  auto wrong = (*f)->GetUint("tokenizer.ggml.model");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("expected an integer"), std::string::npos);
  auto absent = (*f)->FindUint("no.such.key");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());
}

TEST(GgufFile, MissingFileIsNotFound) {
  auto f = GgufFile::Open("/nonexistent/model.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
}

TEST(GgufFile, RejectsNonGguf) {
  const uint8_t bytes[] = {'G', 'G', 'U', 'X', 3, 0, 0, 0};
  auto f = GgufFile::Parse(MappedFile::FromBuffer(bytes, sizeof(bytes)));
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("magic"), std::string::npos);
}

}  // namespace
}  // namespace foundry
