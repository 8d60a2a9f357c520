// libFuzzer entry point for the chat-template engine. The input is a template source; it is
// parsed and, when it parses, rendered over a small fixed conversation with tight limits.
// Any crash, hang, sanitizer report or broken invariant is a bug: every failure must come back
// as a Status with a non-empty message.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chat/chat_template.h"

namespace {

using foundry::jinja::Value;

void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "chat_template_fuzz invariant violated: %s: %s\n", what, detail.c_str());
  std::abort();
}

const foundry::ChatContext& Context() {
  static const foundry::ChatContext ctx = [] {
    foundry::ChatContext c;
    auto add = [&](const char* role, Value content) {
      foundry::ChatMessage m;
      m.role = role;
      m.content = std::move(content);
      c.messages.push_back(std::move(m));
    };
    add("system", Value::String("You are helpful."));
    add("user", Value::String("Hello \xc3\xa9 \xf0\x9f\x8c\x8d"));
    foundry::ChatMessage call;
    call.role = "assistant";
    call.content = Value::None();
    Value fn = Value::MakeDict();
    fn.Set("name", Value::String("get_weather"));
    Value args = Value::MakeDict();
    args.Set("city", Value::String("Paris"));
    args.SetDepth(1);
    fn.Set("arguments", args);
    fn.SetDepth(2);
    Value tc = Value::MakeDict();
    tc.Set("id", Value::String("call00001"));
    tc.Set("type", Value::String("function"));
    tc.Set("function", fn);
    tc.SetDepth(3);
    call.tool_calls = Value::MakeList({tc});
    c.messages.push_back(call);
    foundry::ChatMessage tool;
    tool.role = "tool";
    tool.content = Value::String("21 C");
    tool.tool_call_id = "call00001";
    c.messages.push_back(tool);
    add("assistant", Value::String("It is 21 C."));
    c.tools = Value::MakeList({fn});
    c.add_generation_prompt = true;
    c.bos_token = "<s>";
    c.eos_token = "</s>";
    c.now_unix_seconds = 1721986215;
    return c;
  }();
  return ctx;
}

void CheckMessage(const foundry::Status& s) {
  if (s.ok()) return;
  if (s.message().empty() && s.code() != foundry::StatusCode::kInvalidArgument) {
    Fail("empty error message", std::to_string(static_cast<int>(s.code())));
  }
  if (s.code() == foundry::StatusCode::kInternal) Fail("internal error", s.message());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  auto t = foundry::ChatTemplate::Parse(source);
  if (!t.ok()) {
    CheckMessage(t.status());
    if (t.status().message().empty()) Fail("empty syntax error", "");
    return 0;
  }
  foundry::jinja::RenderLimits limits;
  limits.max_output_bytes = 1 << 20;
  limits.max_loop_iterations = 20000;
  limits.max_work_bytes = 64 << 20;
  auto out = t->Render(Context(), limits);
  if (!out.ok()) {
    CheckMessage(out.status());
    return 0;
  }
  if (out->size() > limits.max_output_bytes)
    Fail("output over the limit", std::to_string(out->size()));
  return 0;
}
