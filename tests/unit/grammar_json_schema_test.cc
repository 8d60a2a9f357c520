// JSON Schema -> GBNF: what the compiled grammars accept and refuse, bounds checked against
// brute force, and the errors for keywords outside the subset.
#include <gtest/gtest.h>

#include <string>

#include "grammar/gbnf_parser.h"
#include "grammar/integer_range.h"
#include "grammar/json_schema_grammar.h"
#include "grammar_text_match.h"

namespace foundry {
namespace {

Grammar Compile(std::string_view schema, const GrammarWrap& wrap = {}) {
  auto gbnf = JsonSchemaTextToGbnf(schema, wrap);
  EXPECT_TRUE(gbnf.ok()) << gbnf.status().message();
  if (!gbnf.ok()) return Grammar{};
  auto g = ParseGbnf(*gbnf);
  EXPECT_TRUE(g.ok()) << g.status().message() << "\n" << *gbnf;
  return g.ok() ? std::move(g).value() : Grammar{};
}

std::string CompileError(std::string_view schema) {
  auto gbnf = JsonSchemaTextToGbnf(schema);
  if (gbnf.ok()) return "";
  EXPECT_EQ(gbnf.status().code(), StatusCode::kInvalidArgument);
  return gbnf.status().message();
}

TEST(JsonSchemaGrammar, ObjectRequiredThenOptionalInSchemaOrder) {
  const Grammar g = Compile(R"({"type":"object","properties":{
      "b":{"type":"string"},"a":{"type":"integer"},"c":{"type":"boolean"},"d":{"type":"null"}},
      "required":["a","c"],"additionalProperties":false})");
  EXPECT_TRUE(GrammarMatchesText(g, R"({"a":1,"c":true})"));
  EXPECT_TRUE(GrammarMatchesText(g, R"({"a": -12, "c": false, "b": "x\"y", "d": null})"));
  EXPECT_TRUE(GrammarMatchesText(g, "{\n  \"a\": 0,\n  \"c\": true,\n  \"d\": null\n}"));
  EXPECT_FALSE(GrammarMatchesText(g, R"({"c":true,"a":1})"));        // required in schema order
  EXPECT_FALSE(GrammarMatchesText(g, R"({"a":1})"));                 // c is required
  EXPECT_FALSE(GrammarMatchesText(g, R"({"a":1,"c":true,"e":1})"));  // no extra properties
  EXPECT_FALSE(GrammarMatchesText(g, R"({"a":1.5,"c":true})"));      // integer
  EXPECT_FALSE(GrammarMatchesText(g, R"({"a":01,"c":true})"));       // no leading zeros
  EXPECT_FALSE(GrammarMatchesText(g, R"({"a":1,"c":true} )"));       // nothing after the value
}

TEST(JsonSchemaGrammar, WhitespaceIsBounded) {
  const Grammar g = Compile(R"({"type":"array","items":{"type":"integer"}})");
  EXPECT_TRUE(GrammarMatchesText(g, "[1, 2,\n\t3]"));
  EXPECT_TRUE(GrammarMatchesText(g, "[1,\n" + std::string(20, ' ') + "2]"));
  EXPECT_FALSE(GrammarMatchesText(g, "[1,\n" + std::string(21, ' ') + "2]"));
  EXPECT_FALSE(GrammarMatchesText(g, "[1,  2]"));
}

TEST(JsonSchemaGrammar, ArraysWithCounts) {
  const Grammar g =
      Compile(R"({"type":"array","items":{"enum":["x","y"]},"minItems":1,"maxItems":3})");
  EXPECT_TRUE(GrammarMatchesText(g, R"(["x"])"));
  EXPECT_TRUE(GrammarMatchesText(g, R"(["x","y","x"])"));
  EXPECT_FALSE(GrammarMatchesText(g, "[]"));
  EXPECT_FALSE(GrammarMatchesText(g, R"(["x","y","x","y"])"));
  EXPECT_FALSE(GrammarMatchesText(g, R"(["z"])"));
  const Grammar any = Compile(R"({"type":"array"})");
  EXPECT_TRUE(GrammarMatchesText(any, R"([1,"a",{"k":[null,true]},[]])"));
  EXPECT_TRUE(GrammarMatchesText(any, "[]"));
}

TEST(JsonSchemaGrammar, StringsLengthsEscapesAndFormats) {
  const Grammar g = Compile(R"({"type":"string","minLength":2,"maxLength":3})");
  EXPECT_TRUE(GrammarMatchesText(g, R"("ab")"));
  EXPECT_TRUE(GrammarMatchesText(g, "\"\xC3\xA9\\n\\u00e9\""));  // é, \n, \u00e9: three characters
  EXPECT_FALSE(GrammarMatchesText(g, R"("a")"));
  EXPECT_FALSE(GrammarMatchesText(g, R"("abcd")"));
  EXPECT_FALSE(GrammarMatchesText(g, "\"a\nb\""));  // raw control character
  const Grammar date = Compile(R"({"type":"string","format":"date"})");
  EXPECT_TRUE(GrammarMatchesText(date, R"("2024-04-30")"));
  EXPECT_FALSE(GrammarMatchesText(date, R"("2024-04-31")"));
  EXPECT_FALSE(GrammarMatchesText(date, R"("2024-13-01")"));
  const Grammar dt = Compile(R"({"type":"string","format":"date-time"})");
  EXPECT_TRUE(GrammarMatchesText(dt, R"("2024-01-02T03:04:05Z")"));
  EXPECT_TRUE(GrammarMatchesText(dt, R"("2024-01-02T23:59:59.123+05:30")"));
  EXPECT_FALSE(GrammarMatchesText(dt, R"("2024-01-02T24:00:00Z")"));
  const Grammar time = Compile(R"({"type":"string","format":"time"})");
  EXPECT_TRUE(GrammarMatchesText(time, R"("12:30:00Z")"));
  const Grammar uuid = Compile(R"({"format":"uuid"})");
  EXPECT_TRUE(GrammarMatchesText(uuid, R"("123e4567-e89b-12d3-a456-426614174000")"));
  EXPECT_FALSE(GrammarMatchesText(uuid, R"("123e4567e89b12d3a456426614174000")"));
}

TEST(JsonSchemaGrammar, EnumConstAnyOfAndTypeLists) {
  const Grammar e = Compile(R"({"enum":["red",2,null,{"a":[1]}]})");
  EXPECT_TRUE(GrammarMatchesText(e, R"("red")"));
  EXPECT_TRUE(GrammarMatchesText(e, "2"));
  EXPECT_TRUE(GrammarMatchesText(e, "null"));
  EXPECT_TRUE(GrammarMatchesText(e, R"({"a":[1]})"));
  EXPECT_FALSE(GrammarMatchesText(e, R"("blue")"));
  const Grammar c = Compile(R"({"const":"fixed"})");
  EXPECT_TRUE(GrammarMatchesText(c, R"("fixed")"));
  EXPECT_FALSE(GrammarMatchesText(c, R"("other")"));
  const Grammar any =
      Compile(R"({"anyOf":[{"type":"integer"},{"type":"array","items":{"type":"boolean"}}]})");
  EXPECT_TRUE(GrammarMatchesText(any, "-7"));
  EXPECT_TRUE(GrammarMatchesText(any, "[true,false]"));
  EXPECT_FALSE(GrammarMatchesText(any, R"("s")"));
  const Grammar list = Compile(R"({"type":["string","null"]})");
  EXPECT_TRUE(GrammarMatchesText(list, "null"));
  EXPECT_TRUE(GrammarMatchesText(list, R"("s")"));
  EXPECT_FALSE(GrammarMatchesText(list, "1"));
}

TEST(JsonSchemaGrammar, RefsToDefsIncludingRecursion) {
  const Grammar g = Compile(R"({"$defs":{"node":{"type":"object","properties":{
      "v":{"type":"integer"},"next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},
      "required":["v","next"]}},"$ref":"#/$defs/node"})");
  EXPECT_TRUE(GrammarMatchesText(g, R"({"v":1,"next":{"v":2,"next":null}})"));
  EXPECT_FALSE(GrammarMatchesText(g, R"({"v":1,"next":{"v":2}})"));
  const Grammar d = Compile(R"({"definitions":{"x":{"type":"boolean"}},"type":"object",
      "properties":{"x":{"$ref":"#/definitions/x"}},"required":["x"]})");
  EXPECT_TRUE(GrammarMatchesText(d, R"({"x":true})"));
}

TEST(JsonSchemaGrammar, FreeFormObjects) {
  const Grammar any = Compile(R"({"type":"object"})");
  EXPECT_TRUE(GrammarMatchesText(any, R"({"k":[1,{"z":"w"}],"n":null})"));
  EXPECT_FALSE(GrammarMatchesText(any, "[]"));
  const Grammar map = Compile(R"({"type":"object","additionalProperties":{"type":"integer"}})");
  EXPECT_TRUE(GrammarMatchesText(map, R"({"a":1,"b":2})"));
  EXPECT_FALSE(GrammarMatchesText(map, R"({"a":"x"})"));
  const Grammar counted = Compile(R"({"type":"object","additionalProperties":{"type":"boolean"},
      "minProperties":1,"maxProperties":2})");
  EXPECT_TRUE(GrammarMatchesText(counted, R"({"a":true})"));
  EXPECT_TRUE(GrammarMatchesText(counted, R"({"a":true,"b":false})"));
  EXPECT_FALSE(GrammarMatchesText(counted, "{}"));
  EXPECT_FALSE(GrammarMatchesText(counted, R"({"a":true,"b":false,"c":true})"));
  const Grammar json_object = ParseGbnf(JsonObjectGbnf()).value();
  EXPECT_TRUE(GrammarMatchesText(json_object, R"({"a": {"b": [1, 2.5e3, "x"]}})"));
  EXPECT_FALSE(GrammarMatchesText(json_object, R"("just a string")"));
}

TEST(JsonSchemaGrammar, IntegerRangesMatchBruteForce) {
  const std::pair<int64_t, int64_t> ranges[] = {{0, 0},    {0, 9},     {1, 100},  {7, 1234},
                                                {-15, 27}, {-300, -5}, {99, 101}, {-1, 0},
                                                {10, 10},  {305, 3050}};
  for (const auto& [lo, hi] : ranges) {
    const Grammar g = ParseGbnf("root ::= " + IntegerRangeGbnf(lo, hi)).value();
    for (int64_t v = lo - 50; v <= hi + 50; ++v) {
      EXPECT_EQ(GrammarMatchesText(g, std::to_string(v)), v >= lo && v <= hi)
          << "[" << lo << ", " << hi << "] " << v;
    }
    EXPECT_FALSE(GrammarMatchesText(g, "-0"));
    EXPECT_FALSE(GrammarMatchesText(g, "00"));
  }
}

TEST(JsonSchemaGrammar, IntegerAndNumberBounds) {
  const Grammar i = Compile(R"({"type":"integer","exclusiveMinimum":0,"maximum":12})");
  EXPECT_FALSE(GrammarMatchesText(i, "0"));
  EXPECT_TRUE(GrammarMatchesText(i, "1"));
  EXPECT_TRUE(GrammarMatchesText(i, "12"));
  EXPECT_FALSE(GrammarMatchesText(i, "13"));
  const Grammar n = Compile(R"({"type":"number","minimum":-1.5,"exclusiveMaximum":2})");
  for (const char* ok : {"-1", "0", "1", "1.999", "-0.5", "0.25"}) {
    EXPECT_TRUE(GrammarMatchesText(n, ok)) << ok;
  }
  for (const char* bad : {"2", "2.5", "-2", "3", "1e3"})
    EXPECT_FALSE(GrammarMatchesText(n, bad)) << bad;
  const Grammar unit = Compile(R"({"type":"number","exclusiveMinimum":0,"exclusiveMaximum":1})");
  EXPECT_TRUE(GrammarMatchesText(unit, "0.5"));
  EXPECT_FALSE(GrammarMatchesText(unit, "0.0"));
  EXPECT_FALSE(GrammarMatchesText(unit, "0"));
  EXPECT_FALSE(GrammarMatchesText(unit, "1"));
  const Grammar open = Compile(R"({"type":"integer","minimum":5})");
  EXPECT_TRUE(GrammarMatchesText(open, "123456"));
  EXPECT_FALSE(GrammarMatchesText(open, "4"));
}

TEST(JsonSchemaGrammar, WrappedInLiteralText) {
  const Grammar g = Compile(R"({"type":"object","properties":{"name":{"const":"get_weather"},
      "arguments":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}},
      "required":["name","arguments"]})",
                            GrammarWrap{"<tool_call>\n", "\n</tool_call>"});
  EXPECT_TRUE(GrammarMatchesText(g,
                                 "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                                 "{\"city\": \"Paris\"}}\n</tool_call>"));
  EXPECT_FALSE(
      GrammarMatchesText(g, "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}"));
}

TEST(JsonSchemaGrammar, KeywordsOutsideTheSubsetAreNamed) {
  EXPECT_NE(CompileError(R"({"type":"string","pattern":"^a+$"})").find("keyword 'pattern'"),
            std::string::npos);
  EXPECT_NE(
      CompileError(R"({"type":"object","properties":{"a":{"type":"array","uniqueItems":true}}})")
          .find("keyword 'uniqueItems' is not supported (at #/properties/a)"),
      std::string::npos);
  EXPECT_NE(CompileError(R"({"allOf":[{"type":"string"}]})").find("'allOf'"), std::string::npos);
  EXPECT_NE(CompileError(R"({"type":"string","format":"email"})").find("'format' \"email\""),
            std::string::npos);
  EXPECT_NE(CompileError(R"({"type":"object","properties":{"a":{}},"additionalProperties":true})")
                .find("additionalProperties"),
            std::string::npos);
  EXPECT_NE(CompileError(R"({"type":"object","properties":{"a":{}},"required":["b"]})").find("'b'"),
            std::string::npos);
  EXPECT_NE(CompileError(R"({"type":"object","properties":{"a":{}},"maxProperties":1})")
                .find("maxProperties"),
            std::string::npos);
  EXPECT_NE(CompileError(R"({"$ref":"https://example.com/s.json"})").find("$ref"),
            std::string::npos);
  EXPECT_NE(CompileError(R"({"$ref":"#/$defs/missing"})").find("names no definition"),
            std::string::npos);
  EXPECT_NE(CompileError(R"({"type":"strin"})").find("'strin'"), std::string::npos);
  EXPECT_NE(CompileError(R"({"type":"integer","minimum":5,"maximum":4})").find("no value"),
            std::string::npos);
  EXPECT_NE(CompileError(R"({"anyOf":[{"type":"string"}],"type":"string"})").find("alongside"),
            std::string::npos);
  EXPECT_NE(CompileError("{not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(CompileError("false").find("matches no value"), std::string::npos);
  // Annotations are fine.
  EXPECT_EQ(CompileError(R"({"title":"T","description":"d","type":"string","default":"x"})"), "");
}

TEST(JsonSchemaGrammar, SelfReferenceWithoutProgressIsRefused) {
  auto gbnf = JsonSchemaTextToGbnf(R"({"$defs":{"a":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"})");
  ASSERT_TRUE(gbnf.ok());
  auto g = ParseGbnf(*gbnf);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("left-recursive"), std::string::npos);
}

}  // namespace
}  // namespace foundry
