// Byte-level BPE and SentencePiece vocabularies from llama.cpp's models/ggml-vocab-*.gguf, with
// token ids from the Hugging Face reference tokenizers (.inp / .out next to each file, see
// tests/data/tokenizer/README.md). Every string must encode to exactly the expected ids.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "format/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace foundry {
namespace {

const std::string kDir = FOUNDRY_SOURCE_DIR "/tests/data/tokenizer/";

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << "cannot open " << path;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The .inp format: each test string is followed by "\n__ggml_vocab_test__\n".
std::vector<std::string> ReadInputs(const std::string& path) {
  const std::string text = ReadFile(path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  size_t pos = 0;
  for (size_t at; (at = text.find(sep, pos)) != std::string::npos; pos = at + sep.size()) {
    out.push_back(text.substr(pos, at - pos));
  }
  EXPECT_EQ(pos, text.size()) << "trailing text after the last separator in " << path;
  return out;
}

std::vector<std::vector<int32_t>> ReadOutputs(const std::string& path) {
  std::istringstream in(ReadFile(path));
  std::vector<std::vector<int32_t>> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::vector<int32_t> ids;
    for (int64_t id; ls >> id;) ids.push_back(static_cast<int32_t>(id));
    out.push_back(std::move(ids));
  }
  return out;
}

std::string Show(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) {
    s += ' ';
    s += std::to_string(id);
  }
  return s;
}

class VocabFixtureTest : public ::testing::TestWithParam<const char*> {};

TEST_P(VocabFixtureTest, MatchesReferenceIds) {
  const std::string base = kDir + "ggml-vocab-" + GetParam() + ".gguf";
  auto gguf = GgufFile::Open(base);
  ASSERT_TRUE(gguf.ok()) << gguf.status().message();
  auto tok = Tokenizer::Create(**gguf);
  ASSERT_TRUE(tok.ok()) << tok.status().message();

  const std::vector<std::string> inputs = ReadInputs(base + ".inp");
  const std::vector<std::vector<int32_t>> expected = ReadOutputs(base + ".out");
  ASSERT_EQ(inputs.size(), expected.size());
  ASSERT_GT(inputs.size(), 40u);
  int failures = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::vector<int32_t> ids = (*tok)->Encode(inputs[i], false, false);
    EXPECT_EQ(ids, expected[i]) << "string " << i << ": '" << inputs[i]
                                << "'\n  got:     " << Show(ids)
                                << "\n  expected:" << Show(expected[i]);
    failures += ids != expected[i];
    // Byte-level BPE and byte-fallback SentencePiece are lossless.
    EXPECT_EQ((*tok)->Decode(ids), inputs[i]) << "round trip of string " << i;
  }
  EXPECT_EQ(failures, 0);
}

std::string ParamName(const ::testing::TestParamInfo<const char*>& info) {
  std::string n = info.param;
  for (char& c : n) {
    if (c == '-') c = '_';
  }
  return n;
}

INSTANTIATE_TEST_SUITE_P(Bpe, VocabFixtureTest,
                         ::testing::Values("gpt-2", "starcoder", "deepseek-coder", "deepseek-llm",
                                           "falcon", "mpt", "refact"),
                         ParamName);

INSTANTIATE_TEST_SUITE_P(SentencePiece, VocabFixtureTest, ::testing::Values("llama-spm", "phi-3"),
                         ParamName);

}  // namespace
}  // namespace foundry
