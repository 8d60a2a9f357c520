// Every (template, conversation) golden from tools/gen_chat_goldens.py (Python jinja2 in
// transformers' configuration) must render byte for byte, or fail with jinja2's message.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "chat/chat_template.h"
#include "server/api/chat_json.h"

namespace foundry {
namespace {

using Json = nlohmann::ordered_json;

const Json& Goldens() {
  static const Json j = [] {
    std::ifstream f(FOUNDRY_SOURCE_DIR "/tests/golden/data/chat_templates.json");
    EXPECT_TRUE(f.good());
    std::stringstream ss;
    ss << f.rdbuf();
    return Json::parse(ss.str());
  }();
  return j;
}

StatusOr<ChatContext> Context(const Json& conv, const Json& g) {
  ChatContext c;
  FOUNDRY_ASSIGN_OR_RETURN(c.messages, JsonToMessages(conv["messages"]));
  if (conv.contains("tools") && !conv["tools"].is_null()) {
    FOUNDRY_ASSIGN_OR_RETURN(jinja::Value tools, JsonToValue(conv["tools"]));
    c.tools = tools;
  }
  c.add_generation_prompt = conv["add_generation_prompt"].get<bool>();
  c.bos_token = g["bos_token"].get<std::string>();
  c.eos_token = g["eos_token"].get<std::string>();
  c.now_unix_seconds = g["now_unix_seconds"].get<int64_t>();
  return c;
}

TEST(ChatTemplateGolden, CoversTheFixturesAndTheModels) {
  const Json& g = Goldens();
  for (const char* name :
       {"HuggingFaceTB-SmolLM3-3B", "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use",
        "Qwen-Qwen2.5-7B-Instruct", "deepseek-ai-DeepSeek-R1-Distill-Llama-8B",
        "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B", "google-gemma-2-2b-it",
        "meta-llama-Llama-3.2-3B-Instruct", "microsoft-Phi-3.5-mini-instruct",
        "mistralai-Mistral-Nemo-Instruct-2407", "SmolLM2-135M-Instruct"}) {
    EXPECT_TRUE(g["templates"].contains(name)) << name;
  }
  EXPECT_GT(g["cases"].size(), 300u);
}

TEST(ChatTemplateGolden, RendersMatchJinja2) {
  const Json& g = Goldens();
  std::map<std::string, ChatTemplate> parsed;
  int checked = 0, errors = 0;
  for (const auto& [name, source] : g["templates"].items()) {
    auto t = ChatTemplate::Parse(source.get<std::string>());
    ASSERT_TRUE(t.ok()) << name << ": " << t.status().message();
    parsed.emplace(name, std::move(*t));
  }
  for (const Json& c : g["cases"]) {
    const std::string tname = c["template"].get<std::string>();
    const std::string cname = c["conversation"].get<std::string>();
    SCOPED_TRACE(tname + " x " + cname);
    auto ctx = Context(g["conversations"][cname], g);
    ASSERT_TRUE(ctx.ok()) << ctx.status().message();
    auto out = parsed.at(tname).Render(*ctx);
    if (c.contains("expected")) {
      ASSERT_TRUE(out.ok()) << out.status().message();
      EXPECT_EQ(*out, c["expected"].get<std::string>());
    } else {
      ++errors;
      ASSERT_FALSE(out.ok()) << "rendered instead of failing with: "
                             << c["error"].get<std::string>() << "\n"
                             << *out;
      EXPECT_EQ(out.status().message(), c["error"].get<std::string>());
    }
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(g["cases"].size()));
  EXPECT_GT(errors, 0);
}

}  // namespace
}  // namespace foundry
