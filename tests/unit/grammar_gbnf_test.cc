// The GBNF parser and the byte grammar it builds: syntax, escapes, classes over UTF-8,
// repetitions, and the errors for bad grammars.
#include <gtest/gtest.h>

#include "grammar/gbnf_parser.h"
#include "grammar_text_match.h"

namespace foundry {
namespace {

Grammar Parse(std::string_view text) {
  auto g = ParseGbnf(text);
  EXPECT_TRUE(g.ok()) << g.status().message();
  return g.ok() ? std::move(g).value() : Grammar{};
}

TEST(GbnfParser, LiteralsAlternationAndSequences) {
  const Grammar g = Parse("root ::= \"yes\" | \"no\" tail\ntail ::= \"!\" | \"\"\n");
  EXPECT_TRUE(GrammarMatchesText(g, "yes"));
  EXPECT_TRUE(GrammarMatchesText(g, "no"));
  EXPECT_TRUE(GrammarMatchesText(g, "no!"));
  EXPECT_FALSE(GrammarMatchesText(g, "yes!"));
  EXPECT_FALSE(GrammarMatchesText(g, "ye"));
  EXPECT_FALSE(GrammarMatchesText(g, ""));
}

TEST(GbnfParser, GroupsCommentsAndMultiLineBodies) {
  const Grammar g = Parse(
      "# a comment\n"
      "root ::= ( \"a\" | \"b\" ) (\n"
      "   \"c\"\n"
      "   | \"d\" )   # trailing comment\n");
  EXPECT_TRUE(GrammarMatchesText(g, "ac"));
  EXPECT_TRUE(GrammarMatchesText(g, "bd"));
  EXPECT_FALSE(GrammarMatchesText(g, "ab"));
}

TEST(GbnfParser, Repetitions) {
  const Grammar g = Parse("root ::= \"a\"* \"b\"+ \"c\"? [0-9]{2} \"x\"{1,3} \"y\"{2,} \"z\"{,1}");
  EXPECT_TRUE(GrammarMatchesText(g, "b12xyy"));
  EXPECT_TRUE(GrammarMatchesText(g, "aaabbc12xxxyyyyz"));
  EXPECT_FALSE(GrammarMatchesText(g, "12xyy"));      // b+ needs one
  EXPECT_FALSE(GrammarMatchesText(g, "b1xyy"));      // two digits
  EXPECT_FALSE(GrammarMatchesText(g, "b12xxxxyy"));  // at most three x
  EXPECT_FALSE(GrammarMatchesText(g, "b12xy"));      // at least two y
  EXPECT_FALSE(GrammarMatchesText(g, "b12xyyzz"));   // at most one z
}

TEST(GbnfParser, ClassesRangesNegationAndEscapes) {
  const Grammar g = Parse(R"(root ::= [a-cx] [^a-z\n] "\x41\u00e9\t\"\\" [\]\-])");
  EXPECT_TRUE(GrammarMatchesText(g, "bQA\xC3\xA9\t\"\\]"));
  EXPECT_TRUE(GrammarMatchesText(g,
                                 "x\xE2\x82\xAC"
                                 "A\xC3\xA9\t\"\\-"));  // € is not a-z
  EXPECT_FALSE(GrammarMatchesText(g, "dQA\xC3\xA9\t\"\\]"));
  EXPECT_FALSE(GrammarMatchesText(g, "bqA\xC3\xA9\t\"\\]"));
  EXPECT_FALSE(GrammarMatchesText(g, "b\nA\xC3\xA9\t\"\\]"));
}

TEST(GbnfParser, NegatedClassMatchesWholeUtf8CharactersOnly) {
  const Grammar g = Parse("root ::= [^\"]+");
  EXPECT_TRUE(GrammarMatchesText(g, "h\xC3\xA9llo \xF0\x9F\x98\x80"));
  EXPECT_FALSE(GrammarMatchesText(g, "a\"b"));
  EXPECT_FALSE(GrammarMatchesText(g, "\xC3"));          // a character cut short
  EXPECT_FALSE(GrammarMatchesText(g, "\xC0\x80"));      // overlong
  EXPECT_FALSE(GrammarMatchesText(g, "\xED\xA0\x80"));  // a surrogate
  EXPECT_FALSE(GrammarMatchesText(g, "\x80"));          // a lone continuation byte
}

TEST(GbnfParser, DotAndNonAsciiRanges) {
  const Grammar g = Parse("root ::= . [\xCE\xB1-\xCF\x89]");  // any char, then α-ω
  EXPECT_TRUE(GrammarMatchesText(g, "\xE4\xB8\xAD\xCE\xB2"));
  EXPECT_FALSE(GrammarMatchesText(g, "ab"));
}

TEST(GbnfParser, RecursionThroughRules) {
  const Grammar g = Parse("root ::= \"(\" root \")\" | \"x\"");
  EXPECT_TRUE(GrammarMatchesText(g, "((x))"));
  EXPECT_FALSE(GrammarMatchesText(g, "((x)"));
}

TEST(GbnfParser, ErrorsNameTheProblem) {
  auto expect_error = [](std::string_view text, std::string_view needle) {
    auto g = ParseGbnf(text);
    ASSERT_FALSE(g.ok()) << text;
    EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(g.status().message().find(needle), std::string::npos) << g.status().message();
  };
  expect_error("root ::= missing", "'missing' is used but not defined");
  expect_error("other ::= \"a\"", "no rule named 'root'");
  expect_error("root ::= root \"a\" | \"b\"", "left-recursive");
  expect_error("root ::= x \"a\"\nx ::= \"\" | root", "left-recursive");
  expect_error("root ::= (\"a\"?)*", "left-recursive");
  expect_error("root ::= \"abc", "unterminated string literal at line 1");
  expect_error("root ::= [a-", "unterminated character class");
  expect_error("root ::= \"\\q\"", "unknown escape");
  expect_error("root ::= [z-a]", "reversed");
  expect_error("root ::= \"a\"{3,1}", "below its minimum");
  expect_error("root ::= \"a\"{5000}", "above 4096");
  expect_error("root ::= *", "follows nothing");
  expect_error("root ::= \"a\"\nroot ::= \"b\"", "defined twice");
  expect_error("root := \"a\"", "expected '::='");
  expect_error("root ::= (\"a\"", "expected ')'");
  expect_error("root ::= \"\xFF\"", "invalid UTF-8");
}

TEST(GbnfParser, OtherRootName) {
  auto g = ParseGbnf("start ::= \"s\"", "start");
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(GrammarMatchesText(*g, "s"));
}

}  // namespace
}  // namespace foundry
