// Constrained decoding over real vocabularies: the grammar mask computed by walking the sorted
// vocabulary equals a token-by-token check, tokens that split UTF-8 characters or span several
// grammar elements are handled, and SequenceGenerator's output always matches its grammar.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "engine/grammar_constraint.h"
#include "engine/internal.h"
#include "engine/sequence_generator.h"
#include "format/gguf_file.h"
#include "grammar/gbnf_parser.h"
#include "grammar/grammar_matcher.h"
#include "grammar/json_schema_grammar.h"
#include "grammar_text_match.h"

namespace foundry {
namespace {

const std::string kData = std::string(FOUNDRY_SOURCE_DIR) + "/tests/data/";

// A TokenTable for a vocabulary-only GGUF, built as TokenTableOf builds a model's.
std::shared_ptr<const TokenTable> TableFor(const Tokenizer& tok) {
  std::vector<std::string> pieces(static_cast<size_t>(tok.vocab_size()));
  std::vector<TokenUse> use(pieces.size(), TokenUse::kNever);
  for (int32_t id = 0; id < tok.vocab_size(); ++id) {
    if (tok.IsEndOfGeneration(id)) {
      use[static_cast<size_t>(id)] = TokenUse::kEndOfGeneration;
    } else if (!tok.IsControl(id)) {
      pieces[static_cast<size_t>(id)] = tok.TokenToPiece(id);
      use[static_cast<size_t>(id)] = TokenUse::kText;
    }
  }
  return std::make_shared<const TokenTable>(std::move(pieces), std::move(use));
}

std::unique_ptr<Tokenizer> LoadTokenizer(const std::string& name) {
  auto gguf = GgufFile::Open(kData + "tokenizer/" + name);
  EXPECT_TRUE(gguf.ok());
  auto tok = Tokenizer::Create(**gguf);
  EXPECT_TRUE(tok.ok()) << tok.status().message();
  return std::move(tok).value();
}

std::shared_ptr<const Grammar> SchemaGrammar(std::string_view schema) {
  auto gbnf = JsonSchemaTextToGbnf(schema);
  EXPECT_TRUE(gbnf.ok()) << gbnf.status().message();
  auto g = ParseGbnf(*gbnf);
  EXPECT_TRUE(g.ok()) << g.status().message();
  return std::make_shared<const Grammar>(std::move(g).value());
}

// Walks the tokens of `text` one by one; at every step the mask must equal IsAllowed for every
// token and allow the text's own next token. `pieces` is what the tokens' bytes spell (with
// SentencePiece's prefix space).
void CheckMasksAlong(const Tokenizer& tok, std::shared_ptr<const Grammar> grammar,
                     const std::string& text, const std::string& pieces) {
  const auto table = TableFor(tok);
  GrammarMatcher m(grammar, table);
  const std::vector<int32_t> ids = tok.Encode(text, false, false);
  std::string spelled;
  for (int32_t id : ids) spelled += tok.TokenToPiece(id);
  ASSERT_EQ(spelled, pieces);
  std::vector<uint8_t> mask;
  for (size_t step = 0; step <= ids.size(); ++step) {
    m.FillMask(&mask);
    ASSERT_EQ(mask.size(), static_cast<size_t>(table->size()));
    int32_t allowed = 0;
    for (int32_t id = 0; id < table->size(); ++id) {
      ASSERT_EQ(mask[static_cast<size_t>(id)] != 0, m.IsAllowed(id))
          << "step " << step << " token " << id << " '" << table->piece(id) << "'";
      allowed += mask[static_cast<size_t>(id)];
    }
    EXPECT_GT(allowed, 0);
    if (step == ids.size()) break;
    ASSERT_TRUE(mask[static_cast<size_t>(ids[step])]) << "step " << step;
    ASSERT_TRUE(m.Accept(ids[step]));
  }
  EXPECT_TRUE(m.CanEnd());
  EXPECT_TRUE(m.IsAllowed(tok.eos()));
}

TEST(GrammarMask, EqualsTokenByTokenCheckOnByteLevelBpe) {
  const auto tok = LoadTokenizer("ggml-vocab-gpt-2.gguf");
  const auto g = SchemaGrammar(R"({"type":"object","properties":{
      "name":{"type":"string"},"tags":{"type":"array","items":{"enum":["a","bc"]}},
      "n":{"type":"integer","minimum":0,"maximum":250}},"required":["name","tags","n"]})");
  // "é€😀" are split into byte tokens by GPT-2's vocabulary: tokens end inside characters.
  const std::string text =
      "{\"name\": \"caf\xC3\xA9 \xE2\x82\xAC\xF0\x9F\x98\x80\", \"tags\": [\"bc\", \"a\"], \"n\": "
      "249}";
  CheckMasksAlong(*tok, g, text, text);
}

TEST(GrammarMask, EqualsTokenByTokenCheckOnSentencePiece) {
  const auto tok = LoadTokenizer("ggml-vocab-llama-spm.gguf");
  const auto g = std::make_shared<const Grammar>(
      ParseGbnf("root ::= \" \" [a-z]+ (\" \" [a-z]+)* \".\"").value());
  CheckMasksAlong(*tok, g, "the quick brown fox.", " the quick brown fox.");
}

TEST(GrammarMask, ControlAndEmptyTokensAreNeverAllowed) {
  const auto tok = LoadTokenizer("ggml-vocab-gpt-2.gguf");
  const auto table = TableFor(*tok);
  GrammarMatcher m(std::make_shared<const Grammar>(ParseGbnf("root ::= [^x]*").value()), table);
  std::vector<uint8_t> mask;
  m.FillMask(&mask);
  for (int32_t id = 0; id < table->size(); ++id) {
    if (table->use(id) == TokenUse::kNever) {
      EXPECT_FALSE(mask[static_cast<size_t>(id)]) << id;
    }
  }
  EXPECT_TRUE(m.IsAllowed(tok->eos()));  // [^x]* may end anywhere
  EXPECT_FALSE(m.Accept(tok->Encode("x", false, false)[0]));
}

// Generation with random logits: whatever the model "wants", the text matches the grammar.
TEST(GrammarGeneration, OutputAlwaysMatchesTheSchema) {
  auto lm = LanguageModel::Load(kData + "models/tiny-qwen2.gguf");
  ASSERT_TRUE(lm.ok());
  const std::string schema = R"({"type":"object","properties":{
      "id":{"type":"integer","minimum":-5,"maximum":5},
      "ok":{"type":"boolean"},"color":{"enum":["red","green"]},
      "items":{"type":"array","items":{"type":"string","maxLength":3},"maxItems":2}},
      "required":["id","ok","color","items"],"additionalProperties":false})";
  const Grammar grammar = ParseGbnf(*JsonSchemaTextToGbnf(schema)).value();
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 3.0f);
  std::vector<float> logits(static_cast<size_t>((*lm)->n_vocab()));
  for (float temperature : {0.0f, 1.0f}) {
    for (int run = 0; run < 5; ++run) {
      SamplingParams p;
      p.temperature = temperature;
      p.seed = static_cast<uint64_t>(run);
      p.json_schema = schema;
      auto gen = SequenceGenerator::Create(**lm, p, 400);
      ASSERT_TRUE(gen.ok()) << gen.status().message();
      std::string text;
      bool done = false;
      for (int i = 0; i < 400 && !done; ++i) {
        for (float& l : logits) l = noise(rng);
        const TokenStep s = gen->Next(logits.data(), false);
        text += s.text;
        done = s.finished;
      }
      bool stopped = false;
      text += gen->Flush(&stopped);
      ASSERT_TRUE(done) << text;
      EXPECT_TRUE(GrammarMatchesText(grammar, text)) << text;
      const auto j = nlohmann::json::parse(text, nullptr, false);
      ASSERT_FALSE(j.is_discarded()) << text;
      EXPECT_GE(j["id"].get<int>(), -5);
      EXPECT_LE(j["id"].get<int>(), 5);
    }
  }
}

// A prefilled answer start (a forced tool-call opening) is read by the grammar before the
// first token: the generated rest completes it; a prefill the grammar refuses is an error.
TEST(GrammarGeneration, PrefillIsReadBeforeTheFirstToken) {
  auto lm = LanguageModel::Load(kData + "models/tiny-qwen2.gguf");
  ASSERT_TRUE(lm.ok());
  const std::string gbnf =
      *JsonSchemaTextToGbnf(R"({"type":"object","properties":{"n":{"enum":[7,8]}},)"
                            R"("required":["n"],"additionalProperties":false})",
                            GrammarWrap{"<call>", ""});
  const Grammar grammar = ParseGbnf(gbnf).value();
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 3.0f);
  std::vector<float> logits(static_cast<size_t>((*lm)->n_vocab()));
  for (int run = 0; run < 4; ++run) {
    SamplingParams p;
    p.temperature = 1.0f;
    p.seed = static_cast<uint64_t>(run);
    p.grammar = gbnf;
    p.grammar_prefill = "<call>{\"n\": ";
    auto gen = SequenceGenerator::Create(**lm, p, 50);
    ASSERT_TRUE(gen.ok()) << gen.status().message();
    std::string text;
    bool done = false;
    for (int i = 0; i < 50 && !done; ++i) {
      for (float& l : logits) l = noise(rng);
      const TokenStep s = gen->Next(logits.data(), false);
      text += s.text;
      done = s.finished;
    }
    ASSERT_TRUE(done) << text;
    EXPECT_TRUE(GrammarMatchesText(grammar, p.grammar_prefill + text)) << text;
  }
  SamplingParams bad;
  bad.grammar = gbnf;
  bad.grammar_prefill = "<call>{\"m\"";
  auto gen = SequenceGenerator::Create(**lm, bad, 10);
  ASSERT_FALSE(gen.ok());
  EXPECT_EQ(gen.status().code(), StatusCode::kInvalidArgument);
}

// A lazy grammar applies from its trigger on, even when the trigger arrives in pieces or is
// followed by more text in the same piece; text after the trigger that the grammar refuses
// leaves the rest of the output free for good.
TEST(GrammarGeneration, LazyGrammarWaitsForItsTrigger) {
  auto lm = LanguageModel::Load(kData + "models/tiny-qwen2.gguf");
  ASSERT_TRUE(lm.ok());
  SamplingParams p;
  p.grammar = *JsonSchemaTextToGbnf(R"({"type":"integer","minimum":0,"maximum":99})",
                                    GrammarWrap{"<call>", ""});
  p.grammar_trigger = "<call>";
  auto c = GrammarConstraint::Create(**lm, p);
  ASSERT_TRUE(c.ok()) << c.status().message();
  GrammarConstraint& g = **c;
  EXPECT_FALSE(g.active());
  g.Observe("The answer is <ca");
  EXPECT_FALSE(g.active());
  g.Observe("ll>4");
  ASSERT_TRUE(g.active());
  EXPECT_FALSE(g.MustEnd());

  auto refused = GrammarConstraint::Create(**lm, p);
  ASSERT_TRUE(refused.ok());
  (*refused)->Observe("<call>x");
  EXPECT_FALSE((*refused)->active());
  (*refused)->Observe("<call>5");
  EXPECT_FALSE((*refused)->active());

  p.grammar_prefill = "<call>";
  EXPECT_FALSE(GrammarConstraint::Create(**lm, p).ok());  // lazy and prefilled: contradictory
}

TEST(GrammarGeneration, BadGrammarsAreInvalidArgument) {
  auto lm = LanguageModel::Load(kData + "models/tiny-qwen2.gguf");
  ASSERT_TRUE(lm.ok());
  SamplingParams p;
  p.grammar = "root ::= undefined";
  auto gen = SequenceGenerator::Create(**lm, p, 10);
  ASSERT_FALSE(gen.ok());
  EXPECT_EQ(gen.status().code(), StatusCode::kInvalidArgument);
  p.grammar = "root ::= \"a\"";
  p.json_schema = "{}";
  EXPECT_FALSE(SequenceGenerator::Create(**lm, p, 10).ok());
  p.grammar.clear();
  p.json_schema = R"({"type":"string","pattern":"a+"})";
  gen = SequenceGenerator::Create(**lm, p, 10);
  ASSERT_FALSE(gen.ok());
  EXPECT_NE(gen.status().message().find("pattern"), std::string::npos);
}

}  // namespace
}  // namespace foundry

namespace foundry {
namespace {

// The cost of the grammar per token on Qwen2.5's 152k vocabulary (docs/performance.md): the
// check of a sampled token plus Accept (every step), and a full mask (only when the sampled
// token is rejected). Printed for the record; the bound only catches a pathological slowdown.
TEST(GrammarCost, OnQwenVocabulary) {
  const std::string path =
      std::string(FOUNDRY_SOURCE_DIR) + "/.cache/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf";
  auto gguf = GgufFile::Open(path);
  if (!gguf.ok()) GTEST_SKIP() << "model missing (make models)";
  auto tok = Tokenizer::Create(**gguf);
  ASSERT_TRUE(tok.ok());
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const auto table = TableFor(**tok);
  const double table_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  const auto g = SchemaGrammar(R"({"type":"object","properties":{
      "name":{"type":"string","maxLength":40},"age":{"type":"integer","minimum":0,"maximum":120},
      "city":{"type":"string","maxLength":40},
      "hobbies":{"type":"array","items":{"type":"string","maxLength":30},"maxItems":4},
      "employed":{"type":"boolean"}},
      "required":["name","age","city","hobbies","employed"],"additionalProperties":false})");
  const std::string text =
      "{\n  \"name\": \"Alice\",\n  \"age\": 30,\n  \"city\": \"New York\",\n  \"hobbies\": "
      "[\"reading\", \"traveling\", \"photography\"],\n  \"employed\": true\n}";
  const std::vector<int32_t> ids = (*tok)->Encode(text, false, false);
  GrammarMatcher m(g, table);
  std::vector<uint8_t> mask;
  double check_ms = 0, mask_ms = 0, worst_mask_ms = 0;
  for (int32_t id : ids) {
    auto a = Clock::now();
    m.FillMask(&mask);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - a).count();
    mask_ms += ms;
    worst_mask_ms = std::max(worst_mask_ms, ms);
    a = Clock::now();
    ASSERT_TRUE(m.IsAllowed(id));
    ASSERT_TRUE(m.Accept(id));
    check_ms += std::chrono::duration<double, std::milli>(Clock::now() - a).count();
  }
  const double n = static_cast<double>(ids.size());
  std::printf(
      "token table: %.1f ms; %zu tokens: check+accept %.4f ms/token, full mask %.2f ms "
      "average, %.2f ms worst\n",
      table_ms, ids.size(), check_ms / n, mask_ms / n, worst_mask_ms);
  EXPECT_LT(mask_ms / n, 1000.0);
}

}  // namespace
}  // namespace foundry
