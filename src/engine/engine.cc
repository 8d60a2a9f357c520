#include "foundry/engine.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>

#include "base/thread_pool.h"
#include "format/gguf_file.h"
#include "kernels/kernels.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8_stream.h"

namespace foundry {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

int DefaultThreads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

// Weights are read into huge pages when the file takes at most a quarter of the machine's
// memory (decoding streams them all for every token; see MappedFile::ReadIntoHugePages), and
// mapped otherwise, or when FOUNDRY_MMAP=1 asks for the map (pages shared between processes
// and left to the page cache).
StatusOr<std::unique_ptr<GgufFile>> OpenWeights(const std::string& path) {
  const char* force_map = std::getenv("FOUNDRY_MMAP");
  if (force_map != nullptr && std::string_view(force_map) == "1") return GgufFile::Open(path);
  struct stat st;
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  if (::stat(path.c_str(), &st) == 0 && pages > 0 && page > 0 &&
      static_cast<double>(st.st_size) <= 0.25 * static_cast<double>(pages) * page) {
    return GgufFile::OpenInHugePages(path);
  }
  return GgufFile::Open(path);
}

}  // namespace

StatusOr<std::shared_ptr<LanguageModel>> LanguageModel::Load(const std::string& path,
                                                             const LoadOptions& options) {
  std::string warning;
  const Isa isa = ResolveIsa(options.isa, BestSupportedIsa(), DefaultIsa(), &warning);
  if (!warning.empty()) std::fprintf(stderr, "foundry: %s\n", warning.c_str());
  FOUNDRY_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, OpenWeights(path));
  std::shared_ptr<LanguageModel> lm(new LanguageModel());
  lm->gguf_ = std::move(file);
  auto model = Model::Load(lm->gguf_, *KernelsForIsa(isa));
  if (!model.ok()) return Status(model.status().code(), path + ": " + model.status().message());
  lm->model_ = std::move(model).value();
  auto tok = Tokenizer::Create(*lm->gguf_);
  if (!tok.ok()) return Status(tok.status().code(), path + ": " + tok.status().message());
  lm->tokenizer_ = std::move(tok).value();
  return lm;
}

LanguageModel::~LanguageModel() = default;

int64_t LanguageModel::n_vocab() const { return model_->hparams().n_vocab; }
int64_t LanguageModel::n_ctx_train() const { return model_->hparams().n_ctx_train; }
int64_t LanguageModel::n_embd() const { return model_->hparams().n_embd; }
std::string_view LanguageModel::isa() const { return IsaName(model_->kernels().isa); }

std::vector<int32_t> LanguageModel::Tokenize(std::string_view text, bool add_special,
                                             bool parse_special) const {
  return tokenizer_->Encode(text, add_special, parse_special);
}

struct Session::State {
  std::shared_ptr<const LanguageModel> lm;
  EngineOptions options;
  std::unique_ptr<KvCache> kv;
  Workspace ws;
  std::unique_ptr<ThreadPool> pool;
  Batch batch;
  std::vector<float> logits;
  std::vector<float> hidden;
};

Session::Session(std::unique_ptr<State> state) : s_(std::move(state)) {}
Session::~Session() = default;

StatusOr<std::unique_ptr<Session>> Session::Create(std::shared_ptr<const LanguageModel> lm,
                                                   const EngineOptions& options) {
  if (options.n_threads < 0 || options.n_threads > 512) {
    return InvalidArgument("thread count must be between 1 and 512");
  }
  if (options.n_ctx < 0 || options.n_batch <= 0) {
    return InvalidArgument("context and batch sizes must be positive");
  }
  auto st = std::make_unique<State>();
  st->options = options;
  if (st->options.n_threads == 0) st->options.n_threads = DefaultThreads();
  if (st->options.n_ctx == 0) st->options.n_ctx = std::min<int64_t>(lm->n_ctx_train(), 4096);
  st->kv = lm->model().NewKvCache(1, st->options.n_ctx);
  st->pool = std::make_unique<ThreadPool>(st->options.n_threads);
  st->lm = std::move(lm);
  return std::unique_ptr<Session>(new Session(std::move(st)));
}

int64_t Session::n_ctx() const { return s_->kv->n_ctx(); }
int64_t Session::position() const { return s_->kv->SeqLength(0); }
void Session::Reset() { s_->kv->Clear(); }

Status Session::Evaluate(const std::vector<int32_t>& tokens, bool all_logits,
                         std::vector<float>* logits) {
  const int64_t n_vocab = s_->lm->n_vocab();
  const int64_t start = position();
  if (start + static_cast<int64_t>(tokens.size()) > n_ctx()) {
    return OutOfRange("the prompt needs " + std::to_string(start + tokens.size()) +
                      " tokens but the context holds " + std::to_string(n_ctx()));
  }
  if (logits) logits->clear();
  for (size_t begin = 0; begin < tokens.size(); begin += s_->options.n_batch) {
    const size_t end = std::min(tokens.size(), begin + static_cast<size_t>(s_->options.n_batch));
    Batch& b = s_->batch;
    b.Clear();
    for (size_t i = begin; i < end; ++i) {
      b.Add(tokens[i], static_cast<int32_t>(start + i), 0, all_logits || i + 1 == tokens.size());
    }
    s_->logits.resize(static_cast<size_t>(b.NumLogits()) * n_vocab);
    FOUNDRY_RETURN_IF_ERROR(
        s_->lm->model().Forward(b, *s_->kv, s_->ws, *s_->pool, s_->logits.data()));
    if (logits) logits->insert(logits->end(), s_->logits.begin(), s_->logits.end());
  }
  return OkStatus();
}

StatusOr<std::vector<float>> Session::Embed(const std::vector<int32_t>& tokens) {
  if (tokens.empty()) return InvalidArgument("the input is empty");
  if (static_cast<int64_t>(tokens.size()) > n_ctx()) {
    return OutOfRange("the input needs " + std::to_string(tokens.size()) +
                      " tokens but the context holds " + std::to_string(n_ctx()));
  }
  const int64_t E = s_->lm->n_embd();
  Reset();
  // Summed in double so the mean does not depend on how the tokens were split into batches.
  std::vector<double> sum(static_cast<size_t>(E), 0.0);
  for (size_t begin = 0; begin < tokens.size(); begin += s_->options.n_batch) {
    const size_t end = std::min(tokens.size(), begin + static_cast<size_t>(s_->options.n_batch));
    Batch& b = s_->batch;
    b.Clear();
    for (size_t i = begin; i < end; ++i) b.Add(tokens[i], static_cast<int32_t>(i), 0, true);
    s_->hidden.resize(b.size() * static_cast<size_t>(E));
    const Status st =
        s_->lm->model().Forward(b, *s_->kv, s_->ws, *s_->pool, nullptr, s_->hidden.data());
    if (!st.ok()) {
      Reset();
      return st;
    }
    for (size_t t = 0; t < b.size(); ++t) {
      const float* row = s_->hidden.data() + t * E;
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
  return Embed(s_->lm->Tokenize(text, true, false));
}

StatusOr<GenerationStats> Session::Generate(
    const std::vector<int32_t>& prompt, const SamplingParams& params, int64_t max_tokens,
    const std::function<bool(int32_t, std::string_view)>& on_token) {
  if (prompt.empty()) return InvalidArgument("the prompt is empty");
  FOUNDRY_ASSIGN_OR_RETURN(Sampler sampler, Sampler::Create(params, s_->lm->n_vocab()));
  for (int32_t t : prompt) sampler.Accept(t);
  GenerationStats stats;
  stats.prompt_tokens = static_cast<int64_t>(prompt.size());
  auto t0 = std::chrono::steady_clock::now();
  std::vector<float> logits;
  FOUNDRY_RETURN_IF_ERROR(Evaluate(prompt, false, &logits));
  stats.prompt_seconds = Seconds(t0);

  const Tokenizer& tok = s_->lm->tokenizer();
  Utf8StreamDecoder decoder;
  auto t1 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < max_tokens; ++i) {
    const int32_t next = sampler.Sample(logits.data());
    if (tok.IsEndOfGeneration(next)) {
      stats.stopped_by_model = true;
      break;
    }
    sampler.Accept(next);
    ++stats.generated_tokens;
    const std::string text = decoder.Push(tok.TokenToPiece(next));
    if (on_token && !on_token(next, text)) break;
    if (i + 1 == max_tokens) break;
    if (position() >= n_ctx()) break;  // context full: stop like the token limit
    FOUNDRY_RETURN_IF_ERROR(Evaluate({next}, false, &logits));
  }
  // Bytes of an incomplete character at the very end: pass them on with token id -1.
  const std::string rest = decoder.Flush();
  if (!rest.empty() && on_token) on_token(-1, rest);
  stats.generate_seconds = Seconds(t1);
  return stats;
}

}  // namespace foundry
