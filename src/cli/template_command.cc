// `foundry template render`: renders a chat template (from a GGUF model or a file) over a JSON
// conversation and prints the prompt text exactly, with no added newline.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "chat/chat_template.h"
#include "server/api/chat_json.h"
#include "cli/commands.h"
#include "format/gguf_file.h"
#include "tokenizer/vocab.h"

namespace foundry::cli {
namespace {

struct TemplateArgs {
  std::string model;
  std::string template_file;
  std::string bos_token;
  std::string eos_token;
  std::string messages_file;
  std::string tools_file;
  bool add_generation_prompt = false;
};

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound("cannot open " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return IoError("cannot read " + path);
  return ss.str();
}

StatusOr<nlohmann::ordered_json> ReadJson(const std::string& path) {
  FOUNDRY_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto j = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument(path + " is not valid JSON");
  return j;
}

// The template and bos/eos token texts of a GGUF model.
Status LoadFromModel(const std::string& path, std::string& source, std::string& bos,
                     std::string& eos) {
  FOUNDRY_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> gguf, GgufFile::Open(path));
  FOUNDRY_ASSIGN_OR_RETURN(std::optional<std::string_view> tmpl,
                           gguf->FindString("tokenizer.chat_template"));
  if (!tmpl) return NotFound(path + " has no tokenizer.chat_template");
  source = std::string(*tmpl);
  FOUNDRY_ASSIGN_OR_RETURN(Vocab vocab, Vocab::FromGguf(*gguf));
  if (vocab.bos() >= 0 && vocab.bos() < vocab.size()) bos = vocab.TokenText(vocab.bos());
  if (vocab.eos() >= 0 && vocab.eos() < vocab.size()) eos = vocab.TokenText(vocab.eos());
  return OkStatus();
}

int RunRender(const TemplateArgs& a) {
  std::string source;
  ChatContext ctx;
  if (!a.model.empty()) {
    Status st = LoadFromModel(a.model, source, ctx.bos_token, ctx.eos_token);
    if (!st.ok()) return ReportError(st);
  } else {
    auto text = ReadFile(a.template_file);
    if (!text.ok()) return ReportError(text.status());
    source = std::move(*text);
    ctx.bos_token = a.bos_token;
    ctx.eos_token = a.eos_token;
  }
  auto messages_json = ReadJson(a.messages_file);
  if (!messages_json.ok()) return ReportError(messages_json.status());
  auto messages = JsonToMessages(*messages_json);
  if (!messages.ok()) return ReportError(messages.status());
  ctx.messages = std::move(*messages);
  if (!a.tools_file.empty()) {
    auto tools_json = ReadJson(a.tools_file);
    if (!tools_json.ok()) return ReportError(tools_json.status());
    auto tools = JsonToValue(*tools_json);
    if (!tools.ok()) return ReportError(tools.status());
    ctx.tools = std::move(*tools);
  }
  ctx.add_generation_prompt = a.add_generation_prompt;
  auto tmpl = ChatTemplate::Parse(source);
  if (!tmpl.ok()) return ReportError(tmpl.status());
  auto out = tmpl->Render(ctx);
  if (!out.ok()) return ReportError(out.status());
  std::fwrite(out->data(), 1, out->size(), stdout);
  std::fflush(stdout);
  return 0;
}

}  // namespace

void AddTemplateCommand(CLI::App& app, int& exit_code) {
  CLI::App* group = app.add_subcommand("template", "Chat templates");
  group->require_subcommand(1);
  auto args = std::make_shared<TemplateArgs>();
  CLI::App* render = group->add_subcommand(
      "render", "Render a chat template over a JSON conversation (prints the prompt exactly)");
  auto* model = render->add_option("--model", args->model, "GGUF model whose template to use");
  auto* file = render->add_option("--template", args->template_file, "Jinja template file");
  model->excludes(file);
  render->add_option("--bos-token", args->bos_token, "bos_token text (with --template)")
      ->needs(file);
  render->add_option("--eos-token", args->eos_token, "eos_token text (with --template)")
      ->needs(file);
  render->add_option("--messages", args->messages_file, "JSON array of messages")->required();
  render->add_option("--tools", args->tools_file, "JSON array of tool definitions");
  render->add_flag("--add-generation-prompt", args->add_generation_prompt,
                   "End with the assistant turn's opening");
  render->callback([args, model, file, &exit_code] {
    if (model->count() == 0 && file->count() == 0) {
      exit_code = ReportError(InvalidArgument("template render needs --model or --template"));
      return;
    }
    exit_code = RunRender(*args);
  });
}

}  // namespace foundry::cli
