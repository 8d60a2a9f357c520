#include "server/openai_routes.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>

#include "foundry/engine.h"
#include "server/api/openai_request.h"
#include "server/api/openai_response.h"
#include "server/http_reply.h"

namespace foundry {
namespace {

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string NewId(const char* prefix) {
  static std::atomic<uint64_t> counter{0};
  return std::string(prefix) + std::to_string(UnixNow()) + "-" +
         std::to_string(counter.fetch_add(1));
}

TokenUsage UsageOf(const GenerationResult& r) {
  return {r.prompt_tokens, r.completion_tokens, r.cached_tokens};
}

// What the scheduler's thread hands to one HTTP request's thread.
struct StreamState {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> pieces;  // streamed answers: text not yet sent
  std::string text;                // whole answers: everything
  bool done = false;
  GenerationResult result;
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
};

// The generation request for the scheduler: the prompt's tokens and the callbacks that fill
// `st` (pieces when streaming, else the whole text).
StatusOr<GenerationRequest> ToGeneration(const CompletionRequest& r, const LanguageModel& lm,
                                         std::shared_ptr<StreamState> st) {
  GenerationRequest g;
  if (r.chat) {
    FOUNDRY_ASSIGN_OR_RETURN(std::string text, lm.FormatChat(r.messages));
    g.prompt = lm.TokenizeChat(text);
  } else if (r.prompt_is_tokens) {
    g.prompt = r.prompt_tokens;
  } else {
    g.prompt = lm.Tokenize(r.prompt, true, false);
  }
  g.sampling = r.sampling;
  g.max_tokens = r.max_tokens;
  g.stop = r.stop;
  g.cancelled = st->cancelled;
  const bool stream = r.stream;
  g.on_text = [st, stream](std::string_view text) {
    std::lock_guard<std::mutex> l(st->mu);
    if (stream) {
      st->pieces.emplace_back(text);
    } else {
      st->text.append(text);
    }
    st->cv.notify_all();
  };
  g.on_done = [st](const GenerationResult& result) {
    std::lock_guard<std::mutex> l(st->mu);
    st->result = result;
    st->done = true;
    st->cv.notify_all();
  };
  return g;
}

// Waits for a whole answer and writes it (or its error).
void ReplyWhole(httplib::Response& res, StreamState& st, const CompletionMeta& meta) {
  std::unique_lock<std::mutex> l(st.mu);
  st.cv.wait(l, [&] { return st.done; });
  const GenerationResult& result = st.result;
  if (result.finish_reason == FinishReason::kError) {
    ApiError e = ErrorFromStatus(result.status);
    e.http = 500;
    e.type = "server_error";
    return ReplyError(res, e);
  }
  if (result.finish_reason == FinishReason::kCancelled) {
    ApiError e = ServerError("the model was unloaded while generating; retry");
    e.http = 503;
    return ReplyError(res, e);
  }
  ReplyJson(res,
            CompletionBody(meta, st.text, FinishReasonName(result.finish_reason), UsageOf(result)));
}

// Streams the answer as server-sent events. Each call of the content provider sends what the
// scheduler produced since the last one (waiting at most 200 ms); closing the connection sets
// the cancellation flag the scheduler checks every step. The lease keeps the model loaded
// until the stream ends.
void ReplyStream(httplib::Response& res, std::shared_ptr<StreamState> st,
                 std::shared_ptr<const CompletionMeta> meta,
                 std::shared_ptr<ModelManager::Lease> lease) {
  auto sent_role = std::make_shared<bool>(false);
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [st, meta, lease, sent_role](size_t, httplib::DataSink& sink) -> bool {
        std::deque<std::string> pieces;
        bool done = false;
        GenerationResult result;
        {
          std::unique_lock<std::mutex> l(st->mu);
          st->cv.wait_for(l, std::chrono::milliseconds(200),
                          [&] { return !st->pieces.empty() || st->done; });
          pieces.swap(st->pieces);
          done = st->done;
          if (done) result = st->result;
        }
        auto write = [&](const std::string& s) { return sink.write(s.data(), s.size()); };
        if (meta->chat && !*sent_role) {
          *sent_role = true;
          if (!write(SseRoleChunk(*meta))) return false;
        }
        for (const std::string& p : pieces) {
          if (!write(SseTextChunk(*meta, p))) return false;
        }
        if (!done) return true;
        if (result.finish_reason == FinishReason::kError) {
          write(SseError(ServerError(result.status.message())));
        } else if (result.finish_reason == FinishReason::kCancelled) {
          write(SseError(ServerError("the generation was cancelled (the model was unloaded)")));
        } else {
          if (!write(SseFinishChunk(*meta, FinishReasonName(result.finish_reason)))) return false;
          if (meta->include_usage && !write(SseUsageChunk(*meta, UsageOf(result)))) return false;
        }
        write(std::string(kSseDone));
        sink.done();
        return true;
      },
      [st](bool) { st->cancelled->store(true); });
}

}  // namespace

void OpenAiRoutes::AddTo(httplib::Server& http) {
  http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    HandleGeneration(req, res, /*chat=*/true);
  });
  http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    HandleGeneration(req, res, /*chat=*/false);
  });
  http.Post(
      "/v1/chat/completions/tokenizer/encode/count",
      [this](const httplib::Request& req, httplib::Response& res) { HandleTokenCount(req, res); });
  http.Post("/v1/embeddings", [this](const httplib::Request& req, httplib::Response& res) {
    HandleEmbeddings(req, res);
  });
}

void OpenAiRoutes::HandleGeneration(const httplib::Request& req, httplib::Response& res,
                                    bool chat) {
  CompletionRequest r;
  if (auto e =
          chat ? ParseChatCompletionRequest(req.body, &r) : ParseCompletionRequest(req.body, &r)) {
    return ReplyError(res, *e);
  }
  auto lease_or = models_.Acquire(r.model, r.ttl_s);
  if (!lease_or.ok()) return ReplyError(res, ErrorFromStatus(lease_or.status()));
  auto lease = std::make_shared<ModelManager::Lease>(std::move(lease_or).value());
  Scheduler& sched = lease->scheduler();

  auto st = std::make_shared<StreamState>();
  auto g = ToGeneration(r, sched.model(), st);
  if (!g.ok()) return ReplyError(res, ErrorFromStatus(g.status()));
  if (g->prompt.empty()) return ReplyError(res, InvalidRequest("prompt", "the prompt is empty"));
  SubmitResult sub = sched.Submit(std::move(g).value());
  if (sub.queue_full) return ReplyError(res, ServerBusy(sub.status.message()));
  if (!sub.ok()) {
    ApiError e = ErrorFromStatus(sub.status);
    if (sub.status.code() == StatusCode::kOutOfRange) e.param = chat ? "messages" : "prompt";
    return ReplyError(res, e);
  }

  auto meta = std::make_shared<CompletionMeta>();
  meta->id = NewId(chat ? "chatcmpl-" : "cmpl-");
  meta->model = r.model;
  meta->created = UnixNow();
  meta->chat = chat;
  meta->include_usage = r.include_usage;
  if (!r.stream) return ReplyWhole(res, *st, *meta);
  ReplyStream(res, st, meta, lease);
}

void OpenAiRoutes::HandleTokenCount(const httplib::Request& req, httplib::Response& res) {
  TokenCountRequest r;
  if (auto e = ParseTokenCountRequest(req.body, &r)) return ReplyError(res, *e);
  auto lease = models_.Acquire(r.model);
  if (!lease.ok()) return ReplyError(res, ErrorFromStatus(lease.status()));
  const LanguageModel& lm = lease->scheduler().model();
  auto text = lm.FormatChat(r.messages);
  if (!text.ok()) return ReplyError(res, ErrorFromStatus(text.status()));
  ReplyJson(res, TokenCountBody(static_cast<int64_t>(lm.TokenizeChat(*text).size())));
}

void OpenAiRoutes::HandleEmbeddings(const httplib::Request& req, httplib::Response& res) {
  EmbeddingRequest r;
  if (auto e = ParseEmbeddingRequest(req.body, &r)) return ReplyError(res, *e);
  auto lease = models_.Acquire(r.model);
  if (!lease.ok()) return ReplyError(res, ErrorFromStatus(lease.status()));
  const Scheduler& sched = lease->scheduler();
  const LanguageModel& lm = sched.model();
  const int64_t n_embd = lm.n_embd();
  if (r.dimensions && *r.dimensions != n_embd) {
    return ReplyError(
        res, InvalidRequest("dimensions", "this model's embeddings have " + std::to_string(n_embd) +
                                              " dimensions"));
  }

  auto param_of = [&](size_t i) {
    return r.inputs.size() == 1 ? std::string("input") : "input[" + std::to_string(i) + "]";
  };
  int64_t total = 0;
  for (size_t i = 0; i < r.inputs.size(); ++i) {
    EmbeddingInput& in = r.inputs[i];
    if (!in.is_tokens) in.tokens = lm.Tokenize(in.text, true, false);
    const std::string param = param_of(i);
    if (in.tokens.empty())
      return ReplyError(res, InvalidRequest(param, "'" + param + "' is empty"));
    const int64_t n = static_cast<int64_t>(in.tokens.size());
    if (n > sched.n_ctx()) {
      ApiError e = InvalidRequest(param, "'" + param + "' has " + std::to_string(n) +
                                             " tokens but the context holds " +
                                             std::to_string(sched.n_ctx()));
      e.code = "context_length_exceeded";
      return ReplyError(res, e);
    }
    total += n;
  }

  std::lock_guard<std::mutex> l(embed_mu_);
  EngineOptions eo;
  eo.n_threads = options_.models.scheduler.n_threads;
  eo.n_ctx = sched.n_ctx();  // as for generation (Phi-3's LongRoPE factors depend on it)
  eo.n_batch = options_.models.scheduler.n_batch;
  auto session = Session::Create(sched.shared_model(), eo);
  if (!session.ok()) return ReplyError(res, ErrorFromStatus(session.status()));
  std::vector<std::vector<float>> vectors;
  for (size_t i = 0; i < r.inputs.size(); ++i) {
    auto v = (*session)->Embed(r.inputs[i].tokens);
    if (!v.ok()) {
      ApiError e = ErrorFromStatus(v.status());
      e.param = param_of(i);
      return ReplyError(res, e);
    }
    vectors.push_back(std::move(v).value());
  }
  ReplyJson(res, EmbeddingsBody(r.model, vectors, r.base64, total));
}

}  // namespace foundry
