// `foundry perplexity MODEL.gguf TEXT`: the model's perplexity over a text file, computed as
// llama.cpp's llama-perplexity computes it (src/eval/perplexity.h), so the two compare; with
// --save-logprobs the log-probabilities are kept, and with --kl-base another model (a
// quantization, say) is compared with them token by token.
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "eval/kl_divergence.h"
#include "eval/log_prob_file.h"
#include "eval/perplexity.h"
#include "foundry/engine.h"

namespace foundry::cli {
namespace {

struct PerplexityArgs {
  std::string model, text_file, save_logprobs, kl_base;
  eval::PerplexityOptions options;
  bool json = false;
};

StatusOr<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read the text file " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int RunPerplexity(const LoadOptions& load, const PerplexityArgs& a) {
  if (!a.save_logprobs.empty() && !a.kl_base.empty()) {
    return ReportError(
        InvalidArgument("use --save-logprobs (reference run) or --kl-base "
                        "(comparison run), not both"));
  }
  auto text = ReadText(a.text_file);
  if (!text.ok()) return ReportError(text.status());
  auto lm = LanguageModel::Load(a.model, load);
  if (!lm.ok()) return ReportError(lm.status());
  auto plan = eval::PlanChunks(**lm, *text, a.options);
  if (!plan.ok()) return ReportError(plan.status());
  const int64_t n_vocab = (*lm)->n_vocab();

  std::unique_ptr<eval::LogProbWriter> writer;
  std::unique_ptr<eval::LogProbReader> reader;
  eval::KlDivergence kld;
  std::vector<float> reference;
  eval::LogitsObserver observe;
  if (!a.save_logprobs.empty()) {
    auto w = eval::LogProbWriter::Create(a.save_logprobs, *plan, n_vocab);
    if (!w.ok()) return ReportError(w.status());
    writer = std::move(*w);
    observe = [&](std::span<const float> logits, int32_t) { return writer->Append(logits); };
  } else if (!a.kl_base.empty()) {
    auto r = eval::LogProbReader::Open(a.kl_base, *plan, n_vocab);
    if (!r.ok()) return ReportError(r.status());
    reader = std::move(*r);
    observe = [&](std::span<const float> logits, int32_t next) {
      FOUNDRY_RETURN_IF_ERROR(reader->Next(&reference));
      kld.Add(reference, logits, next);
      return OkStatus();
    };
  }
  if (!a.json) {
    std::fprintf(stderr,
                 "perplexity: the text is %lld tokens; %lld chunks of %lld tokens, %lld "
                 "tokens scored each\n",
                 static_cast<long long>(plan->n_text_tokens),
                 static_cast<long long>(plan->n_chunks), static_cast<long long>(plan->n_ctx),
                 static_cast<long long>(plan->scored_per_chunk()));
  }
  const auto progress = [&a](int64_t done, double ppl) {
    if (a.json) return;
    std::printf("[%lld]%.4f,", static_cast<long long>(done), ppl);
    std::fflush(stdout);
  };
  auto result = eval::Perplexity(*lm, *plan, a.options, observe, progress);
  if (!result.ok()) return ReportError(result.status());
  if (writer) {
    if (Status st = writer->Close(); !st.ok()) return ReportError(st);
  }
  const eval::KlSummary kl = kld.Summary();
  if (a.json) {
    nlohmann::json out = {{"model", a.model},           {"ctx", plan->n_ctx},
                          {"chunks", result->n_chunks}, {"tokens_scored", result->n_scored},
                          {"perplexity", result->ppl},  {"perplexity_stderr", result->ppl_stderr}};
    if (reader) {
      out["kl_divergence"] = {{"mean", kl.mean_kld},
                              {"stderr", kl.kld_stderr},
                              {"top1_agreement", kl.top1_agreement},
                              {"reference_perplexity", kl.reference_ppl}};
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("\nFinal estimate: PPL = %.4f +/- %.5f\n", result->ppl, result->ppl_stderr);
  if (reader) {
    std::printf("Reference PPL: %.4f (ratio %.4f)\n", kl.reference_ppl,
                result->ppl / kl.reference_ppl);
    std::printf("Mean KL divergence: %.6f +/- %.6f\n", kl.mean_kld, kl.kld_stderr);
    std::printf("Same top token: %.2f%%\n", 100.0 * kl.top1_agreement);
  }
  if (writer) std::printf("Log-probabilities saved to %s\n", a.save_logprobs.c_str());
  return 0;
}

}  // namespace

void AddPerplexityCommand(CLI::App& app, const Environment& env, int& exit_code) {
  auto args = std::make_shared<PerplexityArgs>();
  CLI::App* cmd = app.add_subcommand(
      "perplexity", "Perplexity of a GGUF model over a text file (as llama-perplexity)");
  cmd->add_option("model", args->model, "Path to a GGUF model file")->required();
  cmd->add_option("file", args->text_file, "Text file to score")->required();
  cmd->add_option("-c,--ctx", args->options.n_ctx, "Tokens per chunk; the second half is scored")
      ->check(CLI::Range(int64_t{4}, int64_t{1} << 20));
  cmd->add_option("-b,--batch", args->options.n_batch, "Tokens per forward pass")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--chunks", args->options.max_chunks, "Score at most this many chunks (0: all)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  cmd->add_option("-t,--threads", args->options.n_threads, "Threads (default: all cores)")
      ->check(CLI::Range(0, 512));
  cmd->add_option("--save-logprobs", args->save_logprobs,
                  "Write the log-probabilities to this file, as the reference of a --kl-base run");
  cmd->add_option("--kl-base", args->kl_base,
                  "Compare with a reference's --save-logprobs file: KL divergence, same top token");
  cmd->add_flag("--json", args->json, "Print one JSON object instead of the running estimate");
  cmd->callback(
      [&env, args, &exit_code] { exit_code = RunPerplexity(ModelLoadOptions(env), *args); });
}

}  // namespace foundry::cli
