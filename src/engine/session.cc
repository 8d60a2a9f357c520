// Session: one sequence on a one-sequence Context.
#include <algorithm>
#include <chrono>
#include <cmath>

#include "engine/context.h"
#include "engine/sequence_generator.h"
#include "foundry/engine.h"

namespace foundry {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

struct Session::State {
  EngineOptions options;
  std::unique_ptr<Context> ctx;
  Batch batch;
};

Session::Session(std::unique_ptr<State> state) : s_(std::move(state)) {}
Session::~Session() = default;

StatusOr<std::unique_ptr<Session>> Session::Create(std::shared_ptr<const LanguageModel> lm,
                                                   const EngineOptions& options) {
  auto st = std::make_unique<State>();
  st->options = options;
  ContextOptions co;
  co.n_seq = 1;
  co.n_ctx = options.n_ctx;
  co.kv_budget_bytes = options.kv_budget_bytes;
  co.n_threads = options.n_threads;
  FOUNDRY_ASSIGN_OR_RETURN(st->ctx, Context::Create(std::move(lm), co));
  if (options.n_batch <= 0) return InvalidArgument("context and batch sizes must be positive");
  return std::unique_ptr<Session>(new Session(std::move(st)));
}

int64_t Session::n_ctx() const { return s_->ctx->n_ctx(); }
int64_t Session::position() const { return s_->ctx->SeqLength(0); }
void Session::Reset() { s_->ctx->ClearAll(); }
void Session::Truncate(int64_t keep) { s_->ctx->Truncate(0, keep); }

Status Session::Evaluate(const std::vector<int32_t>& tokens, bool all_logits,
                         std::vector<float>* logits) {
  const int64_t start = position();
  if (start + static_cast<int64_t>(tokens.size()) > n_ctx()) {
    return OutOfRange("the prompt needs " + std::to_string(start + tokens.size()) +
                      " tokens but the context holds " + std::to_string(n_ctx()));
  }
  if (logits) logits->clear();
  Context& ctx = *s_->ctx;
  for (size_t begin = 0; begin < tokens.size(); begin += s_->options.n_batch) {
    const size_t end = std::min(tokens.size(), begin + static_cast<size_t>(s_->options.n_batch));
    Batch& b = s_->batch;
    b.Clear();
    for (size_t i = begin; i < end; ++i) {
      b.Add(tokens[i], static_cast<int32_t>(start + i), 0, all_logits || i + 1 == tokens.size());
    }
    FOUNDRY_RETURN_IF_ERROR(ctx.Decode(b));
    if (logits) logits->insert(logits->end(), ctx.all_logits().begin(), ctx.all_logits().end());
  }
  return OkStatus();
}

StatusOr<std::vector<float>> Session::Embed(const std::vector<int32_t>& tokens) {
  if (tokens.empty()) return InvalidArgument("the input is empty");
  if (static_cast<int64_t>(tokens.size()) > n_ctx()) {
    return OutOfRange("the input needs " + std::to_string(tokens.size()) +
                      " tokens but the context holds " + std::to_string(n_ctx()));
  }
  Context& ctx = *s_->ctx;
  const int64_t E = ctx.model().n_embd();
  Reset();
  // Summed in double so the mean does not depend on how the tokens were split into batches.
  std::vector<double> sum(static_cast<size_t>(E), 0.0);
  for (size_t begin = 0; begin < tokens.size(); begin += s_->options.n_batch) {
    const size_t end = std::min(tokens.size(), begin + static_cast<size_t>(s_->options.n_batch));
    Batch& b = s_->batch;
    b.Clear();
    for (size_t i = begin; i < end; ++i) b.Add(tokens[i], static_cast<int32_t>(i), 0, true);
    const Status st = ctx.DecodeHidden(b);
    if (!st.ok()) {
      Reset();
      return st;
    }
    for (size_t t = 0; t < b.size(); ++t) {
      const float* row = ctx.Hidden(static_cast<int>(t));
      for (int64_t i = 0; i < E; ++i) sum[i] += row[i];
    }
  }
  Reset();
  double norm = 0;
  for (double& v : sum) {
    v /= static_cast<double>(tokens.size());
    norm += v * v;
  }
  norm = std::sqrt(norm);
  std::vector<float> out(sum.size());
  for (size_t i = 0; i < sum.size(); ++i) {
    out[i] = static_cast<float>(norm > 0 ? sum[i] / norm : 0.0);
  }
  return out;
}

StatusOr<std::vector<float>> Session::Embed(std::string_view text) {
  return Embed(s_->ctx->model().Tokenize(text, true, false));
}

StatusOr<GenerationStats> Session::Generate(
    const std::vector<int32_t>& prompt, const SamplingParams& params, int64_t max_tokens,
    const std::function<bool(int32_t, std::string_view)>& on_token) {
  if (prompt.empty()) return InvalidArgument("the prompt is empty");
  // A Session generates nothing for max_tokens <= 0 (the generator reads < 0 as "no limit").
  FOUNDRY_ASSIGN_OR_RETURN(
      SequenceGenerator gen,
      SequenceGenerator::Create(s_->ctx->model(), params, std::max<int64_t>(max_tokens, 0)));
  gen.AcceptPrompt(prompt);
  GenerationStats stats;
  stats.prompt_tokens = static_cast<int64_t>(prompt.size());
  auto t0 = std::chrono::steady_clock::now();
  std::vector<float> logits;
  FOUNDRY_RETURN_IF_ERROR(Evaluate(prompt, false, &logits));
  stats.prompt_seconds = Seconds(t0);

  auto t1 = std::chrono::steady_clock::now();
  while (!gen.LimitReached()) {
    const TokenStep step = gen.Next(logits.data(), position() >= n_ctx());
    if (step.token < 0) {
      stats.stopped_by_model = true;
      break;
    }
    stats.generated_tokens = gen.generated();
    if (on_token && !on_token(step.token, step.text)) break;
    if (step.finished) break;
    FOUNDRY_RETURN_IF_ERROR(Evaluate({step.token}, false, &logits));
  }
  // Bytes of an incomplete character at the very end: pass them on with token id -1.
  bool stopped = false;
  const std::string rest = gen.Flush(&stopped);
  if (!rest.empty() && on_token) on_token(-1, rest);
  stats.generate_seconds = Seconds(t1);
  if (const GrammarConstraint* g = gen.grammar()) {
    stats.grammar_seconds = g->seconds();
    stats.grammar_masks = g->masks();
  }
  return stats;
}

}  // namespace foundry
