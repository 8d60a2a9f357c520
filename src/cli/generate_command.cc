// `foundry generate MODEL --prompt TEXT ...`: in-process generation from a GGUF file.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>

#include "cli/commands.h"
#include "foundry/engine.h"
#include "sampling/sampler.h"

namespace foundry::cli {
namespace {

struct GenerateArgs {
  std::string model;
  std::string prompt;
  std::string system;
  int64_t max_tokens = 256;
  SamplingParams sampling;
  int threads = 0;
  int64_t ctx = 0;
  bool raw = false;
  bool json = false;
  bool verbose = false;
  std::string grammar_file;      // GBNF
  std::string json_schema_file;  // JSON Schema
};

// The text of a --grammar / --json-schema file into the sampling parameters.
Status ReadConstraint(const std::string& path, std::string* out) {
  if (path.empty()) return OkStatus();
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound("cannot read '" + path + "'");
  std::ostringstream text;
  text << f.rdbuf();
  *out = text.str();
  return OkStatus();
}

double PeakRssMiB() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

int RunGenerate(const LoadOptions& load, const GenerateArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  auto lm = LanguageModel::Load(a.model, load);
  if (!lm.ok()) return ReportError(lm.status());
  const double load_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  EngineOptions opts;
  opts.n_threads = a.threads;
  opts.n_ctx = a.ctx;
  auto session = Session::Create(*lm, opts);
  if (!session.ok()) return ReportError(session.status());

  // Raw completion: the text as is, with the model's BOS rule. Otherwise the prompt is one
  // user message (after an optional system message) in the model's own chat template.
  std::vector<int32_t> prompt;
  if (a.raw) {
    prompt = (*lm)->Tokenize(a.prompt, /*add_special=*/true, /*parse_special=*/false);
  } else {
    std::vector<ChatTurn> messages;
    if (!a.system.empty()) messages.push_back({"system", a.system});
    messages.push_back({"user", a.prompt});
    auto text = (*lm)->FormatChat(messages);
    if (!text.ok()) return ReportError(text.status());
    prompt = (*lm)->TokenizeChat(*text);
  }
  std::vector<int32_t> completion;
  std::string output;
  auto stats = (*session)->Generate(prompt, a.sampling, a.max_tokens,
                                    [&](int32_t token, std::string_view piece) {
                                      if (token >= 0) completion.push_back(token);
                                      output += piece;
                                      if (!a.json) {
                                        std::fwrite(piece.data(), 1, piece.size(), stdout);
                                        std::fflush(stdout);
                                      }
                                      return true;
                                    });
  if (!stats.ok()) return ReportError(stats.status());
  if (a.json) {
    nlohmann::json j;
    j["prompt_tokens"] = prompt;
    j["completion_tokens"] = completion;
    j["text"] = output;
    j["finish_reason"] = stats->stopped_by_model ? "stop" : "length";
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("\n");
  }
  std::fflush(stdout);
  if (a.verbose) {
    const auto& s = *stats;
    std::fprintf(stderr, "load time:        %.3f s\n", load_s);
    std::fprintf(stderr, "prompt:           %lld tokens, %.2f tokens/s\n",
                 static_cast<long long>(s.prompt_tokens),
                 s.prompt_seconds > 0 ? s.prompt_tokens / s.prompt_seconds : 0.0);
    std::fprintf(stderr, "generation:       %lld tokens, %.2f tokens/s\n",
                 static_cast<long long>(s.generated_tokens),
                 s.generate_seconds > 0 ? s.generated_tokens / s.generate_seconds : 0.0);
    if (!a.sampling.grammar.empty() || !a.sampling.json_schema.empty()) {
      std::fprintf(stderr, "grammar:          %.3f s, %lld full masks\n", s.grammar_seconds,
                   static_cast<long long>(s.grammar_masks));
    }
    std::fprintf(stderr, "peak memory:      %.1f MiB\n", PeakRssMiB());
  }
  return 0;
}

}  // namespace

void AddGenerateCommand(CLI::App& app, const Environment& env, int& exit_code) {
  auto args = std::make_shared<GenerateArgs>();
  args->sampling.temperature = 0.8f;
  CLI::App* cmd = app.add_subcommand("generate", "Generate text from a GGUF model, in-process");
  cmd->add_option("model", args->model, "Path to a GGUF model file")->required();
  cmd->add_option("-p,--prompt", args->prompt, "Prompt: the user message, or plain text with --raw")
      ->required();
  cmd->add_option("-s,--system", args->system, "System message (chat format only)");
  cmd->add_option("-n,--max-tokens", args->max_tokens, "Maximum tokens to generate")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  cmd->add_option("--temperature", args->sampling.temperature, "Sampling temperature (0: greedy)");
  cmd->add_option("--top-k", args->sampling.top_k, "Top-k (0: off)");
  cmd->add_option("--top-p", args->sampling.top_p, "Top-p (1: off)");
  cmd->add_option("--min-p", args->sampling.min_p, "Min-p (0: off)");
  cmd->add_option("--repeat-penalty", args->sampling.repeat_penalty, "Repetition penalty (1: off)");
  cmd->add_option("--presence-penalty", args->sampling.presence_penalty, "Presence penalty");
  cmd->add_option("--frequency-penalty", args->sampling.frequency_penalty, "Frequency penalty");
  cmd->add_option("--seed", args->sampling.seed, "Random seed");
  cmd->add_option("-t,--threads", args->threads, "Threads (default: all cores)")
      ->check(CLI::Range(0, 512));
  cmd->add_option("-c,--ctx-size", args->ctx, "Context size (default: model's, at most 4096)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  cmd->add_flag("--raw", args->raw, "Plain text completion (no chat template)");
  cmd->add_flag("--json", args->json,
                "Print one JSON object: prompt_tokens, completion_tokens, text");
  cmd->add_flag("--verbose", args->verbose, "Print load time, speeds and peak memory to stderr");
  cmd->add_option("--grammar", args->grammar_file,
                  "Constrain the output to a GBNF grammar file (docs/structured-output.md)");
  cmd->add_option("--json-schema", args->json_schema_file,
                  "Constrain the output to JSON valid against a JSON Schema file");
  cmd->callback([&env, args, &exit_code] {
    if (args->raw && !args->system.empty()) {
      exit_code = ReportError(InvalidArgument("--system needs the chat format (drop --raw)"));
      return;
    }
    Status st = ReadConstraint(args->grammar_file, &args->sampling.grammar);
    if (st.ok()) st = ReadConstraint(args->json_schema_file, &args->sampling.json_schema);
    if (st.ok()) st = Sampler::Validate(args->sampling);
    exit_code = st.ok() ? RunGenerate(ModelLoadOptions(env), *args) : ReportError(st);
  });
}

}  // namespace foundry::cli
