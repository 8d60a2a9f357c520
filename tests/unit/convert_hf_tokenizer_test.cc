// Hugging Face tokenizer folders -> GGUF vocabulary (src/convert/hf_tokenizer.cc).
//  * Golden: the SmolLM2 and Qwen2.5-Coder tokenizer files (tests/data/hf/<model>/, gzipped)
//    give exactly what llama.cpp's convert_hf_to_gguf.py --vocab-only writes for them
//    (tests/golden/data/hf_tokenizer.json, tools/gen_hf_tokenizer_goldens.py).
//  * End to end: the converted vocabulary tokenizes like the original GGUF's (the check that
//    the pre-tokenizer identified from tokenizer.json is right). Needs the models in the
//    git-ignored cache (`make models`).
//  * Every bad input gets one clear Status naming the file and the field.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "convert/hf_tokenizer.h"
#include "format/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace foundry::convert {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

const fs::path kFixtures = FOUNDRY_SOURCE_DIR "/tests/data/hf";
const fs::path kGolden = FOUNDRY_SOURCE_DIR "/tests/golden/data/hf_tokenizer.json";
const fs::path kModels = FOUNDRY_SOURCE_DIR "/.cache/models";

std::string Gunzip(const fs::path& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return {};
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  gzclose(f);
  return out;
}

std::optional<std::string> GunzipIfPresent(const fs::path& path) {
  if (!fs::exists(path)) return std::nullopt;
  return Gunzip(path);
}

HfTokenizerFiles Fixture(const std::string& model) {
  const fs::path dir = kFixtures / model;
  HfTokenizerFiles f;
  f.tokenizer_json = Gunzip(dir / "tokenizer.json.gz");
  f.tokenizer_config_json = GunzipIfPresent(dir / "tokenizer_config.json.gz");
  f.config_json = GunzipIfPresent(dir / "config.json.gz");
  f.chat_template_jinja = GunzipIfPresent(dir / "chat_template.jinja.gz");
  return f;
}

std::string Sha256Lines(const std::vector<std::string>& items) {
  std::string joined;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) joined += '\n';
    joined += items[i];
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(joined.data(), joined.size(), digest, &len, EVP_sha256(), nullptr);
  std::string hex;
  char b[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(b, sizeof b, "%02x", digest[i]);
    hex += b;
  }
  return hex;
}

json LoadGolden() {
  std::ifstream in(kGolden);
  std::stringstream s;
  s << in.rdbuf();
  return json::parse(s.str(), nullptr, false);
}

class HfTokenizerGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(HfTokenizerGolden, MatchesLlamaCppConverter) {
  const json golden = LoadGolden();
  ASSERT_TRUE(golden.is_object()) << "missing or bad " << kGolden;
  const json& g = golden["models"][GetParam()];
  ASSERT_TRUE(g.is_object()) << GetParam() << " not in " << kGolden;
  const StatusOr<HfTokenizer> hf = ParseHfTokenizer(Fixture(GetParam()));
  ASSERT_TRUE(hf.ok()) << hf.status().message();
  const VocabData& v = hf->vocab;

  EXPECT_EQ(v.tokens.size(), g["token_count"].get<size_t>());
  EXPECT_EQ(Sha256Lines(v.tokens), g["tokens_sha256"]);
  for (const auto& [id, text] : g["token_samples"].items()) {
    EXPECT_EQ(v.tokens.at(std::stoul(id)), text.get<std::string>()) << "token " << id;
  }
  EXPECT_EQ(v.merges.size(), g["merge_count"].get<size_t>());
  EXPECT_EQ(Sha256Lines(v.merges), g["merges_sha256"]);
  for (const auto& [i, text] : g["merge_samples"].items()) {
    EXPECT_EQ(v.merges.at(std::stoul(i)), text.get<std::string>()) << "merge " << i;
  }
  json runs = json::array();
  for (size_t i = 0; i < v.token_types.size(); ++i) {
    if (!runs.empty() && runs.back()[0] == v.token_types[i]) {
      runs.back()[2] = runs.back()[2].get<int64_t>() + 1;
    } else {
      runs.push_back({v.token_types[i], i, 1});
    }
  }
  EXPECT_EQ(runs, g["token_type_runs"]);
  EXPECT_FALSE(g.contains("scores_sha256"));  // byte-level BPE has none
  EXPECT_TRUE(v.scores.empty());
  EXPECT_EQ(hf->chat_template, g["chat_template"].is_null() ? "" : g["chat_template"]);

  // Every tokenizer.ggml.* key llama.cpp wrote, and none it did not.
  const json& keys = g["other_keys"];
  EXPECT_EQ(v.model, keys["tokenizer.ggml.model"]);
  EXPECT_EQ(v.pre, keys["tokenizer.ggml.pre"]);
  const auto expect_id = [&](const char* key, const std::optional<int64_t>& id) {
    if (keys.contains(key)) {
      EXPECT_EQ(id, std::optional<int64_t>(keys[key].get<int64_t>())) << key;
    } else {
      EXPECT_EQ(id, std::nullopt) << key << " is not in llama.cpp's file";
    }
  };
  const auto expect_flag = [&](const char* key, const std::optional<bool>& flag) {
    if (keys.contains(key)) {
      EXPECT_EQ(flag, std::optional<bool>(keys[key].get<bool>())) << key;
    } else {
      EXPECT_EQ(flag, std::nullopt) << key << " is not in llama.cpp's file";
    }
  };
  expect_id("tokenizer.ggml.bos_token_id", v.bos);
  expect_id("tokenizer.ggml.eos_token_id", v.eos);
  expect_id("tokenizer.ggml.unknown_token_id", v.unk);
  expect_id("tokenizer.ggml.padding_token_id", v.pad);
  expect_id("tokenizer.ggml.seperator_token_id", v.sep);
  expect_id("tokenizer.ggml.eot_token_id", v.eot);
  expect_id("tokenizer.ggml.eom_token_id", v.eom);
  expect_flag("tokenizer.ggml.add_bos_token", v.add_bos);
  expect_flag("tokenizer.ggml.add_eos_token", v.add_eos);
  expect_flag("tokenizer.ggml.add_space_prefix", v.add_space_prefix);
  const std::vector<std::string> checked = {
      "general.name",  // the compile route's metadata, not the vocabulary's
      "tokenizer.ggml.model",
      "tokenizer.ggml.pre",
      "tokenizer.ggml.bos_token_id",
      "tokenizer.ggml.eos_token_id",
      "tokenizer.ggml.unknown_token_id",
      "tokenizer.ggml.padding_token_id",
      "tokenizer.ggml.seperator_token_id",
      "tokenizer.ggml.eot_token_id",
      "tokenizer.ggml.eom_token_id",
      "tokenizer.ggml.add_bos_token",
      "tokenizer.ggml.add_eos_token",
      "tokenizer.ggml.add_space_prefix"};
  for (const auto& [key, value] : keys.items()) {
    EXPECT_NE(std::find(checked.begin(), checked.end(), key), checked.end())
        << "llama.cpp wrote " << key << " = " << value.dump() << ", which is not compared";
  }
}

// The converted vocabulary tokenizes like the original GGUF it came from (through
// transformers' GGUF loader): the pre-tokenizer choice, merges and special tokens together.
TEST_P(HfTokenizerGolden, TokenizesLikeTheOriginalGguf) {
  const std::string gguf_name = GetParam() == "SmolLM2-135M-Instruct"
                                    ? "SmolLM2-135M-Instruct.Q4_1.gguf"
                                    : "qwen2.5-coder-0.5b-instruct.gguf";
  auto gguf = GgufFile::Open((kModels / gguf_name).string());
  ASSERT_TRUE(gguf.ok()) << gguf.status().message() << " (run `make models`)";
  auto original = Tokenizer::Create(**gguf);
  ASSERT_TRUE(original.ok()) << original.status().message();

  StatusOr<HfTokenizer> hf = ParseHfTokenizer(Fixture(GetParam()));
  ASSERT_TRUE(hf.ok()) << hf.status().message();
  auto vocab = Vocab::Build(std::move(hf->vocab));
  ASSERT_TRUE(vocab.ok()) << vocab.status().message();
  auto converted = Tokenizer::Create(std::move(vocab).value());
  ASSERT_TRUE(converted.ok()) << converted.status().message();

  const std::vector<std::string> texts = {
      "Hello world! What's the capital of France?",
      "3 33 333 3333 33333 3.14159 1,000,000 2024-12-04 x1y22z333",
      "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\n\n",
      "  leading spaces,\ttabs\t\tand\r\nCRLF \n \n\n trailing   ",
      "I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you",
      "нещо на Български, 我想在apple工作1314151天～, कान्तिपुर, 🚀 (normal) "
      "😶‍🌫️ "
      "✅ "
      "🦙🦙",
      "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
      "<|im_start|>assistant\n",
      "<|endoftext|> <|im_start|><|im_end|>",
      "------======= ''''''```````\"\"\"\"......!!!!!!??????",
  };
  for (const std::string& text : texts) {
    for (bool special : {false, true}) {
      EXPECT_EQ((*converted)->Encode(text, special, special),
                (*original)->Encode(text, special, special))
          << "text: " << text << " (special: " << special << ")";
    }
  }
  EXPECT_EQ((*converted)->vocab().eog_ids(), (*original)->vocab().eog_ids());
}

INSTANTIATE_TEST_SUITE_P(Models, HfTokenizerGolden,
                         ::testing::Values("SmolLM2-135M-Instruct", "qwen2.5-coder-0.5b-instruct"),
                         [](const auto& info) {
                           return info.param == "SmolLM2-135M-Instruct" ? "SmolLM2" : "Qwen25";
                         });

// The same through the folder reader: the files on disk, optional ones absent.
TEST(HfTokenizerFolder, ReadsTheFolderFiles) {
  const fs::path dir =
      fs::temp_directory_path() / ("hf_tokenizer_test_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const HfTokenizerFiles files = Fixture("SmolLM2-135M-Instruct");
  std::ofstream(dir / "tokenizer.json") << files.tokenizer_json;
  std::ofstream(dir / "tokenizer_config.json") << *files.tokenizer_config_json;
  std::ofstream(dir / "config.json") << *files.config_json;
  std::ofstream(dir / "chat_template.jinja") << *files.chat_template_jinja;
  const StatusOr<HfTokenizer> from_dir = ReadHfTokenizer(dir);
  const StatusOr<HfTokenizer> from_memory = ParseHfTokenizer(files);
  fs::remove_all(dir);
  ASSERT_TRUE(from_dir.ok()) << from_dir.status().message();
  ASSERT_TRUE(from_memory.ok());
  EXPECT_EQ(from_dir->vocab.tokens, from_memory->vocab.tokens);
  EXPECT_EQ(from_dir->vocab.merges, from_memory->vocab.merges);
  EXPECT_EQ(from_dir->vocab.pre, "smollm");
  EXPECT_EQ(from_dir->chat_template, from_memory->chat_template);
  EXPECT_FALSE(from_dir->chat_template.empty());
}

// --- Small hand-written folders ---------------------------------------------------------------

// A byte-level BPE tokenizer.json around a Llama 3 style pre-tokenizer; `edit` changes it.
json TinyTokenizer() {
  return json::parse(R"({
    "added_tokens": [
      {"id": 5, "content": "<|begin_of_text|>", "special": true, "normalized": false},
      {"id": 6, "content": "<tool>", "special": false, "normalized": false}
    ],
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
       "behavior": "Isolated", "invert": false},
      {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]},
    "post_processor": {"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                 {"Sequence": {"id": "A", "type_id": 0}}],
      "pair": [], "special_tokens": {}},
    "model": {"type": "BPE", "byte_fallback": false, "ignore_merges": true,
              "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġa": 4},
              "merges": [["a", "b"], ["Ġ", "a"]]}
  })");
}

HfTokenizerFiles Files(const json& tok, const std::optional<json>& tc = std::nullopt) {
  HfTokenizerFiles f;
  f.tokenizer_json = tok.dump();
  if (tc) f.tokenizer_config_json = tc->dump();
  return f;
}

TEST(HfTokenizerParse, Llama3StyleFolder) {
  const json tc = {{"bos_token", "<|begin_of_text|>"},
                   {"eos_token", {{"content", "<|begin_of_text|>"}}},
                   {"chat_template", json::array({{{"name", "tool_use"}, {"template", "T"}},
                                                  {{"name", "default"}, {"template", "D"}}})}};
  const StatusOr<HfTokenizer> hf = ParseHfTokenizer(Files(TinyTokenizer(), tc));
  ASSERT_TRUE(hf.ok()) << hf.status().message();
  const VocabData& v = hf->vocab;
  EXPECT_EQ(v.model, "gpt2");
  EXPECT_EQ(v.pre, "llama-bpe");
  EXPECT_EQ(v.tokens,
            (std::vector<std::string>{"a", "b", "ab", "Ġ", "Ġa", "<|begin_of_text|>", "<tool>"}));
  EXPECT_EQ(v.token_types, (std::vector<int64_t>{1, 1, 1, 1, 1, 3, 4}));
  EXPECT_EQ(v.merges, (std::vector<std::string>{"a b", "Ġ a"}));
  EXPECT_EQ(v.bos, 5);
  EXPECT_EQ(v.eos, 5);
  EXPECT_EQ(v.add_bos, true);  // the post-processor puts <|begin_of_text|> first
  EXPECT_EQ(v.add_eos, std::nullopt);
  EXPECT_EQ(hf->chat_template, "D");
  EXPECT_TRUE(Vocab::Build(hf->vocab).ok());
}

TEST(HfTokenizerParse, GapsBecomePadTokensUpToConfigVocabSize) {
  json tok = TinyTokenizer();
  tok["added_tokens"][1]["id"] = 8;
  HfTokenizerFiles f = Files(tok);
  f.config_json = R"({"vocab_size": 10})";
  const StatusOr<HfTokenizer> hf = ParseHfTokenizer(f);
  ASSERT_TRUE(hf.ok()) << hf.status().message();
  ASSERT_EQ(hf->vocab.tokens.size(), 10u);
  EXPECT_EQ(hf->vocab.tokens[7], "[PAD7]");
  EXPECT_EQ(hf->vocab.token_types[7], 5);
  EXPECT_EQ(hf->vocab.tokens[9], "[PAD9]");
  EXPECT_EQ(hf->vocab.tokens[8], "<tool>");
}

TEST(HfTokenizerParse, MergePairsWithSpacesAndMergeStrings) {
  json tok = TinyTokenizer();
  tok["model"]["merges"] = json::array({json::array({"a b", "c"})});
  StatusOr<HfTokenizer> hf = ParseHfTokenizer(Files(tok));
  ASSERT_TRUE(hf.ok()) << hf.status().message();
  EXPECT_EQ(hf->vocab.merges, (std::vector<std::string>{"a\xC4\xA0"
                                                        "b c"}));
  tok["model"]["merges"] = json::array({"a b", "Ġ a"});
  hf = ParseHfTokenizer(Files(tok));
  ASSERT_TRUE(hf.ok()) << hf.status().message();
  EXPECT_EQ(hf->vocab.merges, (std::vector<std::string>{"a b", "Ġ a"}));
}

TEST(HfTokenizerParse, ConfigTokenIdsFillWhatTokenizerConfigLeaves) {
  HfTokenizerFiles f = Files(TinyTokenizer(), json{{"bos_token", "<|begin_of_text|>"}});
  f.config_json = R"({"bos_token_id": 0, "eos_token_id": [5, 6], "pad_token_id": 6})";
  const StatusOr<HfTokenizer> hf = ParseHfTokenizer(f);
  ASSERT_TRUE(hf.ok()) << hf.status().message();
  EXPECT_EQ(hf->vocab.bos, 5);             // tokenizer_config.json first
  EXPECT_EQ(hf->vocab.eos, std::nullopt);  // a list: llama.cpp takes none
  EXPECT_EQ(hf->vocab.pad, 6);
}

void ExpectError(const HfTokenizerFiles& f, StatusCode code, const std::string& needle) {
  const StatusOr<HfTokenizer> hf = ParseHfTokenizer(f);
  ASSERT_FALSE(hf.ok()) << "expected an error mentioning " << needle;
  EXPECT_EQ(hf.status().code(), code) << hf.status().message();
  EXPECT_NE(hf.status().message().find(needle), std::string::npos) << hf.status().message();
}

// Each pre-tokenizer shape and the settings that pick among names with the same splitting.
TEST(HfTokenizerParse, IdentifiesPreTokenizers) {
  const std::string llama3 =
      TinyTokenizer()["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"];
  std::string qwen2 = llama3;
  qwen2.replace(qwen2.find("\\p{N}{1,3}"), 10, "\\p{N}");
  const std::string o200k =
      "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?"
      "i:'s|'t|"
      "'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{"
      "Lm}\\p{Lo}"
      "\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| "
      "?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+"
      "(?!\\S)|\\s+";
  const json byte_level_regex = {
      {"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
  struct Case {
    std::string name;
    json pre;
    bool ignore_merges;
    bool clean_spaces;
    bool digit_token;  // the vocabulary has a token joining a digit to something
    std::string expected;
  };
  const auto split = [&](const std::string& regex, const char* behavior, bool invert) {
    json pre = TinyTokenizer()["pre_tokenizer"];
    pre["pretokenizers"][0]["pattern"]["Regex"] = regex;
    pre["pretokenizers"][0]["behavior"] = behavior;
    pre["pretokenizers"][0]["invert"] = invert;
    return pre;
  };
  std::string spelled = llama3;
  spelled.replace(0, std::string("(?i:'s|'t|'re|'ve|'m|'ll|'d)").size(),
                  "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])");
  const json digits_then_bytes = {
      {"type", "Sequence"},
      {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}}, byte_level_regex}}};
  const std::vector<Case> cases = {
      {"llama3", split(llama3, "Isolated", false), true, false, false, "llama-bpe"},
      {"llama3 spelled", split(spelled, "Isolated", false), true, false, false, "llama-bpe"},
      {"llama3 merges", split(llama3, "Isolated", false), false, false, false, "smaug-bpe"},
      {"qwen2", split(qwen2, "Isolated", false), false, false, false, "qwen2"},
      {"qwen2 clean", split(qwen2, "Isolated", false), false, true, false, "stablelm2"},
      {"o200k", split(o200k, "Isolated", false), false, false, false, "gpt-4o"},
      {"o200k removed", split(o200k, "Removed", true), false, false, false, "gpt-4o"},
      {"digits", digits_then_bytes, false, false, true, "smollm"},
      {"digits clean", digits_then_bytes, false, true, true, "starcoder"},
      {"gpt2", byte_level_regex, false, false, true, "gpt-2"},
      {"gpt2 no digit merges", byte_level_regex, false, false, false, "smollm"},
  };
  for (const Case& c : cases) {
    json tok = TinyTokenizer();
    tok["pre_tokenizer"] = c.pre;
    tok["model"]["ignore_merges"] = c.ignore_merges;
    if (c.digit_token) tok["model"]["vocab"]["Ġ1"] = 7;
    const StatusOr<HfTokenizer> hf =
        ParseHfTokenizer(Files(tok, json{{"clean_up_tokenization_spaces", c.clean_spaces}}));
    ASSERT_TRUE(hf.ok()) << c.name << ": " << hf.status().message();
    EXPECT_EQ(hf->vocab.pre, c.expected) << c.name;
  }
  json isolated_inverted = TinyTokenizer();
  isolated_inverted["pre_tokenizer"] = split(llama3, "Isolated", true);
  ExpectError(Files(isolated_inverted), StatusCode::kUnimplemented, "pre_tokenizer");
}

TEST(HfTokenizerErrors, MissingFolderFile) {
  const StatusOr<HfTokenizer> hf = ReadHfTokenizer("/nonexistent/hf-folder");
  ASSERT_FALSE(hf.ok());
  EXPECT_EQ(hf.status().code(), StatusCode::kNotFound);
  EXPECT_NE(hf.status().message().find("tokenizer.json"), std::string::npos);
}

TEST(HfTokenizerErrors, BadJsonAndWrongTypes) {
  HfTokenizerFiles f;
  f.tokenizer_json = "{\"model\": ";
  ExpectError(f, StatusCode::kCorruptFile, "tokenizer.json: not valid JSON");
  f.tokenizer_json = "[1, 2]";
  ExpectError(f, StatusCode::kCorruptFile, "tokenizer.json: expected a JSON object");
  ExpectError(Files(TinyTokenizer(), json::array()), StatusCode::kCorruptFile,
              "tokenizer_config.json");

  json tok = TinyTokenizer();
  tok["model"]["vocab"] = json::array();
  ExpectError(Files(tok), StatusCode::kCorruptFile, "model.vocab");
  tok = TinyTokenizer();
  tok["model"]["vocab"]["c"] = "7";
  ExpectError(Files(tok), StatusCode::kCorruptFile, "model.vocab[\"c\"]");
  tok = TinyTokenizer();
  tok["model"]["vocab"]["c"] = -1;
  ExpectError(Files(tok), StatusCode::kCorruptFile, "out of range");
  tok = TinyTokenizer();
  tok["added_tokens"] = json::object();
  ExpectError(Files(tok), StatusCode::kCorruptFile, "added_tokens");
  tok = TinyTokenizer();
  tok["added_tokens"][0]["special"] = "yes";
  ExpectError(Files(tok), StatusCode::kCorruptFile, "added_tokens[0].special");
  tok = TinyTokenizer();
  tok["model"]["merges"] = json::array({json::array({"a", "b"}), "a b"});
  ExpectError(Files(tok), StatusCode::kCorruptFile, "model.merges[1]");
  tok = TinyTokenizer();
  tok.erase("model");
  ExpectError(Files(tok), StatusCode::kCorruptFile, "model");

  HfTokenizerFiles small = Files(TinyTokenizer());
  small.config_json = R"({"vocab_size": 4})";
  ExpectError(small, StatusCode::kCorruptFile, "vocabulary size 4");
  small.config_json = R"({"vocab_size": "many"})";
  ExpectError(small, StatusCode::kCorruptFile, "config.json: vocab_size");
  HfTokenizerFiles negative = Files(TinyTokenizer());
  negative.config_json = R"({"pad_token_id": -3})";
  ExpectError(negative, StatusCode::kCorruptFile, "invalid id -3");
}

// A tokenizer.model's bytes: pieces (text, score, type) as sentencepiece.ModelProto field 1.
std::string SentencePieceBytes(const std::vector<std::tuple<std::string, float, int>>& pieces) {
  const auto len = [](int field, const std::string& payload) {
    return std::string(1, static_cast<char>(field << 3 | 2)) +
           std::string(1, static_cast<char>(payload.size())) + payload;
  };
  std::string out;
  for (const auto& [text, score, type] : pieces) {
    std::string piece = len(1, text) + std::string(1, static_cast<char>(2 << 3 | 5));
    piece.append(reinterpret_cast<const char*>(&score), 4);
    piece += std::string(1, static_cast<char>(3 << 3)) + std::string(1, static_cast<char>(type));
    out += len(1, piece);
  }
  return out;
}

// Gemma3Model.set_vocab with a tokenizer.model: _create_vocab_sentencepiece's types (user-
// defined pieces become normal), config.json's vocab_size padding, added_tokens_decoder written
// over it, special ids from config.json, add_space_prefix false.
TEST(HfTokenizerParse, Gemma3SentencePieceModel) {
  HfTokenizerFiles f;
  f.tokenizer_model = SentencePieceBytes({{"<pad>", 0, 3},
                                          {"<eos>", 0, 3},
                                          {"<bos>", 0, 3},
                                          {"<unk>", 0, 2},
                                          {"\xE2\x96\x81the", -2.5f, 1},
                                          {"<0x41>", 0, 6},
                                          {"[tool]", 0, 4}});
  f.config_json = R"({"architectures": ["Gemma3ForCausalLM"], "vocab_size": 9,
                      "bos_token_id": 2, "eos_token_id": 1, "pad_token_id": 0})";
  f.tokenizer_config_json = R"({"add_bos_token": true, "added_tokens_decoder": {
      "3": {"content": "<unk>", "special": true},
      "7": {"content": "\u2581\u2581x", "special": false},
      "12": {"content": "<far>", "special": true}}})";
  auto t = ParseHfTokenizer(f);
  ASSERT_TRUE(t.ok()) << t.status().message();
  const VocabData& v = t->vocab;
  EXPECT_EQ(v.model, "llama");
  EXPECT_EQ(v.pre, "default");
  EXPECT_EQ(v.tokens,
            (std::vector<std::string>{"<pad>", "<eos>", "<bos>", "<unk>", "\xE2\x96\x81the",
                                      "<0x41>", "[tool]", "  x", "[PAD8]"}));
  EXPECT_EQ(v.token_types, (std::vector<int64_t>{3, 3, 3, 3, 1, 6, 1, 4, 5}));
  EXPECT_EQ(v.scores, (std::vector<float>{0, 0, 0, -1000, -2.5f, 0, 0, -1000, -10000}));
  EXPECT_EQ(v.bos, 2);
  EXPECT_EQ(v.eos, 1);
  EXPECT_EQ(v.pad, 0);
  EXPECT_EQ(v.add_bos, true);
  EXPECT_EQ(v.add_space_prefix, false);
  // Another architecture's tokenizer.model is refused; a corrupt one named.
  f.config_json = R"({"architectures": ["LlamaForCausalLM"]})";
  ExpectError(f, StatusCode::kUnimplemented, "Gemma3ForCausalLM");
  f.config_json = R"({"architectures": ["Gemma3ForCausalLM"]})";
  f.tokenizer_model = "\x0a\x7f";
  ExpectError(f, StatusCode::kCorruptFile, "tokenizer.model");
}

TEST(HfTokenizerErrors, UnsupportedTokenizers) {
  json tok = TinyTokenizer();
  tok["model"]["type"] = "Unigram";
  ExpectError(Files(tok), StatusCode::kUnimplemented, "model.type \"Unigram\"");
  tok = TinyTokenizer();
  tok["model"]["byte_fallback"] = true;
  ExpectError(Files(tok), StatusCode::kUnimplemented, "byte_fallback");
  HfTokenizerFiles spm = Files(TinyTokenizer());
  spm.tokenizer_model = std::string(
      "\x0a\x05\x0a\x03"
      "abc");
  ExpectError(spm, StatusCode::kUnimplemented, "tokenizer.model");
  tok = TinyTokenizer();
  tok["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\w+|\\s+";
  ExpectError(Files(tok), StatusCode::kUnimplemented, "llama-bpe");
  tok = TinyTokenizer();
  tok.erase("pre_tokenizer");
  ExpectError(Files(tok), StatusCode::kUnimplemented, "pre_tokenizer");
}

}  // namespace
}  // namespace foundry::convert
