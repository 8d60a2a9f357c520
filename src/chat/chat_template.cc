#include "chat/chat_template.h"

#include "chat/jinja_parser.h"

namespace foundry {

jinja::Value MessagesValue(const std::vector<ChatMessage>& messages) {
  std::vector<jinja::Value> list;
  list.reserve(messages.size());
  for (const ChatMessage& m : messages) {
    jinja::Value d = jinja::Value::MakeDict();
    int depth = 0;
    auto set = [&](const char* key, jinja::Value v) {
      depth = std::max(depth, v.Depth());
      d.Set(key, std::move(v));
    };
    set("role", jinja::Value::String(m.role));
    if (m.content) set("content", *m.content);
    if (m.tool_calls) set("tool_calls", *m.tool_calls);
    if (m.tool_call_id) set("tool_call_id", jinja::Value::String(*m.tool_call_id));
    if (m.name) set("name", jinja::Value::String(*m.name));
    for (const auto& [k, v] : m.extra) {
      depth = std::max(depth, v.Depth());
      d.MutableDict().Set(jinja::Value::String(k), v);
    }
    d.SetDepth(depth + 1);
    list.push_back(std::move(d));
  }
  return jinja::Value::MakeList(std::move(list));
}

StatusOr<ChatTemplate> ChatTemplate::Parse(std::string_view source) {
  FOUNDRY_ASSIGN_OR_RETURN(std::shared_ptr<const jinja::Program> program,
                           jinja::ParseTemplate(source));
  return ChatTemplate(std::move(program));
}

StatusOr<std::string> ChatTemplate::Render(const ChatContext& context) const {
  return Render(context, jinja::RenderLimits());
}

StatusOr<std::string> ChatTemplate::Render(const ChatContext& context,
                                           const jinja::RenderLimits& limits) const {
  jinja::Globals globals;
  globals.emplace_back("messages", MessagesValue(context.messages));
  globals.emplace_back("tools", context.tools ? *context.tools : jinja::Value::None());
  globals.emplace_back("documents", jinja::Value::None());
  globals.emplace_back("add_generation_prompt", jinja::Value::Bool(context.add_generation_prompt));
  globals.emplace_back("bos_token", jinja::Value::String(context.bos_token));
  globals.emplace_back("eos_token", jinja::Value::String(context.eos_token));
  for (const auto& kv : context.extra_vars) globals.push_back(kv);
  jinja::RenderOptions options;
  options.limits = limits;
  options.now_unix_seconds = context.now_unix_seconds;
  return jinja::Render(*program_, globals, options);
}

}  // namespace foundry
