// Chat template engine: error reporting and resource bounds (the byte-for-byte behaviour is
// checked against jinja2 in chat_template_golden_test).
#include "chat/chat_template.h"

#include <gtest/gtest.h>

#include <string>

namespace foundry {
namespace {

using jinja::Value;

ChatContext OneUser(std::string text = "hi") {
  ChatContext c;
  ChatMessage m;
  m.role = "user";
  m.content = Value::String(std::move(text));
  c.messages.push_back(std::move(m));
  return c;
}

StatusOr<std::string> RenderText(std::string_view source, const ChatContext& ctx = OneUser(),
                                 const jinja::RenderLimits& limits = {}) {
  FOUNDRY_ASSIGN_OR_RETURN(ChatTemplate t, ChatTemplate::Parse(source));
  return t.Render(ctx, limits);
}

void ExpectSyntaxError(std::string_view source, const std::string& where) {
  auto t = ChatTemplate::Parse(source);
  ASSERT_FALSE(t.ok()) << source;
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find(where), std::string::npos)
      << source << " -> " << t.status().message();
  EXPECT_EQ(t.status().message().find('\n'), std::string::npos);
}

TEST(ChatTemplate, SyntaxErrorsNameLineAndColumn) {
  ExpectSyntaxError("a\n{{ x + }}", "line 2, column 8");
  ExpectSyntaxError("{% if x %}\nno end", "expected 'elif' or 'else' or 'endif'");
  ExpectSyntaxError("{% for x in y %}{% endif %}",
                    "line 1, column 20: unexpected 'endif', expected 'endfor' or 'else'");
  ExpectSyntaxError("{% endfor %}", "line 1, column 4: unexpected 'endfor'");
  ExpectSyntaxError("\n\n  {% frobnicate %}", "line 3, column 6: unknown tag 'frobnicate'");
  ExpectSyntaxError("{{ 'unterminated }}", "line 1, column 4: unterminated string");
  ExpectSyntaxError("{# never closed", "unterminated comment");
  ExpectSyntaxError("{{ a ] }}", "unexpected ']'");
  ExpectSyntaxError("{{ x", "line 1, column 1: unexpected end of template");
  ExpectSyntaxError("{{ x $ y }}", "unexpected character '$'");
  ExpectSyntaxError("{% set %}", "expected a name");
}

TEST(ChatTemplate, RenderErrorsCarryTheMessage) {
  auto r = RenderText("{{ raise_exception('Only user and assistant roles!') }}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "Only user and assistant roles!");
  r = RenderText("{{ messages[0].nope.deeper }}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "'dict object' has no attribute 'nope'");
  r = RenderText("{{ 1 + 'a' }}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "unsupported operand type(s) for +: 'int' and 'str'");
  r = RenderText("{{ messages | nosuchfilter }}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "No filter named 'nosuchfilter'.");
}

TEST(ChatTemplate, UndefinedBehavesLikeJinja2Default) {
  auto r = RenderText(
      "[{{ nothing }}][{{ nothing | length }}][{% for x in nothing %}x{% endfor %}]"
      "[{{ nothing is defined }}][{{ messages[0].missing }}]");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "[][0][][False][]");
}

TEST(ChatTemplate, ContextVariables) {
  ChatContext c = OneUser("x");
  c.add_generation_prompt = true;
  c.bos_token = "<s>";
  c.eos_token = "</s>";
  c.extra_vars.emplace_back("enable_thinking", Value::Bool(false));
  ChatMessage a;
  a.role = "assistant";
  a.content = Value::None();
  a.tool_calls = Value::MakeList({});
  a.tool_call_id = "abc";
  a.name = "fn";
  c.messages.push_back(a);
  auto r = RenderText(
      "{{ bos_token }}{{ eos_token }}{{ add_generation_prompt }}{{ enable_thinking }}"
      "{{ tools is none }}{{ messages[1] | tojson }}",
      c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r,
            "<s></s>TrueFalseTrue{\"role\": \"assistant\", \"content\": null, \"tool_calls\": [], "
            "\"tool_call_id\": \"abc\", \"name\": \"fn\"}");
}

TEST(ChatTemplate, StrftimeNowUsesTheGivenClock) {
  ChatContext c = OneUser();
  c.now_unix_seconds = 0;
  auto r = RenderText("{{ strftime_now('%Y-%m-%d %H:%M:%S') }}", c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "1970-01-01 00:00:00");
}

TEST(ChatTemplate, LoopIterationsAreBounded) {
  jinja::RenderLimits limits;
  limits.max_loop_iterations = 1000;
  auto r = RenderText("{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}",
                      OneUser(), limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
  // The sandbox's MAX_RANGE.
  r = RenderText("{{ range(1000000) | length }}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("MAX_RANGE"), std::string::npos);
}

TEST(ChatTemplate, OutputAndValueSizesAreBounded) {
  jinja::RenderLimits limits;
  limits.max_output_bytes = 1 << 16;
  auto r = RenderText("{% for i in range(100000) %}0123456789{% endfor %}", OneUser(), limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
  r = RenderText("{{ 'x' * 100000000000 }}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
  // Doubling a string: the work budget stops it long before memory runs out.
  r = RenderText(
      "{% set ns = namespace(s='ab') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}"
      "{% endfor %}{{ ns.s | length }}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
}

// An empty sequence times a huge count is empty at once, not 2^63 appends of nothing.
TEST(ChatTemplate, RepeatingAnEmptySequenceIsImmediate) {
  auto r = RenderText(
      "[{{ '' * 9223372036854775807 }}][{{ ([] * 9223372036854775807) | length }}]"
      "[{{ 9223372036854775807 * () }}]");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "[][0][()]");
}

TEST(ChatTemplate, RecursionAndNestingAreBounded) {
  auto r = RenderText("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
  std::string deep(5000, '(');
  deep = "{{ " + deep + "1" + std::string(5000, ')') + " }}";
  EXPECT_FALSE(ChatTemplate::Parse(deep).ok());
  std::string ifs;
  for (int i = 0; i < 1000; ++i) ifs += "{% if true %}";
  EXPECT_FALSE(ChatTemplate::Parse(ifs).ok());
  // A namespace that holds itself neither recurses forever when printed nor leaks.
  r = RenderText("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}");
  EXPECT_FALSE(r.ok());
  r = RenderText(
      "{% set ns = namespace(l=[]) %}{% for i in range(2000) %}{% set ns.l = [ns.l] %}"
      "{% endfor %}{{ ns.l }}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
}

TEST(ChatTemplate, ParseOnceRenderMany) {
  auto t = ChatTemplate::Parse("{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}");
  ASSERT_TRUE(t.ok());
  for (const char* text : {"a", "bb", "ccc"}) {
    auto r = t->Render(OneUser(text));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, std::string("<user>") + text);
  }
}

}  // namespace
}  // namespace foundry
